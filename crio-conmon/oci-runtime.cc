#include "crio-conmon/oci-runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "common/error.h"
#include "crio-conmon/async-error.h"
#include "crio-conmon/fd-reader.h"
#include "crio-conmon/spawn.h"

namespace crio::conmon {

namespace {

// After the runtime exited, its output is read until this long passes without data. Processes it
// left behind (the container's init, for create) may hold the pipe open.
constexpr auto OUTPUT_QUIET = 10 * kj::MILLISECONDS;
constexpr auto OUTPUT_LIMIT = 100 * kj::MILLISECONDS;

struct Run {
  pid_t pid = 0;
  std::string output;
  kj::Own<FdReader> reader;
  kj::ForkedPromise<int> exit = nullptr;
};

}  // namespace

OciRuntime::OciRuntime(RuntimeConfig config, kj::UnixEventPort& port, kj::Timer& timer,
                       ChildReaper& reaper)
    : config_(std::move(config)), port_(port), timer_(timer), reaper_(reaper) {}

std::vector<std::string> OciRuntime::command(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{config_.path};
  if (!config_.root.empty()) {
    argv.push_back("--root");
    argv.push_back(config_.root);
  }
  argv.insert(argv.end(), config_.globalArgs.begin(), config_.globalArgs.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> OciRuntime::createArgs(const std::string& bundle,
                                                const std::string& pidFile,
                                                const std::string& consoleSocket,
                                                const std::string& id) {
  std::vector<std::string> args{"create", "--bundle", bundle, "--pid-file", pidFile};
  if (!consoleSocket.empty()) {
    args.push_back("--console-socket");
    args.push_back(consoleSocket);
  }
  args.push_back(id);
  return args;
}

std::vector<std::string> OciRuntime::startArgs(const std::string& id) {
  return {"start", id};
}

std::vector<std::string> OciRuntime::execArgs(const std::string& processJson,
                                              const std::string& pidFile,
                                              const std::string& consoleSocket,
                                              const std::string& id) {
  std::vector<std::string> args{"exec",      "--detach",   "--process",
                                processJson, "--pid-file", pidFile};
  if (!consoleSocket.empty()) {
    args.push_back("--console-socket");
    args.push_back(consoleSocket);
  }
  args.push_back(id);
  return args;
}

std::vector<std::string> OciRuntime::deleteArgs(const std::string& id) {
  return {"delete", "--force", id};
}

pid_t OciRuntime::spawn(const std::vector<std::string>& args, int stdinFd, int stdoutFd,
                        int stderrFd) {
  SpawnOptions options;
  options.argv = command(args);
  options.stdinFd = stdinFd;
  options.stdoutFd = stdoutFd;
  options.stderrFd = stderrFd;
  options.oomScoreAdj = config_.childOomScoreAdj;
  return conmon::spawn(options);
}

kj::Promise<CommandResult> OciRuntime::run(std::vector<std::string> args, kj::Duration timeout) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) failSyscall("pipe2");
  kj::AutoCloseFd readEnd(fds[0]);
  kj::AutoCloseFd writeEnd(fds[1]);

  auto run = kj::heap<Run>();
  run->pid = spawn(args, -1, writeEnd.get(), writeEnd.get());
  run->exit = reaper_.onExit(run->pid).fork();
  writeEnd = nullptr;
  std::string* output = &run->output;
  run->reader =
      kj::heap<FdReader>(port_, timer_, kj::mv(readEnd), [output](std::string_view chunk) {
        size_t room = MAX_RUNTIME_OUTPUT - std::min(MAX_RUNTIME_OUTPUT, output->size());
        output->append(chunk.substr(0, room));
      });

  std::string operation = args.empty() ? "" : args[0];
  auto exited = run->exit.addBranch().then([](int status) { return kj::Maybe<int>(status); });
  auto expired = timer_.afterDelay(timeout).then([]() { return kj::Maybe<int>(nullptr); });
  return exited.exclusiveJoin(kj::mv(expired))
      .then([this, run = run.get(), operation, timeout](kj::Maybe<int> status) {
        KJ_IF_MAYBE (s, status) {
          return run->reader->drain(OUTPUT_QUIET, OUTPUT_LIMIT).then([run, s = *s]() {
            return CommandResult{exitCodeFromStatus(s), run->output};
          });
        }
        kill(run->pid, SIGKILL);
        return run->exit.addBranch().then([operation, timeout](int) -> CommandResult {
          failAsync(ErrorCategory::DEADLINE_EXCEEDED,
                    "runtime " + operation + " did not finish within " +
                        std::to_string(timeout / kj::SECONDS) + " s and was killed");
        });
      })
      .attach(kj::mv(run));
}

void requireSuccess(const CommandResult& result, std::string_view operation) {
  if (result.exitCode == 0) return;
  std::string output = runtimeErrorText(result.output);
  fail(ErrorCategory::INTERNAL, "runtime " + std::string(operation) + " failed (exit " +
                                    std::to_string(result.exitCode) + ")" +
                                    (output.empty() ? "" : ": " + output));
}

std::string trimOutput(std::string_view text) {
  constexpr std::string_view SPACE = " \t\r\n";
  size_t begin = text.find_first_not_of(SPACE);
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(SPACE);
  return std::string(text.substr(begin, end - begin + 1));
}

namespace {

// The value of `msg="..."` in a logfmt line, with \" and \\ unescaped; nullopt without one.
std::optional<std::string> logfmtMessage(std::string_view line) {
  constexpr std::string_view KEY = "msg=\"";
  size_t start = line.find(KEY);
  if (start == std::string_view::npos) return std::nullopt;
  std::string message;
  for (size_t i = start + KEY.size(); i < line.size(); i++) {
    char c = line[i];
    if (c == '"') return message;
    if (c == '\\' && i + 1 < line.size()) c = line[++i];
    message.push_back(c);
  }
  return std::nullopt;  // no closing quote: not logfmt
}

}  // namespace

std::string runtimeErrorText(std::string_view output) {
  std::string errors;
  size_t lineStart = 0;
  while (lineStart < output.size()) {
    size_t lineEnd = output.find('\n', lineStart);
    if (lineEnd == std::string_view::npos) lineEnd = output.size();
    std::string_view line = output.substr(lineStart, lineEnd - lineStart);
    lineStart = lineEnd + 1;
    if (line.find(" level=error ") == std::string_view::npos &&
        line.find(" level=fatal ") == std::string_view::npos) {
      continue;
    }
    std::optional<std::string> message = logfmtMessage(line);
    if (!message) continue;
    if (!errors.empty()) errors += "; ";
    errors += *message;
  }
  return errors.empty() ? trimOutput(output) : errors;
}

}  // namespace crio::conmon
