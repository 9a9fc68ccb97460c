#include "crio-conmon/console-socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "ipc/unix-socket.h"

namespace crio::conmon {

ConsoleSocket::ConsoleSocket(kj::UnixEventPort& port, std::string path)
    : port_(port), path_(std::move(path)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) {
    fail(ErrorCategory::INVALID_ARGUMENT, "console socket path " + path_ + " is longer than " +
                                              std::to_string(sizeof addr.sun_path - 1) +
                                              " bytes; choose a shorter --socket folder");
  }
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) failSyscall("socket");
  listener_ = kj::AutoCloseFd(fd);
  unlink(path_.c_str());
  mode_t old = umask(0177);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  umask(old);
  if (rc != 0) failSyscall("bind", path_, err);
  if (listen(fd, 1) != 0) failSyscall("listen", path_);
  listenObserver_ = kj::heap<kj::UnixEventPort::FdObserver>(
      port_, fd, kj::UnixEventPort::FdObserver::OBSERVE_READ);
}

ConsoleSocket::~ConsoleSocket() {
  connectionObserver_ = nullptr;
  listenObserver_ = nullptr;
  unlink(path_.c_str());
}

kj::Promise<kj::AutoCloseFd> ConsoleSocket::receive() {
  return acceptOne();
}

kj::Promise<kj::AutoCloseFd> ConsoleSocket::acceptOne() {
  int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED) {
      return listenObserver_->whenBecomesReadable().then([this]() { return acceptOne(); });
    }
    failSyscall("accept", path_);
  }
  kj::AutoCloseFd connection(fd);
  ipc::PeerCredentials peer = ipc::peerCredentials(fd);
  if (peer.uid != geteuid()) {
    // Not the runtime: only the monitor's own uid can reach the socket (mode 0600).
    return acceptOne();
  }
  connection_ = kj::mv(connection);
  connectionObserver_ = kj::heap<kj::UnixEventPort::FdObserver>(
      port_, fd, kj::UnixEventPort::FdObserver::OBSERVE_READ);
  return receiveFrom();
}

kj::Promise<kj::AutoCloseFd> ConsoleSocket::receiveFrom() {
  char name[256];
  struct iovec iov = {name, sizeof name};
  // Room for a few fds: a runtime sends one; any extra is closed below.
  alignas(struct cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;

  ssize_t n = recvmsg(connection_.get(), &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return connectionObserver_->whenBecomesReadable().then([this]() { return receiveFrom(); });
    }
    failSyscall("recvmsg", path_);
  }

  kj::AutoCloseFd master;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (master == nullptr) {
        master = kj::AutoCloseFd(fd);
      } else {
        close(fd);
      }
    }
  }
  connectionObserver_ = nullptr;
  connection_ = nullptr;
  if (master == nullptr) {
    fail(ErrorCategory::INTERNAL,
         "the runtime closed console socket " + path_ + " without sending a terminal");
  }
  int flags = fcntl(master.get(), F_GETFL);
  fcntl(master.get(), F_SETFL, flags | O_NONBLOCK);
  return kj::mv(master);
}

}  // namespace crio::conmon
