#include "ipc/unix-socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
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

std::map<std::string, std::pair<dev_t, ino_t>>& ownSockets() {
  static std::map<std::string, std::pair<dev_t, ino_t>> sockets;
  return sockets;
}

std::mutex& ownSocketsMutex() {
  static std::mutex mutex;
  return mutex;
}

void rememberOwnSocket(const std::string& path, const struct stat& st) {
  std::lock_guard<std::mutex> lock(ownSocketsMutex());
  ownSockets()[path] = {st.st_dev, st.st_ino};
}

void requireAbsoluteSocketPath(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
    fail(ErrorCategory::INVALID_ARGUMENT, "socket path \"" + path + "\" must be absolute");
  }
}

// A socket in a folder every user can write to could be replaced by any of them.
void requireSafeFolder(const std::string& path) {
  std::string folder = path.substr(0, path.rfind('/'));
  if (folder.empty()) folder = "/";
  struct stat st;
  if (stat(folder.c_str(), &st) != 0) failSyscall("stat", folder);
  if ((st.st_mode & S_IWOTH) != 0) {
    fail(ErrorCategory::PERMISSION_DENIED,
         "folder " + folder + " is writable by every user, so the socket " + path +
             " could be replaced; use a folder only root can write to");
  }
}

// True when something accepts (or queues) connections on the socket at `addr`.
bool socketIsLive(const sockaddr_un& addr) {
  Fd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) return false;
  if (connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    return true;
  }
  return errno == EAGAIN || errno == EINPROGRESS;
}

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
  requireAbsoluteSocketPath(path);
  requireSafeFolder(path);
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           path + " exists and is not a socket; remove it or choose another path");
    }
    // Only a socket nobody accepts on is stale. A live one belongs to another daemon of the
    // same kind (a second suite on the same root, say), which must keep it.
    if (socketIsLive(addr)) {
      fail(ErrorCategory::ALREADY_EXISTS,
           "another process is serving on " + path + "; stop it or choose another --root");
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
  if (lstat(path.c_str(), &st) == 0) rememberOwnSocket(path, st);
  return fd.release();
}

void removeOwnSockets() {
  std::vector<std::string> paths;
  {
    std::lock_guard<std::mutex> lock(ownSocketsMutex());
    for (const auto& [path, identity] : ownSockets())
      paths.push_back(path);
  }
  for (const auto& path : paths)
    removeOwnSocket(path);
}

void removeOwnSocket(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  std::lock_guard<std::mutex> lock(ownSocketsMutex());
  auto it = ownSockets().find(path);
  if (it == ownSockets().end()) return;
  // Another process may have replaced the file since; its socket is not ours to remove.
  if (it->second.first == st.st_dev && it->second.second == st.st_ino) unlink(path.c_str());
  ownSockets().erase(it);
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

  // Non-blocking: a server that stopped accepting (SIGSTOP, a hang) fills its backlog, and a
  // blocking connect would then stall the caller's event loop.
  Fd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) failSyscall("socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ECONNREFUSED || errno == ENOENT) {
      fail(ErrorCategory::UNAVAILABLE, "nothing listens on " + path);
    }
    if (errno == EAGAIN || errno == EINPROGRESS) {
      fail(ErrorCategory::UNAVAILABLE,
           "the process listening on " + path + " is not accepting connections");
    }
    failSyscall("connect", path);
  }
  PeerCredentials peer = peerCredentials(fd.get());
  requireAllowedUid(peer.uid, allowedUids, "the process listening on " + path);

  return fd.release();
}

}  // namespace crio::ipc
