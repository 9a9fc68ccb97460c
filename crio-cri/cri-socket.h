// The CRI socket. crio-cri owns the listening socket itself (created with mode 0660, or passed by
// systemd socket activation) and hands each accepted connection to the gRPC server, so the same
// code serves both cases and a connection queued while crio-cri restarted is not lost.
#pragma once

#include <grpcpp/server.h>

#include <atomic>
#include <string>
#include <thread>

#include "common/log.h"

namespace crio::cri {

class CriSocket {
 public:
  // Creates (or takes from systemd) the listening socket at `path`.
  explicit CriSocket(const std::string& path);
  ~CriSocket();

  // Starts handing connections to `server` (which must already be started).
  void serve(grpc::Server& server);
  // Stops accepting; the socket file is removed unless systemd owns it.
  void close();

  bool activated() const { return activated_; }

 private:
  void acceptLoop(grpc::Server& server);

  std::string path_;
  int listenFd_ = -1;
  int stopFd_ = -1;
  bool activated_ = false;
  std::thread thread_;
  log::RateLimit acceptErrors_{std::chrono::seconds(10)};
};

// Pause before accepting again after accept() failed.
constexpr int ACCEPT_RETRY_MILLIS = 100;

}  // namespace crio::cri
