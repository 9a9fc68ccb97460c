// crio-cri's side of the crio-conmon Monitor interface (ipc/conmon.capnp): one connection per
// container, made when first needed and made again after it was lost (the monitor outlives
// crio-cri, and crio-cri outlives nothing).
//
// Threads: MonitorConnections lives on the IPC loop thread. The free functions below are for
// blocking threads (gRPC workers): each runs its call on the loop and waits for it. Every call
// has a time bound (MONITOR_ANSWER_TIMEOUT beyond the time the call itself may take), so a hung
// monitor makes a CRI call fail with DEADLINE_EXCEEDED instead of hanging it.
#pragma once

#include <kj/async-io.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ipc/conmon.capnp.h"

namespace crio::cri {

class Daemon;
struct Container;

// How long a monitor may take to answer beyond the time its call is allowed to take.
constexpr int64_t MONITOR_ANSWER_TIMEOUT_SECONDS = 10;
// crio-conmon's own bound on `runtime create` (its --create-timeout default).
constexpr int64_t MONITOR_CREATE_TIMEOUT_SECONDS = 240;
// How long the monitor waits after SIGKILL before it gives up on a stop (docs/monitor.md).
constexpr int64_t MONITOR_KILL_GRACE_SECONDS = 30;

enum class MonitorStatus { CREATING, CREATED, RUNNING, STOPPED };

struct MonitorState {
  MonitorStatus status = MonitorStatus::CREATING;
  int32_t pid = 0;
  int64_t createdAt = 0;  // nanoseconds since the Unix epoch, 0 until it happened
  int64_t startedAt = 0;
  int64_t finishedAt = 0;
  int32_t exitCode = 0;
  bool oomKilled = false;
  std::string reason;
  std::string message;
};

struct ExecOutput {
  int32_t exitCode = 0;
  std::string out;
  std::string err;
};

// The connections to every container's monitor. Loop thread only.
class MonitorConnections {
 public:
  // `onEvent(id)` is called (on the loop thread) when a watched container's waitExit resolves
  // or its connection is lost; it must not block.
  MonitorConnections(kj::AsyncIoContext& io, std::vector<uid_t> allowedUids,
                     std::function<void(const std::string&)> onEvent);
  ~MonitorConnections();

  // The Monitor of container `id` at `socket`, connecting when there is no live connection.
  // UNAVAILABLE when nothing listens there.
  ipc::schema::Monitor::Client client(const std::string& id, const std::string& socket);

  // Keeps one waitExit() pending for `id` (placed again after a reconnect).
  void watchExit(const std::string& id, const std::string& socket);

  // Drops the connection and any watch (the container is being deleted).
  void forget(const std::string& id);

  kj::Timer& timer() { return io_.provider->getTimer(); }

 private:
  struct Connection;

  kj::AsyncIoContext& io_;
  std::vector<uid_t> allowedUids_;
  std::function<void(const std::string&)> onEvent_;
  std::map<std::string, kj::Own<Connection>> connections_;
  kj::TaskSet tasks_;
  class TaskErrors : public kj::TaskSet::ErrorHandler {
    void taskFailed(kj::Exception&&) override {}
  } taskErrors_;
};

// Blocking calls to a container's monitor. Errors are crio::Error: UNAVAILABLE when the monitor
// cannot be reached, DEADLINE_EXCEEDED past the bound, else the monitor's own category.
MonitorState monitorState(Daemon& daemon, const Container& container);
MonitorState monitorWaitCreated(Daemon& daemon, const Container& container);
MonitorState monitorStart(Daemon& daemon, const Container& container);
MonitorState monitorStop(Daemon& daemon, const Container& container, int64_t timeoutSeconds,
                         int signal);
ExecOutput monitorExecSync(Daemon& daemon, const Container& container,
                           const std::vector<std::string>& argv, int64_t timeoutSeconds);
void monitorReopenLog(Daemon& daemon, const Container& container);
void monitorDelete(Daemon& daemon, const Container& container);
void watchMonitorExit(Daemon& daemon, const Container& container);
void forgetMonitor(Daemon& daemon, const std::string& containerId);

}  // namespace crio::cri
