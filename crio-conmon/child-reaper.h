// Reaping every child of the monitor and handing each exit status to the code waiting for it.
//
// The monitor is a child subreaper (PR_SET_CHILD_SUBREAPER), so besides the runtime processes it
// spawns, the container's init process becomes its child once `runtime create` exits, and so
// does any other orphan of the runtime. On each SIGCHLD the reaper collects every exited child
// with waitpid(-1, WNOHANG), so no zombie is left. A status nobody waits for yet is kept (at
// most MAX_UNCLAIMED, oldest dropped first) because the container may exit before the monitor
// has read its pid from the runtime's pid file.
//
// SIGCHLD must have been captured with kj::UnixEventPort::captureSignal() before the event loop
// was set up; nothing else in the process may wait for children.
#pragma once

#include <kj/async-unix.h>
#include <sys/types.h>

#include <deque>
#include <map>
#include <utility>

namespace crio::conmon {

constexpr size_t MAX_UNCLAIMED = 64;

class ChildReaper {
 public:
  explicit ChildReaper(kj::UnixEventPort& port);

  // Resolves with the wait status (as from waitpid) of `pid` once it has exited. `pid` must be a
  // child of the monitor, still running or exited; throws NOT_FOUND otherwise. One waiter per pid.
  kj::Promise<int> onExit(pid_t pid);

  // Collects every exited child now; also runs on each SIGCHLD.
  void reap();

 private:
  kj::Promise<void> signalLoop();

  kj::UnixEventPort& port_;
  std::map<pid_t, kj::Own<kj::PromiseFulfiller<int>>> waiters_;
  std::deque<std::pair<pid_t, int>> unclaimed_;
  kj::Promise<void> loop_;
};

// Sends `signal` to `pid` only while it is a child of the monitor that was not reaped yet (alive
// or a zombie), so that the signal cannot reach a process that reused the pid. False otherwise.
bool signalChild(pid_t pid, int signal);

// The exit code a container runtime reports for a wait status: the exit status, or 128+N when
// signal N ended the process (137 for SIGKILL).
int exitCodeFromStatus(int status);

}  // namespace crio::conmon
