// The project's one error type. Every failure that crosses a function boundary is a crio::Error
// with a category saying whose fault it is; context is prepended on the way up, and the category
// is converted exactly once at an edge: to a gRPC status in crio-cri, to a Cap'n Proto exception
// in each IPC server (and back in each IPC client).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace crio {

enum class ErrorCategory {
  INVALID_ARGUMENT,     // the caller asked for something malformed
  NOT_FOUND,            // the object named does not exist
  ALREADY_EXISTS,       // an object with that name or id exists
  FAILED_PRECONDITION,  // the request is valid but the state does not allow it now
  PERMISSION_DENIED,    // policy or credentials refuse it
  UNAVAILABLE,          // a peer daemon or remote service cannot be reached; retrying may help
  DEADLINE_EXCEEDED,    // a time bound was hit
  RESOURCE_EXHAUSTED,   // a size or count bound was hit
  UNIMPLEMENTED,        // not supported by this runtime
  INTERNAL,             // a bug or an unexpected system failure
};

// Short lowercase name of a category, stable on the wire ("not_found").
std::string_view categoryName(ErrorCategory category);
// Inverse of categoryName(); INTERNAL for an unknown name.
ErrorCategory categoryFromName(std::string_view name);

class Error : public std::runtime_error {
 public:
  Error(ErrorCategory category, std::string message)
      : std::runtime_error(std::move(message)), category_(category) {}

  ErrorCategory category() const { return category_; }

  // Returns a copy whose message is "CONTEXT: original message".
  Error withContext(std::string_view context) const;

 private:
  ErrorCategory category_;
};

[[noreturn]] void fail(ErrorCategory category, std::string message);

// Throws INTERNAL (or the category that fits errno, such as NOT_FOUND for ENOENT) with the
// operation, the path and strerror(errno): "open /run/crio/x: Permission denied".
[[noreturn]] void failSyscall(std::string_view operation, std::string_view subject = {},
                              int errnum = -1);

// Runs fn; any crio::Error it throws gets "context: " prepended, and any other std::exception
// becomes INTERNAL with that context.
template <typename Fn>
auto withContext(std::string_view context, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw e.withContext(context);
  } catch (const std::exception& e) {
    throw Error(ErrorCategory::INTERNAL, std::string(context) + ": " + e.what());
  }
}

}  // namespace crio
