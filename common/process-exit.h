// Waiting for a process that is not the caller's child (so waitpid cannot be used) to end.
#pragma once

#include <sys/types.h>

#include <chrono>

namespace crio {

// Waits until the process behind `pidfd` has exited (it is then readable). Returns false when
// `timeout` passed first; a failed poll counts as ended. Does not close `pidfd`.
bool waitPidfdExit(int pidfd, std::chrono::milliseconds timeout);

// Waits until process `pid` has ended. Returns true at once when it no longer exists, false when
// it still runs after `timeout`. Throws INTERNAL when pidfd_open fails for another reason.
bool waitProcessExit(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace crio
