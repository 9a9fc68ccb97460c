// crio-cri's connection to one daemon of the suite (crio-imaged, crio-stored), kept alive across
// restarts of that daemon.
//
// The peer connects at start and whenever the connection is lost; attempts back off from
// RETRY_MIN to RETRY_MAX, so a restarted daemon is picked up within RETRY_MAX of listening again.
// A lost connection is noticed at once (the socket closes); a hung daemon is noticed by a
// heartbeat (Daemon.info every HEARTBEAT_INTERVAL, answered within HEARTBEAT_TIMEOUT).
//
// Threads: every method but state() runs on the loop thread that created the peer. state() may be
// called from any thread.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "ipc/daemon-info.h"
#include "ipc/daemon.capnp.h"

namespace crio::ipc {

constexpr auto RETRY_MIN = 50 * kj::MILLISECONDS;
constexpr auto RETRY_MAX = 500 * kj::MILLISECONDS;
constexpr auto HEARTBEAT_INTERVAL = 2 * kj::SECONDS;
constexpr auto HEARTBEAT_TIMEOUT = 3 * kj::SECONDS;

struct PeerState {
  bool connected = false;
  std::string message;  // why it is not connected, or "" when it is
  DaemonInfo info;      // valid while connected
};

class Peer {
 public:
  Peer(kj::AsyncIoContext& io, std::string name, std::string socketPath,
       std::vector<uid_t> allowedUids);
  ~Peer();

  // Starts connecting; returns at once.
  void start();

  PeerState state() const;

  // The peer's bootstrap capability as `Interface`; throws UNAVAILABLE naming the peer while
  // it is not connected.
  template <typename Interface>
  typename Interface::Client client() {
    return bootstrap().castAs<Interface>();
  }

  // Resolves once connected, or fails with UNAVAILABLE after `timeout`.
  kj::Promise<void> whenConnected(kj::Duration timeout);

  const std::string& name() const { return name_; }

 private:
  struct Connection;

  capnp::Capability::Client bootstrap();
  kj::Promise<void> connectLoop(kj::Duration delay);
  kj::Promise<void> tryConnect();
  kj::Promise<void> heartbeat();
  void setState(bool connected, std::string message, DaemonInfo info = {});
  void lost(const std::string& why);

  kj::AsyncIoContext& io_;
  std::string name_;
  std::string socketPath_;
  std::vector<uid_t> allowedUids_;
  kj::Own<Connection> connection_;
  kj::Promise<void> loop_ = nullptr;
  kj::Vector<kj::Own<kj::PromiseFulfiller<void>>> waiters_;
  kj::Duration nextDelay_ = RETRY_MIN;

  mutable std::mutex stateMutex_;
  PeerState state_;
};

}  // namespace crio::ipc
