// The writable layer of each container: an upper and a work directory for overlayfs, on top of
// the layers of the container's image, which the container holds in the store while it exists
// (so RemoveImage of an image in use fails with FAILED_PRECONDITION).
//
// Layout under the storage root:
//   containers/ID/          mode 0700
//   containers/ID/upper/    the overlay's upper directory (root-owned 0755: the root of the
//                           container's file system takes its owner and mode)
//   containers/ID/work/     the overlay's work directory
//
// Creating makes the directories first (synced) and then commits the record; removing commits
// the removal first and then deletes the directory through removing/. So after a crash the
// record never names a missing directory except when it was lost behind the store's back, and
// recover() deletes directories that no record names. crio-cri mounts the overlay itself and
// unmounts it before it removes the layer.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crio-stored/image-store.h"
#include "crio-stored/layer-store.h"
#include "crio-stored/unique-fd.h"

namespace crio::stored {

// Bound on a container id: the same rule as crio-conmon's (letters, digits, '_', '-', '.',
// starting with a letter or digit, at most 128 characters), so the id is always one path name.
constexpr size_t MAX_CONTAINER_ID = 128;

struct ContainerLayer {
  std::string containerId;
  std::string imageId;
  std::vector<std::string> lowerDirs;  // diff directories of the image's layers, topmost first
  std::string upperDir;
  std::string workDir;
};

class ContainerLayers {
 public:
  ContainerLayers(const std::string& root, ImageStore& images, LayerStore& layers);

  // Deletes container directories that no record names, and makes the directories of a
  // recorded container again when they were lost (its writes are gone; logged as an error).
  // Returns the number of directories deleted.
  unsigned recover();

  // Creates the layer of `containerId` on the image `imageReference` names (an id, a name or
  // a digest, as ImageStore::findImage takes it). Idempotent for the same image. INVALID_ARGUMENT
  // for a bad id, NOT_FOUND for an unknown image, ALREADY_EXISTS when the container already has
  // a layer on another image.
  ContainerLayer create(const std::string& containerId, const std::string& imageReference);

  // Removes the layer and its holds. False when there was none (not an error).
  bool remove(const std::string& containerId);

  std::optional<ContainerLayer> find(const std::string& containerId);

 private:
  ContainerLayer describe(const ContainerLayerRecord& record) const;
  void makeDirs(const std::string& containerId);

  std::string root_;
  ImageStore& images_;
  LayerStore& layers_;
  UniqueFd containersFd_;
  UniqueFd removingFd_;
  std::mutex mutex_;  // create and remove of container layers: short, rare calls
};

// INVALID_ARGUMENT unless `id` is a valid container id (see MAX_CONTAINER_ID).
void requireContainerId(const std::string& id);

}  // namespace crio::stored
