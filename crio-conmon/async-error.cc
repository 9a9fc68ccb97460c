#include "crio-conmon/async-error.h"

#include <string_view>

#include "ipc/errors.h"

namespace crio::conmon {

void throwAsync(const Error& error) {
  kj::throwFatalException(ipc::toKjException(error));
}

kj::Exception normalizeException(kj::Exception&& exception) {
  std::string_view description(exception.getDescription().cStr());
  if (!description.empty() && description[0] == '[') return kj::mv(exception);
  if (exception.getType() == kj::Exception::Type::DISCONNECTED) return kj::mv(exception);
  constexpr std::string_view PREFIX = "std::exception: ";
  if (description.substr(0, PREFIX.size()) == PREFIX) description.remove_prefix(PREFIX.size());
  return ipc::toKjException(Error(ErrorCategory::INTERNAL, std::string(description)));
}

}  // namespace crio::conmon
