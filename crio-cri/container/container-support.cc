#include "crio-cri/container/container-support.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "common/error.h"
#include "common/log.h"
#include "common/process-exit.h"
#include "crio-cri/container/monitor-client.h"
#include "crio-cri/oci/quote.h"
#include "crio-cri/peer-call.h"
#include "crio-cri/state/state-file.h"
#include "ipc/stored.capnp.h"

namespace crio::cri {

namespace fs = std::filesystem;

std::string monitorSocketPath(const Config& config, const std::string& containerId) {
  return config.runRoot + "/monitors/" + containerId.substr(0, 32) + ".sock";
}

int parseSignal(const std::string& text) {
  if (text.empty()) return 0;
  if (std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    int n = text.size() <= 2 ? std::stoi(text) : 0;
    return n > 0 && n <= SIGRTMAX ? n : 0;
  }
  std::string name = text.rfind("SIG", 0) == 0 ? text.substr(3) : text;
  static const std::map<std::string, int> NAMES = {
      {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
      {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
      {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
      {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
      {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
      {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
      {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
      {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
      {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"RTMIN", SIGRTMIN},   {"RTMAX", SIGRTMAX}};
  if (auto it = NAMES.find(name); it != NAMES.end()) return it->second;
  for (auto [prefix, base, sign] :
       {std::tuple{"RTMIN+", SIGRTMIN, 1}, std::tuple{"RTMINPLUS", SIGRTMIN, 1},
        std::tuple{"RTMAX-", SIGRTMAX, -1}, std::tuple{"RTMAXMINUS", SIGRTMAX, -1}}) {
    std::string p = prefix;
    if (name.rfind(p, 0) != 0) continue;
    std::string rest = name.substr(p.size());
    if (rest.empty() || rest.size() > 2 ||
        !std::all_of(rest.begin(), rest.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return 0;
    }
    int n = base + sign * std::stoi(rest);
    return n >= SIGRTMIN && n <= SIGRTMAX ? n : 0;
  }
  return 0;
}

std::string containerLogPath(const std::string& logDirectory, const std::string& logPath) {
  if (logDirectory.empty() || logPath.empty()) return "";
  if (logDirectory.front() != '/' || logDirectory.find('\0') != std::string::npos) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "the pod's log_directory " + oci::quoteValue(logDirectory) + " is not an absolute path");
  }
  bool escapes = logPath.front() == '/' || logPath.find('\0') != std::string::npos;
  for (const auto& part : std::filesystem::path(logPath)) {
    if (part == "..") escapes = true;
  }
  std::string last = std::filesystem::path(logPath).filename().string();
  if (!escapes && (last.empty() || last == ".")) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "log_path " + oci::quoteValue(logPath) + " must name a file, not a folder");
  }
  if (escapes) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "log_path " + oci::quoteValue(logPath) +
             " must be a path relative to the pod's log_directory, without \"..\"");
  }
  return logDirectory + "/" + logPath;
}

int stopSignalFor(const runtime::v1::ContainerConfig& config, const std::string& imageStopSignal) {
  if (config.stop_signal() != runtime::v1::SIGNAL_RUNTIME_DEFAULT) {
    std::string name = runtime::v1::Signal_Name(config.stop_signal());
    if (name.rfind("SIGNAL_", 0) == 0) name = name.substr(7);
    int signal = name.empty() ? 0 : parseSignal(name);
    if (signal == 0) {
      std::string signalText = name.empty() ? std::to_string(config.stop_signal()) +
                                                  " (not a value of the CRI's Signal enum)"
                                            : name;
      fail(ErrorCategory::INVALID_ARGUMENT,
           "stop_signal " + signalText + " is not a valid signal on this host");
    }
    return signal;
  }
  if (int signal = parseSignal(imageStopSignal)) return signal;
  if (!imageStopSignal.empty()) {
    log::warn("the image's StopSignal is not a signal; using SIGTERM",
              {{"stop_signal", imageStopSignal}});
  }
  return SIGTERM;
}

namespace {

std::string lookupInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* env = getenv("PATH");
  std::string path = env ? env : "";
  path += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    start = end + 1;
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  fail(ErrorCategory::FAILED_PRECONDITION,
       "runtime " + name + " is not in PATH; set runtime_path in [crio.runtime.runtimes." + name +
           "]");
}

std::string commandLine(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline");
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool commandLineMentions(pid_t pid, const std::string& text) {
  return commandLine(pid).find(text) != std::string::npos;
}

// The monitor (not a --cleanup run) of container `id`: a process whose arguments hold
// "--container-id ID" and "--bundle". Returns 0 when there is none. Reads every /proc/PID, so it
// serves only the rare cleanup of an interrupted create.
pid_t findMonitorProcess(const std::string& id) {
  std::string idArgument = std::string("--container-id") + '\0' + id + '\0';
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    std::string cmdline = commandLine(pid);
    if (cmdline.find(idArgument) != std::string::npos &&
        cmdline.find(std::string("--bundle") + '\0') != std::string::npos) {
      return pid;
    }
  }
  return 0;
}

// The handler the container runs under; an empty name (a leftover without a record) means the
// default one.
std::string handlerName(const Config& config, const Container& c) {
  return c.runtimeHandler.empty() ? config.defaultRuntime : c.runtimeHandler;
}

std::string runtimeRootOf(const Config& config, const Container& c, const RuntimeHandler* handler) {
  return handler && !handler->runtimeRoot.empty()
             ? handler->runtimeRoot
             : config.runRoot + "/runtimes/" + handlerName(config, c);
}

// The monitor options that name the runtime: its binary, its --root and global options.
std::vector<std::string> runtimeOptions(const Config& config, const Container& c,
                                        const RuntimeHandler* handler) {
  std::string runtime = handler && !handler->runtimePath.empty()
                            ? handler->runtimePath
                            : lookupInPath(handlerName(config, c));
  std::vector<std::string> options = {"--runtime", runtime, "--runtime-root",
                                      runtimeRootOf(config, c, handler)};
  // runc and crun read cgroupsPath as "slice:prefix:name" only with this global flag.
  if (effectiveCgroupManager(config) == "systemd") {
    options.push_back("--runtime-arg=--systemd-cgroup");
  }
  return options;
}

std::string monitorProgram(const Config& config, const RuntimeHandler* handler) {
  return handler && !handler->monitorPath.empty() ? handler->monitorPath
                                                  : monitorPrograms(config).front();
}

std::vector<std::string> monitorEnv(const RuntimeHandler* handler) {
  std::vector<std::string> env;
  if (handler) env = handler->monitorEnv;
  env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  return env;
}

const RuntimeHandler* handlerOf(const Config& config, const Container& c) {
  auto it = config.runtimes.find(handlerName(config, c));
  return it == config.runtimes.end() ? nullptr : &it->second;
}

}  // namespace

MonitorCommand monitorCommand(const Config& config, const Container& c,
                              const RuntimeHandler* handler) {
  MonitorCommand command;
  command.program = monitorProgram(config, handler);
  command.args = {command.program, "--container-id", c.id, "--bundle", c.bundleDir};
  for (auto& option : runtimeOptions(config, c, handler))
    command.args.push_back(std::move(option));
  std::vector<std::string> rest = {
      "--socket",    c.monitorSocket, "--exit-dir",     c.exitDir,
      "--log-path",  c.logPath,       "--log-size-max", std::to_string(config.logSizeMax),
      "--log-level", config.logLevel};
  command.args.insert(command.args.end(), rest.begin(), rest.end());
  if (c.config.stdin()) command.args.push_back("--stdin");
  if (c.config.tty()) command.args.push_back("--tty");
  command.env = monitorEnv(handler);
  return command;
}

MonitorCommand cleanupCommand(const Config& config, const Container& c,
                              const RuntimeHandler* handler) {
  MonitorCommand command;
  command.program = monitorProgram(config, handler);
  command.args = {command.program, "--cleanup", "--container-id", c.id};
  for (auto& option : runtimeOptions(config, c, handler))
    command.args.push_back(std::move(option));
  command.args.push_back("--log-level");
  command.args.push_back(config.logLevel);
  command.env = monitorEnv(handler);
  return command;
}

void deleteWithoutMonitor(Daemon& daemon, const Container& c) {
  Config config = daemon.config();
  const RuntimeHandler* handler = handlerOf(config, c);
  MonitorCommand command = cleanupCommand(config, c, handler);
  std::string logFile = fs::exists(c.bundleDir) ? c.bundleDir + "/monitor.log" : "";
  pid_t pid = daemon.launcher().launch(command.program, command.args, command.env, logFile);
  if (!waitProcessExit(pid, CLEANUP_WAIT)) {
    fail(ErrorCategory::DEADLINE_EXCEEDED, "runtime delete of container " + c.id +
                                               " did not finish within " +
                                               std::to_string(CLEANUP_WAIT.count() / 1000) + " s");
  }
  std::string state = runtimeRootOf(config, c, handler) + "/" + c.id;
  if (fs::exists(state)) {
    fail(ErrorCategory::INTERNAL, "runtime delete of container " + c.id +
                                      " failed: the runtime still has its state in " + state +
                                      (logFile.empty() ? "" : "; " + logFile + " has the error"));
  }
  log::info("Deleted the container of a lost monitor through the runtime", {{"container", c.id}});
}

void endMonitor(Daemon& daemon, const Container& c) {
  try {
    MonitorState state = monitorState(daemon, c);
    if (state.status == MonitorStatus::RUNNING) monitorStop(daemon, c, 0, SIGKILL);
    monitorDelete(daemon, c);
    return;
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::UNAVAILABLE) {
      log::warn("the monitor did not end cleanly; killing it",
                {{"container", c.id}, {"error", e.what()}});
    }
  }
  forgetMonitor(daemon, c.id);
  // The pid may belong to another process by now (a monitor that died long ago): only a process
  // whose command line names this container is killed. A create interrupted by a crash left no
  // record of the pid, so the monitor is looked for.
  pid_t monitorPid = c.monitorPid > 0 ? c.monitorPid : findMonitorProcess(c.id);
  if (monitorPid > 0 && commandLineMentions(monitorPid, c.id)) kill(monitorPid, SIGKILL);
  // A monitor killed with SIGKILL leaves its socket files behind.
  std::error_code ec;
  for (const char* suffix : {"", ".console"})
    fs::remove(c.monitorSocket + suffix, ec);
  // The container does not end with its monitor.
  deleteWithoutMonitor(daemon, c);
}

void removeStoredLayer(Daemon& daemon, const std::string& containerId) {
  callPeer(daemon, "crio-stored", [&]() {
    auto request = daemon.stored().client<ipc::schema::Stored>().removeContainerLayerRequest();
    request.setContainerId(containerId);
    return request.send().then([](auto&& response) { return response.getRemoved(); });
  });
}

void saveContainer(Daemon& daemon, const Container& c) {
  writeStateFile(daemon.containerStateDir() + "/" + c.id + ".json", toJson(c));
}

int64_t nowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void applyMonitorState(Container& c, const MonitorState& state) {
  switch (state.status) {
    case MonitorStatus::CREATING:
    case MonitorStatus::CREATED:
      c.state = ContainerState::CREATED;
      break;
    case MonitorStatus::RUNNING:
      c.state = ContainerState::RUNNING;
      break;
    case MonitorStatus::STOPPED:
      c.state = ContainerState::EXITED;
      c.exitCode = state.exitCode;
      c.reason = state.reason;
      c.message = state.message;
      c.finishedAt = state.finishedAt;
      break;
  }
  if (state.createdAt) c.createdAt = state.createdAt;
  if (state.startedAt) c.startedAt = state.startedAt;
}

}  // namespace crio::cri
