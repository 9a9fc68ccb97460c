// cgroup settings of the container (linux.resources apart from devices), its cgroup path and its
// OOM score.
//
// LinuxContainerResources maps field by field. A zero or empty field is left unset, so the
// cgroup keeps the kernel's default. When only a memory limit is given and the host accounts
// swap, swap gets the same value, so the container cannot swap (as CRI-O sets it). A
// memory_swap_limit_in_bytes replaces that value. Huge page limits are dropped when the host has
// no hugetlb controller, as CRI-O does and as containerd does with its default
// tolerate_missing_hugetlb_controller = true. `unified` (cgroup v2 files) needs a host on cgroup
// v2 alone. On a v1 or hybrid host a non-empty map fails with FAILED_PRECONDITION: CRI-O drops it
// silently there, and containerd passes it on to runc, which then refuses to start.

#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cri/api.pb.h"

namespace crio::cri::oci {

// Smallest memory limit accepted: CRI-O's default container_min_memory, below which runc and the
// container's first process may not start at all.
constexpr int64_t MIN_MEMORY_LIMIT_BYTES = 12 << 20;
// Bound on the entries of `unified` and on each value.
constexpr size_t MAX_UNIFIED_ENTRIES = 64;
constexpr size_t MAX_UNIFIED_VALUE_BYTES = 4096;

struct ResourceHost {
  bool cgroupV2 = false;           // /sys/fs/cgroup is cgroup2 (the unified hierarchy)
  bool swapAccounting = false;     // memory.memsw (v1) or memory.swap.max (v2) exists
  bool hugetlbController = false;  // the hugetlb controller is available
};

// linux.resources without "devices". `pidsLimit` is [crio.runtime] pids_limit (used when > 0).
// Throws INVALID_ARGUMENT naming resources.FIELD and the value for an out-of-range or malformed
// field.
nlohmann::json buildResources(const runtime::v1::LinuxContainerResources& resources,
                              int64_t pidsLimit, const ResourceHost& host);

// Returns the OOM score to give the process. `requested` must be in -1000..1000, else the call
// throws INVALID_ARGUMENT. A score below `daemonScore`, the daemon's own oom_score_adj, is raised
// to it. Lowering a score needs CAP_SYS_RESOURCE, which the daemon may lack, and runc then fails
// with "permission denied". A container should also not be less likely to be OOM-killed than the
// runtime itself. containerd's restrict_oom_score_adj does the same.
int clampOomScoreAdj(int64_t requested, int daemonScore);

// linux.cgroupsPath: "PARENT/crio-ID" for the cgroupfs manager (PARENT absolute, default
// "/crio"), "PARENT:crio:ID" for the systemd manager (PARENT a slice, default "system.slice"),
// which runc turns into the unit crio-ID.scope under that slice. Throws INVALID_ARGUMENT for a
// parent that does not suit the manager.
std::string buildCgroupsPath(const std::string& manager, const std::string& parent,
                             const std::string& containerId);

}  // namespace crio::cri::oci
