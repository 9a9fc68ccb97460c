// Writing the entries of one layer tarball into an empty directory, as an overlayfs lower layer.
//
// Every entry is checked and written beneath the layer's root descriptor (see beneath.h), and
// a failure in any entry stops the unpack with an error naming the entry and the reason; the
// caller then throws the directory away. What an entry becomes:
//   - regular files, directories, symlinks, FIFOs: created as they are, never through an
//     existing symlink; a later entry with the same path replaces the earlier one (a directory
//     stays and takes the new metadata when the new entry is a directory too);
//   - hard links: only to an entry already written in this layer, never to a directory; they
//     stay hard links;
//   - character and block devices: made with mknod when `devices` is ALLOW (the default: which
//     devices a container may open is decided by its device cgroup, not by the nodes present);
//     REJECT fails the layer;
//   - owners, then modes (setuid, setgid and sticky included), then xattrs (xattr-policy.h; a
//     chown clears security.capability, so it comes after), then times; directory times are set
//     last, once nothing more is written into them;
//   - whiteouts and opaque directories as whiteout.h describes.
#pragma once

#include <atomic>
#include <cstdint>

#include "crio-stored/tar-reader.h"

namespace crio::stored {

// Bound on the entries of one layer (a hostile tarball of empty entries is cheap to send).
constexpr uint64_t MAX_LAYER_ENTRIES = 1'000'000;

enum class DevicePolicy { ALLOW, REJECT };

struct UnpackOptions {
  uint64_t maxEntries = MAX_LAYER_ENTRIES;
  DevicePolicy devices = DevicePolicy::ALLOW;
  const std::atomic<bool>* cancel = nullptr;  // set: the unpack stops with UNAVAILABLE
};

struct UnpackStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // content bytes of regular files
  uint64_t whiteouts = 0;
  uint64_t opaqueDirectories = 0;
  uint64_t droppedXattrs = 0;
};

// Writes every entry `reader` has into the empty directory `rootFd`. Throws crio::Error.
UnpackStats unpackLayer(TarReader& reader, int rootFd, const UnpackOptions& options);

}  // namespace crio::stored
