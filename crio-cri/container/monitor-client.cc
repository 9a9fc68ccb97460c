#include "crio-cri/container/monitor-client.h"

#include <capnp/rpc-twoparty.h>

#include <set>

#include "common/error.h"
#include "common/log.h"
#include "crio-cri/container/container.h"
#include "crio-cri/daemon.h"
#include "crio-cri/peer-call.h"
#include "ipc/errors.h"
#include "ipc/server.h"
#include "ipc/unix-socket.h"

namespace crio::cri {

namespace schema = ipc::schema;

struct MonitorConnections::Connection {
  kj::Own<kj::AsyncCapabilityStream> stream;
  capnp::TwoPartyClient rpc;
  schema::Monitor::Client monitor;
  bool lost = false;
  kj::Promise<void> disconnectWatch = nullptr;
  kj::Promise<void> exitWatch = nullptr;
  bool exitWatched = false;

  explicit Connection(kj::Own<kj::AsyncCapabilityStream> s)
      : stream(kj::mv(s)),
        rpc(*stream, ipc::MAX_FDS_PER_MESSAGE),
        monitor(rpc.bootstrap().castAs<schema::Monitor>()) {}
};

MonitorConnections::MonitorConnections(kj::AsyncIoContext& io, std::vector<uid_t> allowedUids,
                                       std::function<void(const std::string&)> onEvent)
    : io_(io),
      allowedUids_(std::move(allowedUids)),
      onEvent_(std::move(onEvent)),
      tasks_(taskErrors_) {}

MonitorConnections::~MonitorConnections() = default;

schema::Monitor::Client MonitorConnections::client(const std::string& id,
                                                   const std::string& socket) {
  auto it = connections_.find(id);
  if (it != connections_.end() && !it->second->lost) return it->second->monitor;

  int fd = ipc::connectUnixSocket(socket, allowedUids_);
  auto connection = kj::heap<Connection>(
      io_.lowLevelProvider->wrapUnixSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP));
  Connection* raw = connection.get();
  raw->disconnectWatch = raw->rpc.onDisconnect()
                             .then([this, raw, id]() {
                               raw->lost = true;
                               log::debug("monitor connection closed", {{"container", id}});
                               onEvent_(id);
                             })
                             .eagerlyEvaluate(nullptr);
  connections_[id] = kj::mv(connection);
  return raw->monitor;
}

void MonitorConnections::watchExit(const std::string& id, const std::string& socket) {
  client(id, socket);
  Connection& connection = *connections_[id];
  if (connection.exitWatched) return;
  connection.exitWatched = true;
  connection.exitWatch = connection.monitor.waitExitRequest()
                             .send()
                             .then([this, id](auto&&) { onEvent_(id); },
                                   [](kj::Exception&&) {
                                     // A lost connection is reported by its disconnect watch.
                                   })
                             .eagerlyEvaluate(nullptr);
}

void MonitorConnections::forget(const std::string& id) {
  connections_.erase(id);
}

// ---------------------------------------------------------------------------------------------

namespace {

MonitorState readState(schema::ContainerState::Reader in) {
  MonitorState state;
  switch (in.getStatus()) {
    case schema::ContainerStatus::CREATING:
      state.status = MonitorStatus::CREATING;
      break;
    case schema::ContainerStatus::CREATED:
      state.status = MonitorStatus::CREATED;
      break;
    case schema::ContainerStatus::RUNNING:
      state.status = MonitorStatus::RUNNING;
      break;
    case schema::ContainerStatus::STOPPED:
      state.status = MonitorStatus::STOPPED;
      break;
  }
  state.pid = in.getPid();
  state.createdAt = in.getCreatedAt();
  state.startedAt = in.getStartedAt();
  state.finishedAt = in.getFinishedAt();
  state.exitCode = in.getExitCode();
  state.oomKilled = in.getOomKilled();
  state.reason = in.getReason();
  state.message = in.getMessage();
  return state;
}

// Runs `fn(monitor)` on the loop thread and waits at most `seconds` for its promise.
template <typename Fn>
auto onMonitor(Daemon& daemon, const Container& container, int64_t seconds, const char* what,
               Fn&& fn) {
  std::string id = container.id;
  std::string socket = container.monitorSocket;
  return callPeer(daemon, "crio-conmon", [&]() {
    auto monitor = daemon.monitors().client(id, socket);
    auto promise = fn(monitor);
    using T = decltype(promise.wait(std::declval<kj::WaitScope&>()));
    auto timeout = daemon.monitors()
                       .timer()
                       .afterDelay(seconds * kj::SECONDS)
                       .then([id, seconds, what]() -> T {
                         kj::throwFatalException(ipc::toKjException(Error(
                             ErrorCategory::DEADLINE_EXCEEDED,
                             std::string("the monitor of container ") + id + " did not answer " +
                                 what + " within " + std::to_string(seconds) + " s")));
                       });
    return promise.exclusiveJoin(kj::mv(timeout));
  });
}

}  // namespace

MonitorState monitorState(Daemon& daemon, const Container& container) {
  return onMonitor(daemon, container, MONITOR_ANSWER_TIMEOUT_SECONDS, "state",
                   [](schema::Monitor::Client& monitor) {
                     return monitor.stateRequest().send().then(
                         [](auto&& response) { return readState(response.getState()); });
                   });
}

MonitorState monitorWaitCreated(Daemon& daemon, const Container& container) {
  return onMonitor(daemon, container,
                   MONITOR_CREATE_TIMEOUT_SECONDS + MONITOR_ANSWER_TIMEOUT_SECONDS, "waitCreated",
                   [](schema::Monitor::Client& monitor) {
                     return monitor.waitCreatedRequest().send().then(
                         [](auto&& response) { return readState(response.getState()); });
                   });
}

MonitorState monitorStart(Daemon& daemon, const Container& container) {
  return onMonitor(daemon, container, 4 * MONITOR_ANSWER_TIMEOUT_SECONDS, "start",
                   [](schema::Monitor::Client& monitor) {
                     return monitor.startRequest().send().then(
                         [](auto&& response) { return readState(response.getState()); });
                   });
}

MonitorState monitorStop(Daemon& daemon, const Container& container, int64_t timeoutSeconds,
                         int signal) {
  int64_t bound = std::max<int64_t>(timeoutSeconds, 0) + MONITOR_KILL_GRACE_SECONDS +
                  MONITOR_ANSWER_TIMEOUT_SECONDS;
  return onMonitor(
      daemon, container, bound, "stop", [timeoutSeconds, signal](schema::Monitor::Client& monitor) {
        auto request = monitor.stopRequest();
        request.setTimeoutSeconds(timeoutSeconds);
        request.setSignal(signal);
        return request.send().then([](auto&& response) { return readState(response.getState()); });
      });
}

ExecOutput monitorExecSync(Daemon& daemon, const Container& container,
                           const std::vector<std::string>& argv, int64_t timeoutSeconds) {
  // Without a timeout the command may run as long as it likes; the bound then only guards
  // against a monitor that hangs for a day.
  int64_t bound = timeoutSeconds > 0 ? timeoutSeconds + MONITOR_ANSWER_TIMEOUT_SECONDS : 86400;
  return onMonitor(daemon, container, bound, "execSync",
                   [&argv, timeoutSeconds](schema::Monitor::Client& monitor) {
                     auto request = monitor.execSyncRequest();
                     auto args = request.initArgv(static_cast<unsigned>(argv.size()));
                     for (unsigned i = 0; i < args.size(); ++i)
                       args.set(i, argv[i]);
                     request.setTimeoutSeconds(timeoutSeconds);
                     request.setTty(false);
                     return request.send().then([](auto&& response) {
                       auto result = response.getResult();
                       ExecOutput out;
                       out.exitCode = result.getExitCode();
                       auto o = result.getStdout();
                       auto e = result.getStderr();
                       out.out.assign(reinterpret_cast<const char*>(o.begin()), o.size());
                       out.err.assign(reinterpret_cast<const char*>(e.begin()), e.size());
                       return out;
                     });
                   });
}

void monitorReopenLog(Daemon& daemon, const Container& container) {
  onMonitor(daemon, container, MONITOR_ANSWER_TIMEOUT_SECONDS, "reopenLog",
            [](schema::Monitor::Client& monitor) {
              return monitor.reopenLogRequest().send().then([](auto&&) { return true; });
            });
}

void monitorDelete(Daemon& daemon, const Container& container) {
  onMonitor(daemon, container, 4 * MONITOR_ANSWER_TIMEOUT_SECONDS, "delete",
            [](schema::Monitor::Client& monitor) {
              return monitor.deleteRequest().send().then([](auto&&) { return true; });
            });
  forgetMonitor(daemon, container.id);
}

void watchMonitorExit(Daemon& daemon, const Container& container) {
  std::string id = container.id;
  std::string socket = container.monitorSocket;
  callPeer(daemon, "crio-conmon", [&]() {
    daemon.monitors().watchExit(id, socket);
    return kj::Promise<bool>(true);
  });
}

void forgetMonitor(Daemon& daemon, const std::string& containerId) {
  daemon.loop().run([&]() { daemon.monitors().forget(containerId); });
}

}  // namespace crio::cri
