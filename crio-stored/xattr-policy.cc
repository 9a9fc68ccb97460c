#include "crio-stored/xattr-policy.h"

namespace crio::stored {

namespace {

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

XattrVerdict classifyXattr(std::string_view name, EntryType type) {
  bool fileOrDir = type == EntryType::FILE || type == EntryType::DIRECTORY;
  if (startsWith(name, "trusted.overlay.") || startsWith(name, "user.overlay.")) {
    return XattrVerdict::DROP_OVERLAY;
  }
  if (name == "security.capability") {
    return type == EntryType::FILE ? XattrVerdict::KEEP : XattrVerdict::DROP_NOT_ON_TYPE;
  }
  if (startsWith(name, "user.")) {
    return fileOrDir ? XattrVerdict::KEEP : XattrVerdict::DROP_NOT_ON_TYPE;
  }
  if (name == "system.posix_acl_access") {
    return type == EntryType::SYMLINK ? XattrVerdict::DROP_NOT_ON_TYPE : XattrVerdict::KEEP;
  }
  if (name == "system.posix_acl_default") {
    return type == EntryType::DIRECTORY ? XattrVerdict::KEEP : XattrVerdict::DROP_NOT_ON_TYPE;
  }
  if (startsWith(name, "trusted.") || startsWith(name, "security.")) {
    return XattrVerdict::DROP_PRIVILEGED;
  }
  return XattrVerdict::DROP_UNKNOWN;
}

std::string_view verdictReason(XattrVerdict verdict) {
  switch (verdict) {
    case XattrVerdict::KEEP:
      return "kept";
    case XattrVerdict::DROP_OVERLAY:
      return "overlayfs metadata inside a layer tarball";
    case XattrVerdict::DROP_PRIVILEGED:
      return "namespace needs CAP_SYS_ADMIN";
    case XattrVerdict::DROP_NOT_ON_TYPE:
      return "not allowed on this file type";
    case XattrVerdict::DROP_UNKNOWN:
      return "unknown namespace";
  }
  return "unknown";
}

}  // namespace crio::stored
