// Paths beneath a layer's root directory, opened without ever following a symbolic link.
//
// A tar entry's path is attacker input. splitEntryPath() turns it into components and refuses
// absolute paths, ".." and over-long names; openDirBeneath() then opens the directory those
// components name relative to the layer's root descriptor with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV), or component by component with
// O_NOFOLLOW where a directory must be created first. So a symlink written by an earlier entry
// can never lead a later entry out of the layer, and the process's working directory is never
// used.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crio-stored/unique-fd.h"

namespace crio::stored {

// Bounds on one path inside a layer.
constexpr size_t MAX_ENTRY_PATH = 4096;  // PATH_MAX
constexpr size_t MAX_NAME_LENGTH = 255;  // NAME_MAX
// Directory depth, so that walking a layer's tree (removal, usage) holds at most this many
// descriptors at once.
constexpr size_t MAX_PATH_DEPTH = 256;

// The components of `path`, with "." and empty components dropped ("./a//b/" is {"a", "b"};
// "." and "./" are {}, the root itself). Throws INVALID_ARGUMENT for an absolute path, a ".."
// component, a NUL byte, or a path, name or depth over the bounds above.
// Names in the directory `dirFd` (without "." and ".."), read through a duplicate so `dirFd`
// itself stays usable.
std::vector<std::string> directoryEntries(int dirFd);

std::vector<std::string> splitEntryPath(std::string_view path);

// "a/b/c" from components; "." for none.
std::string joinPath(const std::vector<std::string>& components, size_t count);

// Opens (O_RDONLY | O_DIRECTORY) the directory made of the first `count` of `components` beneath
// `rootFd`. With `create`, missing directories are made (mode 0755, owned by the caller).
// Throws INVALID_ARGUMENT when a component is a symlink or not a directory, NOT_FOUND when one
// is missing and `create` is false.
UniqueFd openDirBeneath(int rootFd, const std::vector<std::string>& components, size_t count,
                        bool create);

}  // namespace crio::stored
