// Unix sockets between the daemons: creating a listening socket (or taking one from systemd),
// connecting to a peer, and learning who is on the other end (SO_PEERCRED).
//
// Trust rules, applied on both sides:
//   - a server accepts a connection only from a uid in its allowed list (root by default);
//   - a client connects only to a socket file owned by root (or an allowed uid) that nobody else
//     can write to, and then checks the server process's uid the same way.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace crio::ipc {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

PeerCredentials peerCredentials(int fd);

// Throws PERMISSION_DENIED naming `who` when `uid` is not in `allowed`.
void requireAllowedUid(uid_t uid, const std::vector<uid_t>& allowed, std::string_view who);

// A listening, non-blocking, close-on-exec socket at `path` with `mode`. The socket passed by
// systemd under `systemdName` is used when there is one. Otherwise a stale socket file left by a
// previous run is replaced. A socket another process still serves on, any other kind of file at
// `path`, and a folder every user can write to are errors.
// `activated` (when given) tells whether systemd passed the socket.
int listenUnixSocket(const std::string& path, mode_t mode, std::string_view systemdName,
                     bool* activated = nullptr);

// Removes a socket file this process created with listenUnixSocket(), unless another process
// has since replaced it.
void removeOwnSocket(const std::string& path);
// removeOwnSocket() for every socket this process created; for a daemon that fails to start.
void removeOwnSockets();

// A connected, non-blocking, close-on-exec socket to `path`, after checking the socket file's
// owner and mode and the server's uid against `allowedUids`. Throws UNAVAILABLE when nothing
// listens there.
int connectUnixSocket(const std::string& path, const std::vector<uid_t>& allowedUids);

}  // namespace crio::ipc
