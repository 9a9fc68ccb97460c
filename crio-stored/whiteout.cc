#include "crio-stored/whiteout.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "common/error.h"

namespace crio::stored {

Whiteout classifyWhiteout(std::string_view name) {
  if (name.substr(0, WHITEOUT_PREFIX.size()) != WHITEOUT_PREFIX) return {};
  if (name == OPAQUE_MARKER) return {WhiteoutKind::OPAQUE, ""};
  if (name.substr(0, WHITEOUT_META_PREFIX.size()) == WHITEOUT_META_PREFIX) {
    return {WhiteoutKind::META, ""};
  }
  std::string_view target = name.substr(WHITEOUT_PREFIX.size());
  if (target.empty() || target == "." || target == "..") {
    fail(ErrorCategory::INVALID_ARGUMENT, "whiteout \"" + std::string(name) + "\" names nothing");
  }
  return {WhiteoutKind::DELETE, std::string(target)};
}

void makeWhiteout(int dirFd, const std::string& name) {
  if (mknodat(dirFd, name.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
    failSyscall("make whiteout", name);
  }
}

void markOpaque(int dirFd) {
  if (fsetxattr(dirFd, OPAQUE_XATTR, "y", 1, 0) != 0) {
    failSyscall(std::string("set ") + OPAQUE_XATTR);
  }
}

}  // namespace crio::stored
