// Keeping a crio::Error's category through KJ promise chains.
//
// KJ turns anything a continuation throws into a kj::Exception, and a plain std::exception loses
// its category on the way. Code that runs inside a continuation therefore throws with
// failAsync(), or runs its synchronous parts through keepCategory(). Both produce the
// "[category] message" form that ipc/errors.h decodes, so the category reaches crio-cri intact.
#pragma once

#include <kj/exception.h>

#include <string>

#include "common/error.h"
#include "ipc/errors.h"

namespace crio::imaged {

[[noreturn]] inline void throwAsync(const Error& error) {
  kj::throwFatalException(ipc::toKjException(error));
}

[[noreturn]] inline void failAsync(ErrorCategory category, std::string message) {
  throwAsync(Error(category, std::move(message)));
}

// Runs fn; a crio::Error it throws leaves as the matching kj::Exception.
template <typename Fn>
auto keepCategory(Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throwAsync(e);
  }
}

// The crio::Error a promise failed with (INTERNAL when it did not come from one).
inline Error errorOf(const kj::Exception& exception) {
  return ipc::fromKjException(exception, "crio-imaged");
}

}  // namespace crio::imaged
