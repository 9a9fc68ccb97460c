// Reading and removing stored images for ListImages, ImageStatus, RemoveImage and ImageFsInfo.
// A reference is an id (with or without "sha256:", or a unique prefix), a name, a repo digest,
// or a short name that crio-imaged expands through registries.conf.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crio-cri/daemon.h"
#include "crio-cri/image/image-record.h"

namespace crio::cri {

struct FsUsage {
  std::string mountpoint;
  uint64_t usedBytes = 0;
  uint64_t inodesUsed = 0;
  int64_t timestamp = 0;
};

std::optional<ImageRecord> findImage(Daemon& daemon, const std::string& reference);
std::vector<ImageRecord> listImages(Daemon& daemon);
// False when no image matched (RemoveImage of an absent image succeeds).
bool removeImage(Daemon& daemon, const std::string& reference);
FsUsage imageFsUsage(Daemon& daemon);

}  // namespace crio::cri
