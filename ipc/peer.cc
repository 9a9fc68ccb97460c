#include "ipc/peer.h"

#include "common/error.h"
#include "common/log.h"
#include "ipc/errors.h"
#include "ipc/server.h"
#include "ipc/unix-socket.h"

namespace crio::ipc {

struct Peer::Connection {
  kj::Own<kj::AsyncCapabilityStream> stream;
  capnp::TwoPartyClient client;
  capnp::Capability::Client bootstrap;
  kj::Promise<void> watch = nullptr;

  explicit Connection(kj::Own<kj::AsyncCapabilityStream> s)
      : stream(kj::mv(s)), client(*stream, MAX_FDS_PER_MESSAGE), bootstrap(client.bootstrap()) {}
};

Peer::Peer(kj::AsyncIoContext& io, std::string name, std::string socketPath,
           std::vector<uid_t> allowedUids)
    : io_(io),
      name_(std::move(name)),
      socketPath_(std::move(socketPath)),
      allowedUids_(std::move(allowedUids)) {
  state_.message = "not connected yet";
}

Peer::~Peer() = default;

void Peer::start() {
  loop_ = connectLoop(0 * kj::SECONDS).eagerlyEvaluate(nullptr);
}

PeerState Peer::state() const {
  std::lock_guard<std::mutex> lock(stateMutex_);
  return state_;
}

void Peer::setState(bool connected, std::string message, DaemonInfo info) {
  std::lock_guard<std::mutex> lock(stateMutex_);
  state_.connected = connected;
  state_.message = std::move(message);
  state_.info = std::move(info);
}

capnp::Capability::Client Peer::bootstrap() {
  if (connection_.get() == nullptr) {
    fail(ErrorCategory::UNAVAILABLE, name_ + " is not reachable at " + socketPath_ + ": " +
                                         state().message + "; check that " + name_ +
                                         " is running (its log tells why it stopped)");
  }
  return connection_->bootstrap;
}

kj::Promise<void> Peer::whenConnected(kj::Duration timeout) {
  if (connection_.get() != nullptr && state().connected) return kj::READY_NOW;
  auto paf = kj::newPromiseAndFulfiller<void>();
  waiters_.add(kj::mv(paf.fulfiller));
  return io_.provider->getTimer()
      .timeoutAfter(timeout, kj::mv(paf.promise))
      .catch_([this](kj::Exception&&) -> kj::Promise<void> {
        return toKjException(
            Error(ErrorCategory::UNAVAILABLE, name_ + " is not reachable at " + socketPath_ + ": " +
                                                  state().message + "; check that " + name_ +
                                                  " is running (its log tells why it stopped)"));
      });
}

kj::Promise<void> Peer::connectLoop(kj::Duration delay) {
  return io_.provider->getTimer().afterDelay(delay).then([this]() { return tryConnect(); });
}

kj::Promise<void> Peer::tryConnect() {
  int fd;
  try {
    fd = connectUnixSocket(socketPath_, allowedUids_);
  } catch (const Error& e) {
    std::string message = e.what();
    if (state().message != message) {
      log::debug("cannot connect to peer", {{"peer", name_}, {"reason", message}});
    }
    setState(false, message);
    auto delay = nextDelay_;
    nextDelay_ = kj::min(nextDelay_ * 2, RETRY_MAX);
    return connectLoop(delay);
  }

  auto stream =
      io_.lowLevelProvider->wrapUnixSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  connection_ = kj::heap<Connection>(kj::mv(stream));

  auto request = connection_->bootstrap.castAs<schema::Daemon>().infoRequest();
  auto infoCall = io_.provider->getTimer().timeoutAfter(HEARTBEAT_TIMEOUT, request.send());
  return infoCall
      .then([this](capnp::Response<schema::Daemon::InfoResults>&& response) -> kj::Promise<void> {
        DaemonInfo info = readDaemonInfo(response.getInfo());
        log::info("connected to peer", {{"peer", name_},
                                        {"pid", info.pid},
                                        {"version", info.version},
                                        {"capabilities", info.capabilities}});
        setState(true, "", info);
        nextDelay_ = RETRY_MIN;
        for (auto& waiter : waiters_)
          waiter->fulfill();
        waiters_.clear();

        // Whichever comes first: the socket closes, or a heartbeat goes unanswered.
        auto disconnect = connection_->client.onDisconnect();
        return disconnect.exclusiveJoin(heartbeat()).then([this]() {
          lost("connection closed");
          return connectLoop(RETRY_MIN);
        });
      })
      .catch_([this](kj::Exception&& e) -> kj::Promise<void> {
        lost(fromKjException(e, name_).what());
        return connectLoop(nextDelay_);
      });
}

kj::Promise<void> Peer::heartbeat() {
  auto& timer = io_.provider->getTimer();
  return timer.afterDelay(HEARTBEAT_INTERVAL).then([this, &timer]() {
    auto request = connection_->bootstrap.castAs<schema::Daemon>().infoRequest();
    return timer.timeoutAfter(HEARTBEAT_TIMEOUT, request.send()).then([this](auto&&) {
      return heartbeat();
    });
  });
}

void Peer::lost(const std::string& why) {
  if (state().connected) {
    log::warn("lost connection to peer", {{"peer", name_}, {"reason", why}});
  }
  setState(false, why);
  connection_ = nullptr;
}

}  // namespace crio::ipc
