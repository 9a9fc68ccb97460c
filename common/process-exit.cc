#include "common/process-exit.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/error.h"

namespace crio {

bool waitPidfdExit(int pidfd, std::chrono::milliseconds timeout) {
  struct pollfd entry {};
  entry.fd = pidfd;
  entry.events = POLLIN;
  int ready;
  do {
    ready = poll(&entry, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready != 0;
}

bool waitProcessExit(pid_t pid, std::chrono::milliseconds timeout) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    if (errno == ESRCH) return true;
    failSyscall("pidfd_open", std::to_string(pid));
  }
  bool ended = waitPidfdExit(pidfd, timeout);
  close(pidfd);
  return ended;
}

}  // namespace crio
