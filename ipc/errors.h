// Carrying crio::Error across Cap'n Proto RPC.
//
// A server converts a crio::Error to a kj::Exception once, at its edge; the description is
// "[category] message", so the client converts it back with the same category. A kj::Exception
// of type DISCONNECTED (the peer vanished) becomes UNAVAILABLE naming the peer.
#pragma once

#include <kj/async.h>
#include <kj/exception.h>

#include <string_view>

#include "common/error.h"

namespace crio::ipc {

kj::Exception toKjException(const Error& error);

// `peer` names the daemon the call went to, for messages such as "crio-stored: ...".
Error fromKjException(const kj::Exception& exception, std::string_view peer);

// Runs a server method body; a crio::Error or std::exception it throws becomes the matching
// kj::Exception. Continuations of the promise it returns throw kj::Exceptions themselves (with
// toKjException) so that the category survives.
template <typename Fn>
kj::Promise<void> serve(Fn&& fn) {
  try {
    return kj::Promise<void>(fn());
  } catch (const Error& e) {
    return toKjException(e);
  } catch (const std::exception& e) {
    return toKjException(Error(ErrorCategory::INTERNAL, e.what()));
  }
}

}  // namespace crio::ipc
