// Which extended attributes of a layer entry are written to disk.
//
// Kept: user.* on files and directories (the kernel allows them nowhere else),
// security.capability on files (file capabilities; needs CAP_SETFCAP), and POSIX ACLs
// (system.posix_acl_access, and system.posix_acl_default on directories).
// Dropped:
//   - trusted.overlay.* and user.overlay.*: overlayfs reads these as its own metadata (opaque
//     directories, redirects, metacopy), so in a tarball they are attacker input; whiteouts come
//     only from .wh. entries;
//   - any other trusted.* or security.* (security.selinux...): setting them needs CAP_SYS_ADMIN,
//     which crio-stored does not have, and labels are the runtime's business at mount time;
//   - names in no namespace above.
// Each kind of drop is logged once per layer.
#pragma once

#include <cstddef>
#include <string_view>

#include "crio-stored/tar-reader.h"

namespace crio::stored {

constexpr size_t MAX_XATTRS_PER_ENTRY = 128;
constexpr size_t MAX_XATTR_NAME = 255;     // XATTR_NAME_MAX
constexpr size_t MAX_XATTR_VALUE = 65536;  // XATTR_SIZE_MAX

enum class XattrVerdict { KEEP, DROP_OVERLAY, DROP_PRIVILEGED, DROP_NOT_ON_TYPE, DROP_UNKNOWN };

XattrVerdict classifyXattr(std::string_view name, EntryType type);

// For logs: "overlayfs metadata", ...
std::string_view verdictReason(XattrVerdict verdict);

}  // namespace crio::stored
