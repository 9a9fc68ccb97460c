#include "crio-cri/cri-socket.h"

#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/log.h"
#include "ipc/unix-socket.h"

namespace crio::cri {

CriSocket::CriSocket(const std::string& path) : path_(path) {
  listenFd_ = ipc::listenUnixSocket(path, 0660, "cri", &activated_);
  stopFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stopFd_ < 0) failSyscall("eventfd");
}

CriSocket::~CriSocket() {
  close();
  if (stopFd_ >= 0) ::close(stopFd_);
}

void CriSocket::serve(grpc::Server& server) {
  thread_ = std::thread([this, &server]() { acceptLoop(server); });
}

void CriSocket::close() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)::write(stopFd_, &one, sizeof one);
    thread_.join();
  }
  if (listenFd_ >= 0) {
    ::close(listenFd_);
    listenFd_ = -1;
    if (!activated_) ipc::removeOwnSocket(path_);
  }
}

void CriSocket::acceptLoop(grpc::Server& server) {
  pollfd fds[2] = {{listenFd_, POLLIN, 0}, {stopFd_, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log::error("poll on the CRI socket failed", {{"error", std::strerror(errno)}});
      return;
    }
    if (fds[1].revents != 0) return;
    int fd = accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      // When accept fails (for example with no descriptors left), the connection stays queued and
      // poll() reports it again at once. So pause instead of spinning, and log once per interval.
      unsigned suppressed = 0;
      if (acceptErrors_.allow(suppressed)) {
        log::error("accept on the CRI socket failed; retrying",
                   {{"error", std::strerror(errno)}, {"suppressed", suppressed}});
      }
      pollfd stop = {stopFd_, POLLIN, 0};
      if (poll(&stop, 1, ACCEPT_RETRY_MILLIS) > 0) return;
      continue;
    }
    grpc::AddInsecureChannelFromFd(&server, fd);
  }
}

}  // namespace crio::cri
