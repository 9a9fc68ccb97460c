// crio::Error inside KJ promise continuations.
//
// KJ turns a std::exception thrown by a continuation into a kj::Exception described as
// "std::exception: MESSAGE", which loses the error's category. So code in a continuation whose
// error category must reach crio-cri (a timeout, a wrong state) throws with throwAsync(). The
// RPC edge passes every other failure through normalizeException(), which makes it [internal].
#pragma once

#include <kj/exception.h>

#include <string>

#include "common/error.h"

namespace crio::conmon {

// Throws `error` as the kj::Exception that ipc::fromKjException() reads back as `error`.
[[noreturn]] void throwAsync(const Error& error);

[[noreturn]] inline void failAsync(ErrorCategory category, std::string message) {
  throwAsync(Error(category, std::move(message)));
}

// Returns `exception` unchanged when it carries a category, else as [internal] with the
// "std::exception: " prefix removed.
kj::Exception normalizeException(kj::Exception&& exception);

}  // namespace crio::conmon
