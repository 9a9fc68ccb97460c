// The lifecycle of the one container a monitor runs.
//
// Status moves creating -> created -> running -> stopped. A failed or timed-out create goes from
// creating to stopped with reason CreateFailed; a created container killed before start goes to
// stopped too. The init process becomes the monitor's child after `runtime create`, because the
// monitor is a child subreaper. Its exit code comes from the wait status. Then the rest of its
// output is read, the log is synced and the exit record is written, and only then do waitExit()
// and stop() resolve.
//
// The monitor's work ends (whenDone()) after remove(), or CREATE_FAILED_LINGER after a failed
// create that was not removed. Until then it serves state().
#pragma once

#include <kj/async-unix.h>
#include <kj/time.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/error.h"
#include "crio-conmon/child-reaper.h"
#include "crio-conmon/console-socket.h"
#include "crio-conmon/container-log.h"
#include "crio-conmon/container-stdio.h"
#include "crio-conmon/exec-session.h"
#include "crio-conmon/oci-runtime.h"
#include "crio-conmon/oom-watcher.h"
#include "crio-conmon/options.h"

namespace crio::conmon {

// Bound on `runtime start` and `runtime delete`.
constexpr auto RUNTIME_COMMAND_TIMEOUT = 2 * kj::MINUTES;
// After the init process exited, its output is read until it ends, or until nothing came for
// EXIT_DRAIN_QUIET, for at most EXIT_DRAIN_LIMIT: with a shared pid namespace, processes it
// started may live on and hold the pipes.
constexpr auto EXIT_DRAIN_QUIET = 200 * kj::MILLISECONDS;
constexpr auto EXIT_DRAIN_LIMIT = 2 * kj::SECONDS;
// How long stop() waits for the exit after SIGKILL before it fails: a process in uninterruptible
// sleep, or a frozen cgroup, does not die at once.
constexpr auto KILL_WAIT = 30 * kj::SECONDS;
// How long a monitor whose create failed waits for crio-cri to read the error and remove it.
constexpr auto CREATE_FAILED_LINGER = 5 * kj::MINUTES;
// Between the reply to remove() and the end of the monitor, so that the reply reaches the client.
constexpr auto SHUTDOWN_FLUSH_DELAY = 100 * kj::MILLISECONDS;
// How long the runtime may take to send the terminal after create succeeded.
constexpr auto TERMINAL_WAIT = 5 * kj::SECONDS;

enum class Status { CREATING, CREATED, RUNNING, STOPPED };

struct ContainerState {
  Status status = Status::CREATING;
  int32_t pid = 0;
  int64_t createdAt = 0;
  int64_t startedAt = 0;
  int64_t finishedAt = 0;
  int32_t exitCode = 0;
  bool oomKilled = false;
  std::string reason;
  std::string message;
};

class Container {
 public:
  Container(const MonitorOptions& options, kj::UnixEventPort& port, kj::Timer& timer,
            ChildReaper& reaper, std::optional<int> childOomScoreAdj);
  ~Container();

  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  // Starts `runtime create`; returns at once.
  void create();

  const ContainerState& state() const { return state_; }
  kj::Promise<ContainerState> waitCreated();
  kj::Promise<ContainerState> start();
  // False when the init process had already exited.
  bool kill(int signal);
  kj::Promise<ContainerState> stop(int64_t timeoutSeconds, int signal);
  kj::Promise<ContainerState> waitExit();
  kj::Promise<ExecOutcome> execSync(ExecRequest request);
  void reopenLog();
  kj::Promise<void> remove();

  kj::Promise<void> whenDone();

  // Records an exit whose output is still being drained, for a monitor that ends on a signal.
  void recordPendingExit();

 private:
  kj::Promise<void> runCreate();
  kj::Promise<void> afterCreateExited(int status, kj::Promise<kj::AutoCloseFd> terminal);
  void created(pid_t pid, kj::Maybe<kj::AutoCloseFd> terminal);
  void createFailed(const Error& error);
  kj::Promise<void> onInitExit(int status);
  kj::Promise<void> whenStartSettled();
  void finishExit();
  void writeRecord();
  // Sends `signal` to the init process unless it was reaped; false then.
  bool signalInit(int signal);
  kj::Promise<ContainerState> killAndWait();

  const MonitorOptions& options_;
  kj::UnixEventPort& port_;
  kj::Timer& timer_;
  ChildReaper& reaper_;
  OciRuntime runtime_;
  ExecRunner exec_;
  ContainerState state_;
  std::optional<Error> createError_;
  bool starting_ = false;
  bool initReaped_ = false;
  bool recorded_ = false;  // the exit record is written

  kj::Own<ContainerLog> log_;
  kj::Own<ContainerStdio> stdio_;
  kj::Own<ConsoleSocket> console_;
  kj::Own<OomWatcher> oom_;

  kj::Own<kj::PromiseFulfiller<void>> createdFulfiller_;
  kj::ForkedPromise<void> createdPromise_;
  kj::Own<kj::PromiseFulfiller<void>> exitedFulfiller_;
  kj::ForkedPromise<void> exitedPromise_;
  kj::Own<kj::PromiseFulfiller<void>> doneFulfiller_;
  kj::ForkedPromise<void> donePromise_;
  // Resolves when the `runtime start` under way has finished, either way.
  kj::Maybe<kj::ForkedPromise<void>> startSettled_;
  kj::Maybe<kj::ForkedPromise<void>> removal_;
  bool removalFailed_ = false;

  kj::Promise<void> createTask_ = nullptr;
  kj::Promise<void> exitTask_ = nullptr;
  kj::Promise<void> cleanupTask_ = nullptr;  // runtime delete after a killed create
  kj::Promise<void> doneTask_ = nullptr;     // the delay before whenDone() resolves
};

std::string_view statusName(Status status);

}  // namespace crio::conmon
