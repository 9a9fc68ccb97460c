// The cleanup mode of crio-conmon (--cleanup): ends a container whose monitor is gone.
//
// A container outlives its monitor: killing the monitor with SIGKILL does not signal the
// container, which keeps running with no process left to stop it.
// crio-cri cannot run the OCI runtime itself (its seccomp filter and capabilities are too
// narrow), so it starts crio-conmon in this mode through its monitor launcher. The mode runs
// `runtime delete --force ID`, which kills every process of the container and removes its cgroup
// and the runtime's state, and exits.
#pragma once

#include "crio-conmon/options.h"

namespace crio::conmon {

// Bound on `runtime delete --force`: the runtime waits for the killed processes to go.
constexpr int CLEANUP_TIMEOUT_SECONDS = 30;

// Runs the cleanup and returns the process exit code: 0 when the runtime has no state of the
// container any more (deleted now or before), 1 otherwise. Logs the runtime's error on failure.
int runOrphanCleanup(const MonitorOptions& options);

}  // namespace crio::conmon
