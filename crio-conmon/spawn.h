// Starting programs from the monitor: the OCI runtime, for every operation.
//
// The monitor blocks the signals its event loop handles and ignores SIGPIPE. A blocked mask and
// ignored dispositions survive execve, and the runtime would pass them on to the container, whose
// processes would then never see SIGTERM. So every child starts with an empty signal mask and
// default dispositions. The child receives exactly the three stdio fds it is given: every other
// fd of the monitor is close-on-exec (main() marks inherited ones so at start).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace crio::conmon {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program: a path, or a name looked up in PATH
  // fds that become the child's 0, 1 and 2; -1 means /dev/null. They must not be 0, 1 or 2.
  int stdinFd = -1;
  int stdoutFd = -1;
  int stderrFd = -1;
  // Written to the child's /proc/self/oom_score_adj before exec, to undo the monitor's own.
  std::optional<int> oomScoreAdj;
};

// Starts the program and returns its pid; the caller reaps it (ChildReaper). Throws NOT_FOUND
// or INTERNAL with the errno of a failed exec, after reaping the failed child.
pid_t spawn(const SpawnOptions& options);

// Marks every fd above 2 close-on-exec, so that nothing the monitor's launcher leaked reaches the
// runtime or the container.
void markInheritedFdsCloseOnExec();

// Opens /dev/null on any of 0, 1 and 2 that is closed, so that no pipe or socket the monitor
// creates later lands on a stdio number.
void ensureStdioOpen();

}  // namespace crio::conmon
