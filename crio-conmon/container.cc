#include "crio-conmon/container.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "common/log.h"
#include "crio-conmon/async-error.h"
#include "crio-conmon/clock.h"
#include "crio-conmon/container-field.h"
#include "crio-conmon/exit-record.h"
#include "ipc/errors.h"

namespace crio::conmon {

namespace {

struct Signal {
  kj::Own<kj::PromiseFulfiller<void>> fulfiller;
  kj::ForkedPromise<void> promise;
};

Signal makeSignal() {
  auto paf = kj::newPromiseAndFulfiller<void>();
  return {kj::mv(paf.fulfiller), paf.promise.fork()};
}

pid_t readPidFile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) {
    fail(ErrorCategory::INTERNAL, "the runtime wrote no pid to " + path);
  }
  return static_cast<pid_t>(pid);
}

void requireSignal(int signal) {
  if (signal < 1 || signal >= NSIG) {
    fail(ErrorCategory::INVALID_ARGUMENT, "signal " + std::to_string(signal) + " is not valid");
  }
}

std::string exitReason(int exitCode, bool oomKilled) {
  if (oomKilled) return "OOMKilled";
  return exitCode == 0 ? "Completed" : "Error";
}

}  // namespace

std::string_view statusName(Status status) {
  switch (status) {
    case Status::CREATING:
      return "creating";
    case Status::CREATED:
      return "created";
    case Status::RUNNING:
      return "running";
    case Status::STOPPED:
      return "stopped";
  }
  return "unknown";
}

Container::Container(const MonitorOptions& options, kj::UnixEventPort& port, kj::Timer& timer,
                     ChildReaper& reaper, std::optional<int> childOomScoreAdj)
    : options_(options),
      port_(port),
      timer_(timer),
      reaper_(reaper),
      runtime_({options.runtimePath, options.runtimeRoot, options.runtimeArgs, childOomScoreAdj},
               port, timer, reaper),
      exec_(runtime_, port, timer, options.containerId, options.bundle,
            options.socketPath + ".exec"),
      createdPromise_(nullptr),
      exitedPromise_(nullptr),
      donePromise_(nullptr) {
  auto createdSignal = makeSignal();
  createdFulfiller_ = kj::mv(createdSignal.fulfiller);
  createdPromise_ = kj::mv(createdSignal.promise);
  auto exitedSignal = makeSignal();
  exitedFulfiller_ = kj::mv(exitedSignal.fulfiller);
  exitedPromise_ = kj::mv(exitedSignal.promise);
  auto doneSignal = makeSignal();
  doneFulfiller_ = kj::mv(doneSignal.fulfiller);
  donePromise_ = kj::mv(doneSignal.promise);
}

Container::~Container() = default;

// ---------------------------------------------------------------------------------------------
// Create

void Container::create() {
  log::info("Creating container", {containerField(), {"bundle", options_.bundle}});
  createTask_ = kj::evalNow([this]() { return runCreate(); })
                    .catch_([this](kj::Exception&& e) {
                      createFailed(ipc::fromKjException(normalizeException(kj::mv(e)), "runtime"));
                    })
                    .eagerlyEvaluate(nullptr);
}

kj::Promise<void> Container::runCreate() {
  log_ = kj::heap<ContainerLog>(options_.logPath, options_.logSizeMax);
  stdio_ = kj::heap<ContainerStdio>(options_.openStdin);
  std::string consolePath;
  kj::Promise<kj::AutoCloseFd> terminal = nullptr;
  if (options_.tty) {
    consolePath = options_.socketPath + ".console";
    console_ = kj::heap<ConsoleSocket>(port_, consolePath);
    terminal = console_->receive();
  }
  unlink(options_.containerPidFile.c_str());

  pid_t pid =
      runtime_.spawn(OciRuntime::createArgs(options_.bundle, options_.containerPidFile, consolePath,
                                            options_.containerId),
                     stdio_->runtimeStdin(), stdio_->runtimeStdout(), stdio_->runtimeStderr());
  stdio_->closeRuntimeEnds();
  auto exit = reaper_.onExit(pid).fork();

  auto exited = exit.addBranch().then([](int status) { return kj::Maybe<int>(status); });
  auto expired = timer_.afterDelay(options_.createTimeoutSeconds * kj::SECONDS).then([]() {
    return kj::Maybe<int>(nullptr);
  });
  return exited.exclusiveJoin(kj::mv(expired))
      .then([this, pid, exit = kj::mv(exit),
             terminal = kj::mv(terminal)](kj::Maybe<int> status) mutable -> kj::Promise<void> {
        KJ_IF_MAYBE (s, status) {
          return afterCreateExited(*s, kj::mv(terminal));
        }
        signalChild(pid, SIGKILL);
        return exit.addBranch().then([this](int) -> kj::Promise<void> {
          // What the killed create left behind in the runtime's state goes too.
          cleanupTask_ =
              runtime_.run(OciRuntime::deleteArgs(options_.containerId), RUNTIME_COMMAND_TIMEOUT)
                  .ignoreResult()
                  .eagerlyEvaluate(nullptr);
          failAsync(ErrorCategory::DEADLINE_EXCEEDED,
                    "runtime create did not finish within " +
                        std::to_string(options_.createTimeoutSeconds) + " s and was killed");
        });
      });
}

kj::Promise<void> Container::afterCreateExited(int status, kj::Promise<kj::AutoCloseFd> terminal) {
  int exitCode = exitCodeFromStatus(status);
  if (exitCode != 0) {
    CommandResult result{exitCode, stdio_->readRuntimeOutput(MAX_RUNTIME_OUTPUT)};
    requireSuccess(result, "create");
  }
  pid_t pid = readPidFile(options_.containerPidFile);
  if (!options_.tty) {
    created(pid, nullptr);
    return kj::READY_NOW;
  }
  auto late = timer_.afterDelay(TERMINAL_WAIT).then([]() -> kj::AutoCloseFd {
    failAsync(ErrorCategory::INTERNAL, "the runtime did not send the container's terminal");
  });
  return terminal.exclusiveJoin(kj::mv(late)).then([this, pid](kj::AutoCloseFd master) {
    created(pid, kj::mv(master));
  });
}

void Container::created(pid_t pid, kj::Maybe<kj::AutoCloseFd> terminal) {
  console_ = nullptr;
  kj::Promise<int> initExit = nullptr;
  try {
    initExit = reaper_.onExit(pid);
  } catch (const Error& e) {
    // Without the wait status there is no exit code to report, so the container must not run
    // unmonitored. It is removed by id: a pid that is not the monitor's child may be anyone's.
    cleanupTask_ =
        runtime_.run(OciRuntime::deleteArgs(options_.containerId), RUNTIME_COMMAND_TIMEOUT)
            .ignoreResult()
            .eagerlyEvaluate(nullptr);
    throw e.withContext("monitoring the container's init process");
  }
  state_.pid = pid;
  state_.createdAt = realtimeNanos();
  state_.status = Status::CREATED;
  stdio_->startLogging(port_, timer_, *log_, kj::mv(terminal));
  oom_ = kj::heap<OomWatcher>(port_, pid);
  exitTask_ = initExit.then([this](int status) { return onInitExit(status); })
                  .eagerlyEvaluate([](kj::Exception&& e) {
                    log::error("recording the container's exit failed",
                               {containerField(), {"error", e.getDescription().cStr()}});
                  });
  log::info("Created container", {containerField(), {"pid", pid}});
  createdFulfiller_->fulfill();
}

void Container::createFailed(const Error& error) {
  log::error("Creating container failed", {containerField(), {"error", error.what()}});
  console_ = nullptr;
  createError_ = error;
  state_.status = Status::STOPPED;
  state_.exitCode = -1;
  state_.finishedAt = realtimeNanos();
  state_.reason = "CreateFailed";
  state_.message = error.what();
  writeRecord();
  createdFulfiller_->reject(ipc::toKjException(error));
  exitedFulfiller_->fulfill();
  doneTask_ = timer_.afterDelay(CREATE_FAILED_LINGER)
                  .then([this]() {
                    log::info("the failed container was not deleted in time; monitor exits",
                              {containerField()});
                    doneFulfiller_->fulfill();
                  })
                  .eagerlyEvaluate(nullptr);
}

kj::Promise<ContainerState> Container::waitCreated() {
  if (createError_) throw *createError_;
  return createdPromise_.addBranch().then([this]() { return state_; });
}

// ---------------------------------------------------------------------------------------------
// Exit

kj::Promise<void> Container::onInitExit(int status) {
  initReaped_ = true;
  state_.exitCode = exitCodeFromStatus(status);
  state_.finishedAt = realtimeNanos();
  state_.oomKilled = oom_->oomKilled();
  state_.status = Status::STOPPED;
  state_.reason = exitReason(state_.exitCode, state_.oomKilled);
  log::info("Container exited", {containerField(),
                                 {"exit_code", state_.exitCode},
                                 {"oom_killed", state_.oomKilled ? "true" : "false"}});
  // The record and the waiters get the start time even when the exit came first.
  return stdio_->drain(EXIT_DRAIN_QUIET, EXIT_DRAIN_LIMIT)
      .then([this]() { return whenStartSettled(); })
      .then([this]() { finishExit(); });
}

void Container::finishExit() {
  // The OOM killer counts a kill after it sends SIGKILL, so the victim can be reaped before the
  // count grows. Reading the counter again after the drain catches that.
  if (!state_.oomKilled && oom_->oomKilled()) {
    state_.oomKilled = true;
    state_.reason = exitReason(state_.exitCode, true);
  }
  writeRecord();
  exitedFulfiller_->fulfill();
}

void Container::writeRecord() {
  ExitRecord record;
  record.id = options_.containerId;
  record.pid = state_.pid;
  record.exitCode = state_.exitCode;
  record.oomKilled = state_.oomKilled;
  record.reason = state_.reason;
  record.message = state_.message;
  record.createdAt = state_.createdAt;
  record.startedAt = state_.startedAt;
  record.finishedAt = state_.finishedAt;
  recorded_ = true;
  try {
    writeExitRecord(options_.exitDir, record);
  } catch (const Error& e) {
    log::error("writing the exit record failed; crio-cri learns the exit only from this monitor",
               {containerField(), {"dir", options_.exitDir}, {"error", e.what()}});
  }
}

kj::Promise<ContainerState> Container::waitExit() {
  return exitedPromise_.addBranch().then([this]() { return state_; });
}

// ---------------------------------------------------------------------------------------------
// Start, signals, stop

kj::Promise<ContainerState> Container::start() {
  switch (state_.status) {
    case Status::CREATING:
      fail(ErrorCategory::FAILED_PRECONDITION, "container is still being created");
    case Status::RUNNING:
      fail(ErrorCategory::FAILED_PRECONDITION, "container is already running");
    case Status::STOPPED:
      fail(ErrorCategory::FAILED_PRECONDITION, "container has exited; it cannot be started");
    case Status::CREATED:
      break;
  }
  if (starting_) fail(ErrorCategory::FAILED_PRECONDITION, "container is already being started");
  starting_ = true;
  log::info("Starting container", {containerField()});
  auto started = runtime_.run(OciRuntime::startArgs(options_.containerId), RUNTIME_COMMAND_TIMEOUT)
                     .then([this](CommandResult result) {
                       starting_ = false;
                       requireSuccess(result, "start");
                       int64_t now = realtimeNanos();
                       // A process that exits at once can be reaped before `runtime start` returns.
                       state_.startedAt =
                           state_.finishedAt != 0 ? std::min(now, state_.finishedAt) : now;
                       if (state_.status == Status::CREATED) state_.status = Status::RUNNING;
                       log::info("Started container", {containerField()});
                     })
                     .fork();
  startSettled_ = started.addBranch().catch_([this](kj::Exception&&) { starting_ = false; }).fork();
  return started.addBranch().then([this]() { return state_; });
}

kj::Promise<void> Container::whenStartSettled() {
  KJ_IF_MAYBE (settled, startSettled_) {
    return settled->addBranch();
  }
  return kj::READY_NOW;
}

bool Container::signalInit(int signal) {
  if (initReaped_) return false;
  return signalChild(state_.pid, signal);
}

bool Container::kill(int signal) {
  requireSignal(signal);
  if (state_.status == Status::CREATING) {
    fail(ErrorCategory::FAILED_PRECONDITION, "container is still being created");
  }
  bool delivered = signalInit(signal);
  log::info("Signalled container",
            {containerField(), {"signal", signal}, {"delivered", delivered ? "true" : "false"}});
  return delivered;
}

kj::Promise<ContainerState> Container::stop(int64_t timeoutSeconds, int signal) {
  if (signal == 0) signal = SIGTERM;
  requireSignal(signal);
  if (state_.status == Status::CREATING) {
    fail(ErrorCategory::FAILED_PRECONDITION, "container is still being created");
  }
  if (state_.status == Status::STOPPED) return waitExit();

  log::info("Stopping container",
            {containerField(), {"signal", signal}, {"timeout_seconds", timeoutSeconds}});
  if (timeoutSeconds <= 0) return killAndWait();
  signalInit(signal);
  auto exited = exitedPromise_.addBranch().then([this]() { return state_; });
  auto expired =
      timer_.afterDelay(timeoutSeconds * kj::SECONDS).then([this]() { return killAndWait(); });
  return exited.exclusiveJoin(kj::mv(expired));
}

kj::Promise<ContainerState> Container::killAndWait() {
  if (signalInit(SIGKILL)) {
    log::info("Killing container with SIGKILL", {containerField()});
  }
  auto exited = exitedPromise_.addBranch().then([this]() { return state_; });
  auto stuck = timer_.afterDelay(KILL_WAIT).then([]() -> ContainerState {
    failAsync(ErrorCategory::DEADLINE_EXCEEDED,
              "container did not exit within " + std::to_string(KILL_WAIT / kj::SECONDS) +
                  " s of SIGKILL (uninterruptible sleep or a frozen cgroup?)");
  });
  return exited.exclusiveJoin(kj::mv(stuck));
}

// ---------------------------------------------------------------------------------------------
// Exec, log, removal

kj::Promise<ExecOutcome> Container::execSync(ExecRequest request) {
  if (state_.status != Status::RUNNING) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "container is " + std::string(statusName(state_.status)) + ", not running");
  }
  return exec_.run(std::move(request));
}

void Container::reopenLog() {
  if (!log_) fail(ErrorCategory::FAILED_PRECONDITION, "the container log is not open yet");
  log_->reopen();
  log::info("Reopened container log", {containerField(), {"path", log_->path()}});
}

kj::Promise<void> Container::remove() {
  KJ_IF_MAYBE (removal, removal_) {
    if (!removalFailed_) return removal->addBranch();
  }
  if (state_.status == Status::CREATING) {
    fail(ErrorCategory::FAILED_PRECONDITION, "container is still being created");
  }
  if (state_.status == Status::RUNNING) {
    fail(ErrorCategory::FAILED_PRECONDITION, "container is running; stop it before deleting it");
  }
  log::info("Deleting container", {containerField()});
  removalFailed_ = false;
  auto removal =
      runtime_.run(OciRuntime::deleteArgs(options_.containerId), RUNTIME_COMMAND_TIMEOUT)
          .then([this](CommandResult result) -> kj::Promise<void> {
            requireSuccess(result, "delete");
            // The monitor ends only after the exit record is written: deleting a created
            // container kills its init, and a container that just exited may still be drained.
            return exitedPromise_.addBranch().exclusiveJoin(timer_.afterDelay(KILL_WAIT).then([]() {
              failAsync(ErrorCategory::DEADLINE_EXCEEDED,
                        "the container's exit was not recorded after runtime delete");
            }));
          })
          .then(
              [this]() {
                log::info("Deleted container", {containerField()});
                doneTask_ = timer_.afterDelay(SHUTDOWN_FLUSH_DELAY)
                                .then([this]() { doneFulfiller_->fulfill(); })
                                .eagerlyEvaluate(nullptr);
              },
              [this](kj::Exception&& e) {
                removalFailed_ = true;
                log::error("Deleting container failed",
                           {containerField(), {"error", e.getDescription().cStr()}});
                kj::throwFatalException(kj::mv(e));
              })
          .fork();
  auto branch = removal.addBranch();
  removal_ = kj::mv(removal);
  return branch;
}

kj::Promise<void> Container::whenDone() {
  return donePromise_.addBranch();
}

void Container::recordPendingExit() {
  if (state_.status != Status::STOPPED || recorded_) return;
  if (log_) {
    log_->flushPartial(Stream::STDOUT, realtimeNanos());
    log_->flushPartial(Stream::STDERR, realtimeNanos());
    log_->sync();
  }
  writeRecord();
}

}  // namespace crio::conmon
