// Paths under /proc and /sys that the container must not read (masked: runc mounts /dev/null or
// an empty read-only tmpfs over them) or must not write (bound read-only).
//
// The defaults are CRI-O's: they hide kernel memory and key material (/proc/kcore, /proc/keys),
// timing side channels (/proc/timer_list, /proc/sched_debug, /proc/latency_stats) and hardware
// interfaces (/proc/acpi, /proc/scsi, /sys/firmware, /sys/devices/virtual/powercap), and keep
// the container from changing host-wide settings under /proc/sys and /proc/sysrq-trigger.
//
// A non-empty masked_paths or readonly_paths of the security context replaces that default list
// (kubelet sends its own lists for procMount Default). An empty list keeps the default: proto3
// cannot tell an empty list from an absent one, so a client that sets neither (crictl) still
// gets the defaults, as with CRI-O. This means kubelet's procMount Unmasked, which sends empty
// lists, gets the defaults too; Kubernetes allows Unmasked only with a user namespace, which this
// runtime does not support. A privileged container gets neither list.
#pragma once

#include <string>
#include <vector>

#include "cri/api.pb.h"

namespace crio::cri::oci {

struct ProcPaths {
  std::vector<std::string> masked;
  std::vector<std::string> readonly;
};

ProcPaths defaultProcPaths();

// The lists for a container. Throws INVALID_ARGUMENT naming masked_paths[i] or
// readonly_paths[i] for a path that is not absolute or contains "..".
ProcPaths buildProcPaths(const runtime::v1::LinuxContainerSecurityContext& securityContext);

}  // namespace crio::cri::oci
