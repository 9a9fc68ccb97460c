// Serving one Cap'n Proto interface on a unix socket, as every daemon of the suite does.
//
// Each accepted connection is checked with SO_PEERCRED against the allowed uids before a single
// byte is read from it, then gets its own RPC system with the bootstrap capability. A peer may
// pass at most MAX_FDS_PER_MESSAGE file descriptors in one message, which bounds what a hostile
// peer can make us hold open.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/io.h>

#include <string>
#include <vector>

#include "common/log.h"

namespace crio::ipc {

constexpr unsigned MAX_FDS_PER_MESSAGE = 4;

// Pause before accepting again after accept() failed (out of file descriptors, say).
constexpr auto ACCEPT_RETRY_DELAY = 100 * kj::MILLISECONDS;

class Server {
 public:
  // Takes ownership of `listenFd` (from listenUnixSocket()).
  Server(kj::LowLevelAsyncIoProvider& lowLevel, kj::UnixEventPort& eventPort, int listenFd,
         capnp::Capability::Client bootstrap, std::vector<uid_t> allowedUids, std::string name);
  ~Server();

  // Accepts connections until the returned promise is dropped.
  kj::Promise<void> run();

 private:
  kj::Promise<void> acceptLoop();

  kj::LowLevelAsyncIoProvider& lowLevel_;
  kj::UnixEventPort& eventPort_;
  // Declared before the observer, so that it is closed after the observer left the epoll set.
  kj::AutoCloseFd listenFd_;
  kj::UnixEventPort::FdObserver observer_;
  capnp::TwoPartyServer server_;
  std::vector<uid_t> allowedUids_;
  std::string name_;
  log::RateLimit acceptErrors_{std::chrono::seconds(10)};
};

}  // namespace crio::ipc
