// The report of a pod's PID namespace holder to startPodPidHolder (pod-pid-holder.h):
// fixed-size records on a pipe, each smaller than PIPE_BUF so that a write is atomic. The holder
// sends them before it executes crio-pod-init, and crio-pod-init sends READY on fd 3.
#pragma once

namespace crio {

enum class HolderEvent : int { PID, READY, FAILED };

enum class HolderStep : int {
  SETSID,
  UNSHARE,
  FORK,
  CGROUP,
  DEV_NULL,
  MOUNT_NAMESPACE,
  EMPTY_ROOT,
  GROUPS,
  GID,
  UID,
  DUMPABLE,
  EXEC,
  SETNS,
  CAPABILITIES
};

struct HolderRecord {
  HolderEvent event;
  int value;   // the pid for PID, the HolderStep for FAILED
  int errnum;  // errno for FAILED
  int index;   // which of the cgroup.procs files (CGROUP) or namespaces (SETNS) failed
};

// The descriptor crio-pod-init reports READY on.
constexpr int POD_INIT_REPORT_FD = 3;

}  // namespace crio
