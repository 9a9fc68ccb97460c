#include "common/error.h"

#include <cerrno>
#include <cstring>

namespace crio {

namespace {

struct CategoryEntry {
  ErrorCategory category;
  std::string_view name;
};

constexpr CategoryEntry CATEGORIES[] = {
    {ErrorCategory::INVALID_ARGUMENT, "invalid_argument"},
    {ErrorCategory::NOT_FOUND, "not_found"},
    {ErrorCategory::ALREADY_EXISTS, "already_exists"},
    {ErrorCategory::FAILED_PRECONDITION, "failed_precondition"},
    {ErrorCategory::PERMISSION_DENIED, "permission_denied"},
    {ErrorCategory::UNAVAILABLE, "unavailable"},
    {ErrorCategory::DEADLINE_EXCEEDED, "deadline_exceeded"},
    {ErrorCategory::RESOURCE_EXHAUSTED, "resource_exhausted"},
    {ErrorCategory::UNIMPLEMENTED, "unimplemented"},
    {ErrorCategory::INTERNAL, "internal"},
};

ErrorCategory categoryForErrno(int errnum) {
  switch (errnum) {
    case ENOENT:
      return ErrorCategory::NOT_FOUND;
    case EEXIST:
      return ErrorCategory::ALREADY_EXISTS;
    case EACCES:
    case EPERM:
      return ErrorCategory::PERMISSION_DENIED;
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return ErrorCategory::RESOURCE_EXHAUSTED;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
      return ErrorCategory::UNAVAILABLE;
    case ETIMEDOUT:
      return ErrorCategory::DEADLINE_EXCEEDED;
    default:
      return ErrorCategory::INTERNAL;
  }
}

}  // namespace

std::string_view categoryName(ErrorCategory category) {
  for (const auto& entry : CATEGORIES) {
    if (entry.category == category) return entry.name;
  }
  return "internal";
}

ErrorCategory categoryFromName(std::string_view name) {
  for (const auto& entry : CATEGORIES) {
    if (entry.name == name) return entry.category;
  }
  return ErrorCategory::INTERNAL;
}

Error Error::withContext(std::string_view context) const {
  return Error(category_, std::string(context) + ": " + what());
}

void fail(ErrorCategory category, std::string message) {
  throw Error(category, std::move(message));
}

void failSyscall(std::string_view operation, std::string_view subject, int errnum) {
  if (errnum < 0) errnum = errno;
  std::string message(operation);
  if (!subject.empty()) {
    message += " ";
    message += subject;
  }
  message += ": ";
  message += std::strerror(errnum);
  throw Error(categoryForErrno(errnum), std::move(message));
}

}  // namespace crio
