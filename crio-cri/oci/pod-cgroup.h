// The cgroups of a pod that its PID namespace holder joins, so that the holder is counted and
// limited with the pod's containers, as a pause container would be.
//
// Only the cgroupfs manager is handled, and only cgroups that exist: the kubelet creates a pod's
// cgroup (cgroup_parent) in every hierarchy before RunPodSandbox, and runc creates the
// containers' cgroups below it later. The holder joins cgroup_parent itself, never a folder made
// for it, so nothing has to be created, initialized (cpuset) or removed for it:
//   - in each cgroup v1 hierarchy, PARENT/cgroup.procs when PARENT exists there;
//   - in the cgroup v2 hierarchy, PARENT/cgroup.procs only when PARENT's cgroup.controllers is
//     empty. Otherwise a process in PARENT would stop runc from enabling controllers for the
//     containers below it (cgroup v2 lets only a cgroup without processes of its own do that).
//     That is so on a v1/v2 hybrid host, whose v2 hierarchy distributes no controller.
#pragma once

#include <string>
#include <vector>

#include "crio-cri/oci/mount-info.h"

namespace crio::cri::oci {

// The cgroup.procs files for a pod with `cgroupParent` under the cgroup manager `manager`
// ("cgroupfs" or "systemd"), found through the cgroup mounts in `mounts`. Empty for the systemd
// manager, an empty or "/" parent, and a parent that is a systemd slice. Throws INVALID_ARGUMENT
// for a parent that is not a clean absolute path (a ".." component, for example).
std::vector<std::string> podCgroupProcsFiles(const std::string& manager,
                                             const std::string& cgroupParent,
                                             const std::vector<MountInfoEntry>& mounts);

}  // namespace crio::cri::oci
