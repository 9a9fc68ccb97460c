// Mounting and unmounting a container's root filesystem: an overlay of image layers (read-only
// lower folders) under the container's writable upper folder.
//
// Layers mark opaque folders with `user.overlay.opaque` (crio-stored sets user.* xattrs because
// it has no CAP_SYS_ADMIN for trusted.*), so the overlay is always mounted with `userxattr`.
//
// The classic mount(2) option string is limited to one page, which about 50 layers of storage
// paths exceed. The mount is therefore made with the new mount API (fsopen/fsconfig/fsmount),
// adding each layer with the "lowerdir+" key (Linux 6.5 and later), which has no such limit.
// On an older kernel it falls back to mount(2) and fails with a clear error when the option
// string does not fit.
#pragma once

#include <string>
#include <vector>

namespace crio {

struct OverlayLayers {
  std::vector<std::string> lowerDirs;  // topmost layer first
  std::string upperDir;                // "" for a read-only mount of the lower folders
  std::string workDir;                 // required with upperDir, on the same filesystem
};

// Largest number of lower folders overlayfs stacks (its OVL_MAX_STACK).
constexpr size_t MAX_OVERLAY_LAYERS = 500;

void mountOverlay(const OverlayLayers& layers, const std::string& target);

// Lazily detaches the mount at `target`; success when nothing is mounted there.
void unmountOverlay(const std::string& target);

// True when `path` is a mount point (its mount id differs from its parent's).
bool isMountPoint(const std::string& path);

}  // namespace crio
