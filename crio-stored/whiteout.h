// Whiteouts: how a layer says "this path of the layers below is gone".
//
// In a layer tarball (OCI image spec, "Whiteouts"):
//   DIR/.wh.NAME       NAME is deleted from the layers below;
//   DIR/.wh..wh..opq   DIR hides everything the layers below have in it (an opaque directory);
//   DIR/.wh..wh.*      other names with this prefix are aufs bookkeeping and are skipped.
// On disk, in the form overlayfs reads when mounted with the `userxattr` option (crio-stored
// has no CAP_SYS_ADMIN, so it cannot write trusted.overlay.* xattrs):
//   NAME is a character device 0/0 (a whiteout for overlayfs in every mode);
//   DIR carries the xattr user.overlay.opaque = "y".
#pragma once

#include <string>
#include <string_view>

namespace crio::stored {

constexpr std::string_view WHITEOUT_PREFIX = ".wh.";
constexpr std::string_view WHITEOUT_META_PREFIX = ".wh..wh.";
constexpr std::string_view OPAQUE_MARKER = ".wh..wh..opq";
constexpr const char* OPAQUE_XATTR = "user.overlay.opaque";

enum class WhiteoutKind {
  NONE,    // an ordinary name
  DELETE,  // .wh.NAME: `target` is NAME
  OPAQUE,  // .wh..wh..opq
  META,    // another .wh..wh. name: skipped
};

struct Whiteout {
  WhiteoutKind kind = WhiteoutKind::NONE;
  std::string target;
};

// Classifies the last component of an entry's path. Throws INVALID_ARGUMENT for a whiteout of
// nothing (".wh." alone, ".wh..", ".wh...").
Whiteout classifyWhiteout(std::string_view name);

// Makes NAME in `dirFd` a whiteout (character device 0/0, mode 0). NAME must not exist.
void makeWhiteout(int dirFd, const std::string& name);

// Marks the directory open as `dirFd` opaque.
void markOpaque(int dirFd);

}  // namespace crio::stored
