// Calling a peer daemon from a blocking crio-cri thread.
//
// `fn` runs on the IPC loop thread and returns a kj::Promise of a plain C++ value (never a Cap'n
// Proto reader: those belong to the loop thread). The caller blocks until the promise settles.
// Failures arrive as crio::Error with their category: a crio::Error thrown inside `fn` keeps it,
// and a kj::Exception from the peer is converted with ipc::fromKjException, so a vanished peer
// is UNAVAILABLE naming it.
#pragma once

#include <string_view>

#include "common/error.h"
#include "crio-cri/daemon.h"
#include "ipc/errors.h"

namespace crio::cri {

template <typename Fn>
auto callPeer(Daemon& daemon, std::string_view peer, Fn&& fn) {
  using Promise = decltype(fn());
  try {
    return daemon.loop().run([&]() -> Promise {
      try {
        return fn();
      } catch (const Error& e) {
        return ipc::toKjException(e);
      }
    });
  } catch (const kj::Exception& e) {
    throw ipc::fromKjException(e, peer);
  }
}

}  // namespace crio::cri
