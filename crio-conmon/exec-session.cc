#include "crio-conmon/exec-session.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "common/error.h"
#include "common/log.h"
#include "crio-conmon/async-error.h"
#include "crio-conmon/console-socket.h"
#include "crio-conmon/container-field.h"
#include "crio-conmon/fd-reader.h"

namespace crio::conmon {

namespace {

nlohmann::json readConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) failSyscall("open", path);
  std::string text;
  text.resize(MAX_CONFIG_SIZE + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > MAX_CONFIG_SIZE) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         path + " is larger than " + std::to_string(MAX_CONFIG_SIZE) + " bytes");
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorCategory::INVALID_ARGUMENT, path + ": " + e.what());
  }
}

void writeFile(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) failSyscall("open", path);
  ssize_t n = write(fd, text.data(), text.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(text.size())) failSyscall("write", path, n < 0 ? err : EIO);
}

pid_t readPidFile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

// Appends to `out` up to MAX_EXEC_OUTPUT bytes; what does not fit sets `truncated`.
FdReader::Sink capture(std::string& out, bool& truncated) {
  return [&out, &truncated](std::string_view chunk) {
    size_t room = MAX_EXEC_OUTPUT - std::min(MAX_EXEC_OUTPUT, out.size());
    if (chunk.size() > room) truncated = true;
    out.append(chunk.substr(0, room));
  };
}

}  // namespace

nlohmann::json execProcess(const nlohmann::json& config, const ExecRequest& request) {
  if (request.argv.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "exec: empty command");
  if (!config.is_object() || !config.contains("process") || !config["process"].is_object()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "config.json has no process object");
  }
  nlohmann::json process = config["process"];
  process["args"] = request.argv;
  nlohmann::json env = process.value("env", nlohmann::json::array());
  for (const auto& entry : request.env) {
    if (entry.find('=') == std::string::npos || entry[0] == '=') {
      fail(ErrorCategory::INVALID_ARGUMENT, "exec: env entry \"" + entry + "\" is not KEY=VALUE");
    }
    env.push_back(entry);
  }
  process["env"] = env;
  process["terminal"] = request.tty;
  return process;
}

// The state of one exec, kept until the exec ends.
struct ExecRunner::Session {
  ExecRunner& runner;
  std::string processFile;
  std::string pidFile;
  pid_t runtimePid = 0;  // until the runtime was reaped
  pid_t commandPid = 0;  // once the runtime reported it
  bool finished = false;
  ExecOutcome outcome;
  kj::Own<ConsoleSocket> console;
  kj::Own<FdReader> stdoutReader;
  kj::Own<FdReader> stderrReader;
  kj::Own<FdReader> terminalReader;
  kj::Promise<void> terminalReceived = nullptr;

  explicit Session(ExecRunner& r) : runner(r) { ++runner.running_; }

  ~Session() {
    if (!finished) killCommand();
    --runner.running_;
    unlink(processFile.c_str());
    unlink(pidFile.c_str());
  }

  void killCommand() {
    if (commandPid == 0) commandPid = readPidFile(pidFile);
    signalChild(commandPid, SIGKILL);
    signalChild(runtimePid, SIGKILL);
  }

  kj::Promise<ExecOutcome> finish(int status) {
    finished = true;
    outcome.exitCode = exitCodeFromStatus(status);
    kj::Vector<kj::Promise<void>> drains;
    for (auto* reader : {stdoutReader.get(), stderrReader.get(), terminalReader.get()}) {
      if (reader != nullptr) drains.add(reader->drain(EXEC_DRAIN_QUIET, EXEC_DRAIN_LIMIT));
    }
    return kj::joinPromises(drains.releaseAsArray()).then([this]() { return kj::mv(outcome); });
  }
};

ExecRunner::ExecRunner(OciRuntime& runtime, kj::UnixEventPort& port, kj::Timer& timer,
                       std::string containerId, std::string bundle, std::string consoleSocketPrefix)
    : runtime_(runtime),
      port_(port),
      timer_(timer),
      containerId_(std::move(containerId)),
      bundle_(std::move(bundle)),
      consoleSocketPrefix_(std::move(consoleSocketPrefix)) {}

kj::Promise<ExecOutcome> ExecRunner::run(ExecRequest request) {
  if (running_ >= MAX_CONCURRENT_EXECS) {
    fail(ErrorCategory::RESOURCE_EXHAUSTED,
         "exec: " + std::to_string(MAX_CONCURRENT_EXECS) + " commands already running");
  }
  nlohmann::json process = execProcess(readConfig(bundle_ + "/config.json"), request);

  auto session = kj::heap<Session>(*this);
  unsigned number = ++counter_;
  std::string name = "/exec-" + std::to_string(getpid()) + "-" + std::to_string(number);
  session->processFile = bundle_ + name + ".json";
  session->pidFile = bundle_ + name + ".pid";
  writeFile(session->processFile, process.dump());

  int outPipe[2], errPipe[2];
  if (pipe2(outPipe, O_CLOEXEC) != 0) failSyscall("pipe2");
  kj::AutoCloseFd outRead(outPipe[0]), outWrite(outPipe[1]);
  if (pipe2(errPipe, O_CLOEXEC) != 0) failSyscall("pipe2");
  kj::AutoCloseFd errRead(errPipe[0]), errWrite(errPipe[1]);

  std::string consolePath;
  if (request.tty) {
    consolePath = consoleSocketPrefix_ + std::to_string(number);
    session->console = kj::heap<ConsoleSocket>(port_, consolePath);
  }

  Session* s = session.get();
  s->runtimePid =
      runtime_.spawn(OciRuntime::execArgs(s->processFile, s->pidFile, consolePath, containerId_),
                     -1, outWrite.get(), errWrite.get());
  outWrite = nullptr;
  errWrite = nullptr;

  // With a terminal, the command's output comes through the pty; the pipes carry only what the
  // runtime itself writes, which is reported as stderr.
  ExecOutcome& o = s->outcome;
  s->stdoutReader = kj::heap<FdReader>(port_, timer_, kj::mv(outRead),
                                       request.tty ? capture(o.stderrBytes, o.stderrTruncated)
                                                   : capture(o.stdoutBytes, o.stdoutTruncated));
  s->stderrReader =
      kj::heap<FdReader>(port_, timer_, kj::mv(errRead), capture(o.stderrBytes, o.stderrTruncated));
  if (request.tty) {
    s->terminalReceived = s->console->receive()
                              .then([this, s](kj::AutoCloseFd master) {
                                s->terminalReader = kj::heap<FdReader>(
                                    port_, timer_, kj::mv(master),
                                    capture(s->outcome.stdoutBytes, s->outcome.stdoutTruncated));
                              })
                              .eagerlyEvaluate([](kj::Exception&& e) {
                                log::warn("exec terminal not received",
                                          {containerField(), {"error", e.getDescription().cStr()}});
                              });
  }

  ChildReaper& reaper = runtime_.reaper();
  kj::Promise<ExecOutcome> done =
      reaper.onExit(s->runtimePid).then([s, &reaper](int status) -> kj::Promise<ExecOutcome> {
        s->runtimePid = 0;
        // The runtime could not start the command: its message is in the output pipes.
        if (exitCodeFromStatus(status) != 0) return s->finish(status);
        s->commandPid = readPidFile(s->pidFile);
        if (s->commandPid <= 0) {
          failAsync(ErrorCategory::INTERNAL, "the runtime wrote no pid to " + s->pidFile);
        }
        return reaper.onExit(s->commandPid).then([s](int status) { return s->finish(status); });
      });
  int64_t timeout = request.timeoutSeconds;
  if (timeout > 0) {
    done = done.exclusiveJoin(
        timer_.afterDelay(timeout * kj::SECONDS).then([s, timeout]() -> ExecOutcome {
          s->killCommand();
          s->finished = true;
          failAsync(ErrorCategory::DEADLINE_EXCEEDED,
                    "command timed out after " + std::to_string(timeout) + " s and was killed");
        }));
  }
  return done.attach(kj::mv(session));
}

}  // namespace crio::conmon
