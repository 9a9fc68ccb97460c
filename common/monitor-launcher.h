// Starting container monitors from a process that kept its privileges.
//
// crio-cri drops capabilities and installs a seccomp filter on itself, and both are inherited by
// anything it executes. A container monitor, the OCI runtime it runs and the container's own
// processes must not inherit them: runc needs calls such as keyctl, pivot_root and seccomp, and a
// workload may use any call its own profile allows. So before crio-cri drops anything it forks
// this launcher, which keeps the original privileges, applies no filter, and does one thing:
// execute one of the programs it was given at fork time, detached (own session, reparented to
// init), with arguments crio-cri sends.
//
// Wire format on the SOCK_SEQPACKET pair, one message per request and per reply:
//   request: JSON {"program": PATH, "args": [..], "env": [..], "log": PATH}
//   reply:   JSON {"pid": N} or {"error": MESSAGE}
// Requests are at most MAX_LAUNCH_REQUEST_BYTES. The launcher exits when crio-cri's end closes.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace crio {

constexpr size_t MAX_LAUNCH_REQUEST_BYTES = 256 * 1024;

class MonitorLauncher {
 public:
  // Forks the launcher process. `programs` are the only paths it will execute. Call before any
  // thread exists and before privileges are dropped.
  static MonitorLauncher start(std::vector<std::string> programs);

  MonitorLauncher(MonitorLauncher&& other) noexcept;
  ~MonitorLauncher();

  // Starts `program` detached with `args` (argv[0] is the program) and the environment `env`,
  // stdout and stderr appended to `logFile` ("" for /dev/null). Returns its pid. Thread-safe.
  pid_t launch(const std::string& program, const std::vector<std::string>& args,
               const std::vector<std::string>& env, const std::string& logFile);

  pid_t pid() const { return pid_; }

 private:
  MonitorLauncher(int fd, pid_t pid) : fd_(fd), pid_(pid) {}

  int fd_ = -1;
  pid_t pid_ = -1;
  std::unique_ptr<std::mutex> mutex_ = std::make_unique<std::mutex>();
};

}  // namespace crio
