#include "common/monitor-launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/error.h"

namespace crio {

namespace {

void closeFrom(int lowest, int keep) {
  for (int fd = lowest; fd < 1024; ++fd) {
    if (fd != keep) close(fd);
  }
}

// Runs in the grandchild: stdio redirected, every other descriptor closed, then exec.
[[noreturn]] void execDetached(const nlohmann::json& request, int reportFd) {
  std::string program = request["program"];
  std::vector<std::string> args = request["args"];
  std::vector<std::string> env = request["env"];
  std::string logFile = request["log"];

  int null = open("/dev/null", O_RDWR);
  int log = logFile.empty()
                ? null
                : open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) log = null;
  dup2(null, STDIN_FILENO);
  dup2(log, STDOUT_FILENO);
  dup2(log, STDERR_FILENO);
  closeFrom(STDERR_FILENO + 1, reportFd);

  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);

  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(program.c_str(), argv.data(), envp.data());
  int err = errno;
  (void)!write(reportFd, &err, sizeof err);
  _exit(127);
}

nlohmann::json launchOne(const nlohmann::json& request) {
  // The grandchild reports an exec failure through a close-on-exec pipe: EOF means it exec'd.
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return {{"error", std::string("pipe: ") + strerror(errno)}};
  int pidPipe[2];
  if (pipe2(pidPipe, O_CLOEXEC) != 0) {
    close(report[0]);
    close(report[1]);
    return {{"error", std::string("pipe: ") + strerror(errno)}};
  }

  pid_t middle = fork();
  if (middle == 0) {
    setsid();
    pid_t grandchild = fork();
    if (grandchild == 0) {
      close(report[0]);
      close(pidPipe[0]);
      close(pidPipe[1]);
      execDetached(request, report[1]);
    }
    (void)!write(pidPipe[1], &grandchild, sizeof grandchild);
    _exit(grandchild > 0 ? 0 : 1);
  }
  close(report[1]);
  close(pidPipe[1]);
  pid_t grandchild = -1;
  if (middle > 0) {
    waitpid(middle, nullptr, 0);
    if (read(pidPipe[0], &grandchild, sizeof grandchild) != sizeof grandchild) grandchild = -1;
  }
  close(pidPipe[0]);

  int execError = 0;
  ssize_t n = grandchild > 0 ? read(report[0], &execError, sizeof execError) : 0;
  close(report[0]);
  if (middle < 0 || grandchild <= 0) return {{"error", "fork failed"}};
  if (n == sizeof execError) {
    std::string program = request["program"];
    return {{"error", "execute " + program + ": " + strerror(execError)}};
  }
  return {{"pid", grandchild}};
}

[[noreturn]] void serve(int fd, const std::vector<std::string>& programs) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  prctl(PR_SET_NAME, "crio-launcher");
  std::string buffer(MAX_LAUNCH_REQUEST_BYTES, '\0');
  while (true) {
    ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_TRUNC);
    if (n <= 0) _exit(0);  // crio-cri is gone
    nlohmann::json reply;
    if (static_cast<size_t>(n) > buffer.size()) {
      reply = {{"error", "launch request larger than 256 KiB"}};
    } else {
      auto request =
          nlohmann::json::parse(buffer.substr(0, static_cast<size_t>(n)), nullptr, false);
      bool valid =
          request.is_object() && request.contains("program") && request["program"].is_string() &&
          request.contains("args") && request["args"].is_array() && request.contains("env") &&
          request["env"].is_array() && request.contains("log") && request["log"].is_string();
      if (!valid) {
        reply = {{"error", "malformed launch request"}};
      } else if (std::find(programs.begin(), programs.end(),
                           request["program"].get<std::string>()) == programs.end()) {
        reply = {{"error", "program " + request["program"].get<std::string>() +
                               " is not a configured monitor"}};
      } else {
        try {
          reply = launchOne(request);
        } catch (const std::exception& e) {
          reply = {{"error", std::string("malformed launch request: ") + e.what()}};
        }
      }
    }
    std::string text = reply.dump();
    if (send(fd, text.data(), text.size(), MSG_NOSIGNAL) < 0) _exit(0);
  }
}

}  // namespace

MonitorLauncher MonitorLauncher::start(std::vector<std::string> programs) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    failSyscall("socketpair for the monitor launcher");
  }
  pid_t pid = fork();
  if (pid < 0) failSyscall("fork the monitor launcher");
  if (pid == 0) {
    close(pair[0]);
    closeFrom(STDERR_FILENO + 1, pair[1]);
    serve(pair[1], programs);
  }
  close(pair[1]);
  return MonitorLauncher(pair[0], pid);
}

MonitorLauncher::MonitorLauncher(MonitorLauncher&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      pid_(std::exchange(other.pid_, -1)),
      mutex_(std::move(other.mutex_)) {}

MonitorLauncher::~MonitorLauncher() {
  if (fd_ >= 0) close(fd_);
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

pid_t MonitorLauncher::launch(const std::string& program, const std::vector<std::string>& args,
                              const std::vector<std::string>& env, const std::string& logFile) {
  nlohmann::json request = {{"program", program}, {"args", args}, {"env", env}, {"log", logFile}};
  std::string text = request.dump();
  if (text.size() > MAX_LAUNCH_REQUEST_BYTES) {
    fail(ErrorCategory::INVALID_ARGUMENT, "monitor launch request larger than 256 KiB");
  }

  std::lock_guard<std::mutex> lock(*mutex_);
  if (send(fd_, text.data(), text.size(), MSG_NOSIGNAL) < 0) {
    failSyscall("send to the monitor launcher");
  }
  std::string buffer(4096, '\0');
  ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
  if (n <= 0) fail(ErrorCategory::INTERNAL, "the monitor launcher exited");
  auto reply = nlohmann::json::parse(buffer.substr(0, static_cast<size_t>(n)), nullptr, false);
  if (reply.is_object() && reply.contains("pid")) return reply["pid"].get<pid_t>();
  std::string message = reply.is_object() ? reply.value("error", "unknown error") : "bad reply";
  fail(ErrorCategory::INTERNAL, "start " + program + ": " + message);
}

}  // namespace crio
