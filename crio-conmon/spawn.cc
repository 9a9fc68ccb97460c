#include "crio-conmon/spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.h"

namespace crio::conmon {

namespace {

// Runs in the forked child: only async-signal-safe calls until execvp.
[[noreturn]] void execChild(const SpawnOptions& options, char* const* argv, int devNull,
                            pid_t parent, int errorPipe) {
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    sigaction(sig, &dfl, nullptr);
  }

  int stdio[3] = {options.stdinFd, options.stdoutFd, options.stderrFd};
  for (int target = 0; target < 3; ++target) {
    int source = stdio[target] >= 0 ? stdio[target] : devNull;
    if (dup2(source, target) < 0) {
      int err = errno;
      (void)!write(errorPipe, &err, sizeof err);
      _exit(127);
    }
  }

  if (options.oomScoreAdj) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      char text[16];
      int n = snprintf(text, sizeof text, "%d", *options.oomScoreAdj);
      (void)!write(fd, text, n);
      close(fd);
    }
  }

  // The runtime dies with the monitor, as it does with conmon, because the result of its
  // operation could no longer be recorded.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);

  execvp(argv[0], argv);
  int err = errno;
  (void)!write(errorPipe, &err, sizeof err);
  _exit(127);
}

}  // namespace

pid_t spawn(const SpawnOptions& options) {
  if (options.argv.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "spawn: empty argv");
  std::vector<char*> argv;
  argv.reserve(options.argv.size() + 1);
  for (const auto& arg : options.argv) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);

  int devNull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devNull < 0) failSyscall("open", "/dev/null");
  // The child reports a failed exec through this pipe; a successful exec closes it (CLOEXEC).
  int errorPipe[2];
  if (pipe2(errorPipe, O_CLOEXEC) != 0) {
    close(devNull);
    failSyscall("pipe2");
  }

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) execChild(options, argv.data(), devNull, parent, errorPipe[1]);
  int forkErrno = errno;
  close(devNull);
  close(errorPipe[1]);
  if (pid < 0) {
    close(errorPipe[0]);
    failSyscall("fork", options.argv[0], forkErrno);
  }

  int childErrno = 0;
  ssize_t n;
  do {
    n = read(errorPipe[0], &childErrno, sizeof childErrno);
  } while (n < 0 && errno == EINTR);
  close(errorPipe[0]);
  if (n <= 0) return pid;

  // The child exited without exec. spawn() has not returned to the event loop since the fork,
  // so the ChildReaper cannot have reaped it.
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  failSyscall("exec", options.argv[0], childErrno);
}

void markInheritedFdsCloseOnExec() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) failSyscall("opendir", "/proc/self/fd");
  int own = dirfd(dir);
  while (struct dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd <= 2 || fd == own) continue;
    int flags = fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0) fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
  }
  closedir(dir);
}

void ensureStdioOpen() {
  for (int fd = 0; fd < 3; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) continue;
    int opened = open("/dev/null", O_RDWR);
    if (opened < 0) failSyscall("open", "/dev/null");
    if (opened != fd) {
      dup2(opened, fd);
      close(opened);
    }
  }
}

}  // namespace crio::conmon
