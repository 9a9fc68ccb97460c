#include "ipc/errors.h"

#include <string>

namespace crio::ipc {

kj::Exception toKjException(const Error& error) {
  std::string description = "[" + std::string(categoryName(error.category())) + "] " + error.what();
  auto type = error.category() == ErrorCategory::UNAVAILABLE ? kj::Exception::Type::OVERLOADED
                                                             : kj::Exception::Type::FAILED;
  return kj::Exception(type, __FILE__, __LINE__, kj::str(description.c_str()));
}

Error fromKjException(const kj::Exception& exception, std::string_view peer) {
  std::string description(exception.getDescription().cStr());
  // Cap'n Proto prefixes exceptions that crossed the wire with "remote exception: ".
  constexpr std::string_view REMOTE = "remote exception: ";
  if (description.rfind(REMOTE, 0) == 0) description.erase(0, REMOTE.size());

  if (exception.getType() == kj::Exception::Type::UNIMPLEMENTED) {
    return Error(ErrorCategory::UNIMPLEMENTED, std::string(peer) + ": " + description);
  }
  if (exception.getType() == kj::Exception::Type::DISCONNECTED) {
    return Error(ErrorCategory::UNAVAILABLE, std::string(peer) + " disconnected: " + description);
  }
  if (description.size() > 2 && description[0] == '[') {
    auto close = description.find("] ");
    if (close != std::string::npos) {
      ErrorCategory category = categoryFromName(description.substr(1, close - 1));
      return Error(category, description.substr(close + 2));
    }
  }
  return Error(ErrorCategory::INTERNAL, std::string(peer) + ": " + description);
}

}  // namespace crio::ipc
