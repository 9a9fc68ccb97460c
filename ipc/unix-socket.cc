#include "ipc/unix-socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "common/error.h"
#include "common/systemd-notify.h"

namespace crio::ipc {

namespace {

sockaddr_un addressOf(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    fail(ErrorCategory::INVALID_ARGUMENT, "socket path " + path + " is longer than " +
                                              std::to_string(sizeof addr.sun_path - 1) +
                                              " bytes; choose a shorter --root or socket path");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

PeerCredentials peerCredentials(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    failSyscall("getsockopt SO_PEERCRED");
  }
  return {cred.pid, cred.uid, cred.gid};
}

void requireAllowedUid(uid_t uid, const std::vector<uid_t>& allowed, std::string_view who) {
  if (std::find(allowed.begin(), allowed.end(), uid) != allowed.end()) return;
  fail(ErrorCategory::PERMISSION_DENIED,
       std::string(who) + " runs as uid " + std::to_string(uid) +
           ", which is not allowed ([crio.suite] allowed_peer_uids)");
}

int listenUnixSocket(const std::string& path, mode_t mode, std::string_view systemdName,
                     bool* activated) {
  int passed = systemd::takeListenFd(systemdName);
  if (activated != nullptr) *activated = passed >= 0;
  if (passed >= 0) {
    int flags = fcntl(passed, F_GETFL);
    fcntl(passed, F_SETFL, flags | O_NONBLOCK);
    return passed;
  }

  sockaddr_un addr = addressOf(path);
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           path + " exists and is not a socket; remove it or choose another path");
    }
    if (unlink(path.c_str()) != 0) failSyscall("remove stale socket", path);
  }

  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) failSyscall("socket");
  // Bind with a restrictive umask so the socket never exists with looser permissions.
  mode_t old = umask(0777 & ~mode);
  int rc = bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int saved = errno;
  umask(old);
  if (rc != 0) failSyscall("bind", path, saved);
  if (chmod(path.c_str(), mode) != 0) failSyscall("chmod", path);
  if (listen(fd.get(), 128) != 0) failSyscall("listen", path);
  return fd.release();
}

int connectUnixSocket(const std::string& path, const std::vector<uid_t>& allowedUids) {
  sockaddr_un addr = addressOf(path);
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) fail(ErrorCategory::UNAVAILABLE, "no socket at " + path);
    failSyscall("stat", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    fail(ErrorCategory::FAILED_PRECONDITION, path + " is not a socket");
  }
  requireAllowedUid(st.st_uid, allowedUids, "the owner of " + path);
  if ((st.st_mode & S_IWOTH) != 0) {
    fail(ErrorCategory::PERMISSION_DENIED, path + " is writable by everyone; refusing to use it");
  }

  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) failSyscall("socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ECONNREFUSED || errno == ENOENT) {
      fail(ErrorCategory::UNAVAILABLE, "nothing listens on " + path);
    }
    failSyscall("connect", path);
  }
  PeerCredentials peer = peerCredentials(fd.get());
  requireAllowedUid(peer.uid, allowedUids, "the process listening on " + path);

  int flags = fcntl(fd.get(), F_GETFL);
  fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
  return fd.release();
}

}  // namespace crio::ipc
