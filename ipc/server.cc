#include "ipc/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "ipc/unix-socket.h"

namespace crio::ipc {

Server::Server(kj::LowLevelAsyncIoProvider& lowLevel, kj::UnixEventPort& eventPort, int listenFd,
               capnp::Capability::Client bootstrap, std::vector<uid_t> allowedUids,
               std::string name)
    : lowLevel_(lowLevel),
      eventPort_(eventPort),
      listenFd_(listenFd),
      observer_(eventPort, listenFd, kj::UnixEventPort::FdObserver::OBSERVE_READ),
      server_(kj::mv(bootstrap)),
      allowedUids_(std::move(allowedUids)),
      name_(std::move(name)) {}

Server::~Server() = default;

kj::Promise<void> Server::run() {
  return acceptLoop();
}

kj::Promise<void> Server::acceptLoop() {
  while (true) {
    int fd = accept4(listenFd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors (or another failure): the connection stays queued, and the observer
      // is edge-triggered, so waiting for readability could wait forever. Retry after a pause.
      unsigned suppressed = 0;
      if (acceptErrors_.allow(suppressed)) {
        log::error("accept failed; retrying",
                   {{"socket", name_}, {"error", strerror(errno)}, {"suppressed", suppressed}});
      }
      return eventPort_.getTimer().afterDelay(ACCEPT_RETRY_DELAY).then([this]() {
        return acceptLoop();
      });
    }
    try {
      PeerCredentials peer = peerCredentials(fd);
      requireAllowedUid(peer.uid, allowedUids_, "a client of " + name_);
      log::debug("client connected", {{"socket", name_}, {"peer_pid", peer.pid}});
    } catch (const std::exception& e) {
      log::warn("connection refused", {{"socket", name_}, {"reason", e.what()}});
      close(fd);
      continue;
    }
    auto stream = lowLevel_.wrapUnixSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    server_.accept(kj::mv(stream), MAX_FDS_PER_MESSAGE);
  }
  return observer_.whenBecomesReadable().then([this]() { return acceptLoop(); });
}

}  // namespace crio::ipc
