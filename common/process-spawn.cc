#include "common/process-spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/error.h"

extern char** environ;

namespace crio {

namespace {

// Closes the descriptor when the scope ends, so no path out of runProcess leaks one.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

void makePipe(Fd& readEnd, Fd& writeEnd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) failSyscall("pipe2");
  readEnd.reset(fds[0]);
  writeEnd.reset(fds[1]);
}

void setNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) failSyscall("fcntl O_NONBLOCK");
}

// posix_spawn's attributes and file actions, destroyed when the scope ends.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;

  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

// Signals a daemon of the suite ignores or blocks. An ignored disposition survives exec, so each
// is reset to its default in the child.
constexpr int RESET_SIGNALS[] = {SIGPIPE, SIGHUP,  SIGINT,  SIGTERM, SIGQUIT,
                                 SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};

// Blocks SIGPIPE in the calling thread while it writes to the child's stdin, so that a child
// which exits before reading everything makes write() fail with EPIPE instead of killing the
// daemon. A SIGPIPE left pending is consumed before the old mask is restored.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SigpipeBlock() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
};

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings)
    out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Reads what is available without blocking. Returns false at end of file.
bool readAvailable(int fd, std::string& out, size_t limit, bool& exceeded) {
  char buffer[16384];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      size_t room = out.size() < limit ? limit - out.size() : 0;
      out.append(buffer, std::min(room, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) > room) exceeded = true;
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;
  }
}

pid_t waitForChild(pid_t pid, int& status) {
  while (true) {
    pid_t rc = waitpid(pid, &status, 0);
    if (rc >= 0 || errno != EINTR) return rc;
  }
}

}  // namespace

std::string ProcessResult::describeEnd(const ProcessRequest& request) const {
  if (timedOut) return "timed out after " + std::to_string(request.timeout.count()) + " ms";
  if (stdoutExceeded) {
    return "killed because its output passed " + std::to_string(request.maxStdoutBytes) + " bytes";
  }
  if (signal != 0) return std::string("killed by signal ") + strsignal(signal);
  return "exit status " + std::to_string(exitCode);
}

std::vector<std::string> currentEnvironment(const std::string& dropPrefix) {
  std::vector<std::string> out;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    if (!dropPrefix.empty() && text.substr(0, dropPrefix.size()) == dropPrefix) continue;
    out.emplace_back(text);
  }
  return out;
}

ProcessResult runProcess(const ProcessRequest& request) {
  auto started = std::chrono::steady_clock::now();
  auto deadline = started + request.timeout;

  Fd stdinRead, stdinWrite, stdoutRead, stdoutWrite, stderrRead, stderrWrite;
  makePipe(stdinRead, stdinWrite);
  makePipe(stdoutRead, stdoutWrite);
  makePipe(stderrRead, stderrWrite);

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, stdinRead.get(), 0);
  posix_spawn_file_actions_adddup2(&setup.actions, stdoutWrite.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.actions, stderrWrite.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : RESET_SIGNALS)
    sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argvStrings = request.argv;
  if (argvStrings.empty()) argvStrings.push_back(request.path);
  auto argv = cStrings(argvStrings);
  auto envp = cStrings(request.env);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, request.path.c_str(), &setup.actions, &setup.attr, argv.data(),
                       envp.data());
  if (rc != 0) failSyscall("execute", request.path, rc);

  stdinRead.reset();
  stdoutWrite.reset();
  stderrWrite.reset();

  // Without a pidfd the exit is noticed when the pipes close or at the deadline.
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  setNonBlocking(stdinWrite.get());
  setNonBlocking(stdoutRead.get());
  setNonBlocking(stderrRead.get());

  ProcessResult result;
  SigpipeBlock sigpipeBlock;
  size_t written = 0;
  if (request.stdinData.empty()) stdinWrite.reset();
  bool exited = false;
  bool killed = false;
  int status = 0;

  auto killGroup = [&]() {
    if (killed) return;
    kill(-pid, SIGKILL);
    killed = true;
  };

  while (!exited) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      result.timedOut = true;
      killGroup();
      break;
    }
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);

    struct pollfd fds[4];
    int count = 0;
    int stdinIndex = -1, stdoutIndex = -1, stderrIndex = -1, pidIndex = -1;
    if (stdinWrite.valid()) {
      stdinIndex = count;
      fds[count++] = {stdinWrite.get(), POLLOUT, 0};
    }
    if (stdoutRead.valid()) {
      stdoutIndex = count;
      fds[count++] = {stdoutRead.get(), POLLIN, 0};
    }
    if (stderrRead.valid()) {
      stderrIndex = count;
      fds[count++] = {stderrRead.get(), POLLIN, 0};
    }
    if (pidfd.valid()) {
      pidIndex = count;
      fds[count++] = {pidfd.get(), POLLIN, 0};
    }
    if (count == 0) {
      // Both pipes closed and no pidfd: the exit comes soon, so poll the child briefly.
      pid_t done = waitpid(pid, &status, WNOHANG);
      if (done == pid) {
        exited = true;
        break;
      }
      usleep(1000);
      continue;
    }
    int timeoutMs = static_cast<int>(std::min<int64_t>(remaining.count() + 1, 1000));
    int ready = poll(fds, count, timeoutMs);
    if (ready < 0) {
      if (errno == EINTR) continue;
      killGroup();
      waitForChild(pid, status);
      failSyscall("poll output of", request.path);
    }

    if (stdinIndex >= 0 && fds[stdinIndex].revents != 0) {
      ssize_t n = write(stdinWrite.get(), request.stdinData.data() + written,
                        request.stdinData.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      bool broken = n < 0 && errno != EAGAIN && errno != EINTR;
      if (broken || written == request.stdinData.size()) stdinWrite.reset();
    }
    if (stdoutIndex >= 0 && fds[stdoutIndex].revents != 0) {
      if (!readAvailable(stdoutRead.get(), result.stdoutData, request.maxStdoutBytes,
                         result.stdoutExceeded)) {
        stdoutRead.reset();
      }
      if (result.stdoutExceeded) {
        killGroup();
        stdoutRead.reset();
      }
    }
    if (stderrIndex >= 0 && fds[stderrIndex].revents != 0) {
      if (!readAvailable(stderrRead.get(), result.stderrData, request.maxStderrBytes,
                         result.stderrTruncated)) {
        stderrRead.reset();
      }
    }
    if (pidIndex >= 0 && fds[pidIndex].revents != 0) exited = true;
  }

  if (waitForChild(pid, status) < 0) failSyscall("wait for", request.path);
  // Output written just before the exit is still in the pipes. Only what is there now is taken,
  // because a process the child left behind may keep the pipes open.
  if (stdoutRead.valid() && !result.stdoutExceeded) {
    readAvailable(stdoutRead.get(), result.stdoutData, request.maxStdoutBytes,
                  result.stdoutExceeded);
  }
  if (stderrRead.valid()) {
    readAvailable(stderrRead.get(), result.stderrData, request.maxStderrBytes,
                  result.stderrTruncated);
  }

  if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    result.exitCode = WEXITSTATUS(status);
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace crio
