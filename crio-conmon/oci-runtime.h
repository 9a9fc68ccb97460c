// The OCI runtime (runc or crun) as the monitor runs it.
//
// Command lines, with the global options first as both runtimes expect:
//   RUNTIME [--root ROOT] [ARG...] create --bundle BUNDLE --pid-file FILE [--console-socket S] ID
//   RUNTIME [--root ROOT] [ARG...] start ID
//   RUNTIME [--root ROOT] [ARG...] exec --detach --process PROCESS_JSON --pid-file FILE
//                                       [--console-socket S] ID
//   RUNTIME [--root ROOT] [ARG...] delete --force ID
// The monitor signals the init process itself rather than through `runtime kill`: the process
// is its child, so its pid cannot be reused before the monitor reaps it.
#pragma once

#include <kj/async-unix.h>
#include <kj/time.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crio-conmon/child-reaper.h"

namespace crio::conmon {

// Runtime output kept for an error message; the rest is read and discarded.
constexpr size_t MAX_RUNTIME_OUTPUT = 8 * 1024;

struct RuntimeConfig {
  std::string path;                     // the runtime binary
  std::string root;                     // its --root; "" leaves the runtime's default
  std::vector<std::string> globalArgs;  // more global options, such as --systemd-cgroup
  std::optional<int> childOomScoreAdj;  // see SpawnOptions::oomScoreAdj
};

struct CommandResult {
  int exitCode = 0;    // as exitCodeFromStatus()
  std::string output;  // stdout and stderr together, at most MAX_RUNTIME_OUTPUT bytes
};

class OciRuntime {
 public:
  OciRuntime(RuntimeConfig config, kj::UnixEventPort& port, kj::Timer& timer, ChildReaper& reaper);

  // The whole argv for one operation: the runtime, its global options, then `args`.
  std::vector<std::string> command(const std::vector<std::string>& args) const;

  static std::vector<std::string> createArgs(const std::string& bundle, const std::string& pidFile,
                                             const std::string& consoleSocket,
                                             const std::string& id);
  static std::vector<std::string> startArgs(const std::string& id);
  static std::vector<std::string> execArgs(const std::string& processJson,
                                           const std::string& pidFile,
                                           const std::string& consoleSocket, const std::string& id);
  static std::vector<std::string> deleteArgs(const std::string& id);

  // Starts the runtime with `args` and the given stdio (-1: /dev/null); the caller waits for it
  // through reaper().
  pid_t spawn(const std::vector<std::string>& args, int stdinFd, int stdoutFd, int stderrFd);

  // Runs the runtime with `args` and its output going to a pipe, and resolves when it exited.
  // Past `timeout` the runtime is killed and the promise fails with [deadline_exceeded].
  kj::Promise<CommandResult> run(std::vector<std::string> args, kj::Duration timeout);

  ChildReaper& reaper() { return reaper_; }
  const RuntimeConfig& config() const { return config_; }

 private:
  RuntimeConfig config_;
  kj::UnixEventPort& port_;
  kj::Timer& timer_;
  ChildReaper& reaper_;
};

// Throws [internal] "runtime OPERATION failed (exit N): OUTPUT" unless the command succeeded.
// OUTPUT is runtimeErrorText() of the command's output.
void requireSuccess(const CommandResult& result, std::string_view operation);

// `text` with surrounding white space removed, for runtime output in messages.
std::string trimOutput(std::string_view text);

// The part of a failed runtime's output that explains the failure. runc writes logfmt lines
// (`time="..." level=warning msg="..."`) and its warnings rarely matter: when there are lines of
// level error or fatal, their msg values are returned, joined by "; ". Otherwise (crun, or
// output of another form) the trimmed output is returned unchanged.
std::string runtimeErrorText(std::string_view output);

}  // namespace crio::conmon
