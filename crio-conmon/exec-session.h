// ExecSync: running one command in the running container and collecting its output.
//
// The command runs as `runtime exec --detach --process FILE`, where FILE is the container's own
// process from the bundle's config.json with `args` replaced, the request's `env` appended and
// `terminal` set. So the command gets the container's user, working folder, capabilities and
// security settings. FILE and the runtime's pid file are written to the bundle folder and
// removed after.
//
// With --detach the runtime hands its stdio (the monitor's pipes) straight to the command and
// exits once the command runs. The command then becomes the monitor's child, because the monitor
// is a child subreaper, and the monitor waits for the command itself. In the foreground the runtime
// would copy the output and wait for its end, which processes the command left behind can delay
// for as long as they live. After the command's exit, output still buffered is read for at most
// EXEC_DRAIN_LIMIT (less once EXEC_DRAIN_QUIET passes without data).
//
// When the runtime fails to start the command, its exit code and message (in stderr) are the
// result. Past the timeout the command is killed with SIGKILL and the call fails with
// [deadline_exceeded]. A call cancelled by its client kills the command the same way.
#pragma once

#include <kj/async-unix.h>
#include <kj/time.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crio-conmon/oci-runtime.h"

namespace crio::conmon {

// The CRI caps each of an ExecSync's stdout and stderr at 16 MiB.
constexpr size_t MAX_EXEC_OUTPUT = 16 * 1024 * 1024;
// Execs running at once; one more fails with [resource_exhausted]. Each may buffer twice
// MAX_EXEC_OUTPUT.
constexpr unsigned MAX_CONCURRENT_EXECS = 8;
// Bound on the bundle's config.json read to build the exec's process.
constexpr size_t MAX_CONFIG_SIZE = 4 * 1024 * 1024;
constexpr auto EXEC_DRAIN_QUIET = 20 * kj::MILLISECONDS;
constexpr auto EXEC_DRAIN_LIMIT = 250 * kj::MILLISECONDS;

struct ExecRequest {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // KEY=VALUE
  bool tty = false;
  int64_t timeoutSeconds = 0;  // 0: no limit
};

struct ExecOutcome {
  int exitCode = 0;
  std::string stdoutBytes;
  std::string stderrBytes;
  bool stdoutTruncated = false;
  bool stderrTruncated = false;
};

// The process of `config` (a parsed config.json) changed for `request`. Throws INVALID_ARGUMENT
// for an empty argv, an env entry without '=', or a config without a process.
nlohmann::json execProcess(const nlohmann::json& config, const ExecRequest& request);

class ExecRunner {
 public:
  // `consoleSocketPrefix` + a number names the console socket of a terminal exec.
  ExecRunner(OciRuntime& runtime, kj::UnixEventPort& port, kj::Timer& timer,
             std::string containerId, std::string bundle, std::string consoleSocketPrefix);

  kj::Promise<ExecOutcome> run(ExecRequest request);

 private:
  struct Session;

  OciRuntime& runtime_;
  kj::UnixEventPort& port_;
  kj::Timer& timer_;
  std::string containerId_;
  std::string bundle_;
  std::string consoleSocketPrefix_;
  unsigned counter_ = 0;
  unsigned running_ = 0;
};

}  // namespace crio::conmon
