// The metadata of the store in SQLite: layers, images (names, repo digests, config, manifest,
// sizes, creation time) and layer holders, in the file stored.db of the storage root.
//
// The database runs in WAL mode with synchronous=FULL: a call that changed something returns
// only once the change is on disk, and each change is one transaction, so a crash leaves either
// all of it or none. The layer directories are not the database's business: LayerStore makes a
// layer's directory complete before addLayer() and deletes it after a removal committed, and at
// start it reconciles the two (layer-store.h).
//
// Thread-safe: one connection behind a mutex.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crio-stored/sqlite.h"

namespace crio::stored {

// The database file in the storage root.
constexpr const char* DATABASE_FILE = "stored.db";

// Bounds on what a client may record for one image.
constexpr size_t MAX_IMAGE_NAMES = 256;
constexpr size_t MAX_IMAGE_NAME_LENGTH = 1024;
constexpr size_t MAX_IMAGE_LAYERS = 500;            // overlayfs stacks at most ~500 lower layers
constexpr size_t MAX_IMAGE_BLOB = 8 * 1024 * 1024;  // config and manifest each

struct LayerRecord {
  std::string chainId;
  std::string diffId;
  std::string parentChainId;  // "" for a base layer
  uint64_t size = 0;          // content bytes unpacked
  int64_t createdAt = 0;      // nanoseconds since the Unix epoch
};

struct ImageRecord {
  std::string id;  // config digest, hex without "sha256:"
  std::vector<std::string> names;
  std::vector<std::string> repoDigests;
  std::string topChainId;
  std::vector<std::string> layerChainIds;  // base first
  std::string config;
  std::string manifest;
  std::string manifestMediaType;
  uint64_t size = 0;  // layers plus config plus manifest
  int64_t createdAt = 0;
};

// A container's writable layer: the image it sits on, whose layers it holds.
struct ContainerLayerRecord {
  std::string id;
  std::string imageId;
  std::vector<std::string> layerChainIds;  // the image's layers, base first
  int64_t createdAt = 0;
};

struct RemovedImage {
  bool removed = false;
  std::string id;
  std::vector<std::string> freedLayers;  // chain ids no longer recorded, top first
};

class ImageStore {
 public:
  explicit ImageStore(const std::string& databasePath);

  // ---- layers
  std::optional<LayerRecord> findLayer(const std::string& chainId);
  std::vector<LayerRecord> listLayers();
  // FAILED_PRECONDITION when the parent is not recorded; ALREADY_EXISTS when the layer is.
  void addLayer(const LayerRecord& layer);
  // Forgets layers (and every layer above them, and every image using any): for a store whose
  // directories were lost. Returns the ids of the images forgotten.
  std::vector<std::string> forgetLayers(const std::vector<std::string>& chainIds);

  // ---- holders: a container's claim on a layer, which keeps it (and its image) in the store.
  void addHolder(const std::string& chainId, const std::string& holder);
  void removeHolder(const std::string& chainId, const std::string& holder);
  std::vector<std::string> holders(const std::string& chainId);

  // ---- container layers: a record per container, and a holder row (holder = container id) on
  // every layer of its image, in one transaction.
  // Records the container on the image with id `imageId`. Returns the existing record when the
  // container is already recorded on that image; ALREADY_EXISTS when on another image;
  // NOT_FOUND when the image is not in the store; FAILED_PRECONDITION for an image without
  // layers (an overlay needs at least one lower directory).
  ContainerLayerRecord addContainer(const std::string& containerId, const std::string& imageId);
  std::optional<ContainerLayerRecord> findContainer(const std::string& containerId);
  std::vector<std::string> listContainers();
  // Removes the record and its holder rows; false when there was none.
  bool removeContainer(const std::string& containerId);

  // ---- images
  // Records `image` (or adds names and digests to the image with its id). Names move from any
  // other image holding them. INVALID_ARGUMENT for a malformed record, FAILED_PRECONDITION when a
  // layer is not in the store.
  ImageRecord commitImage(const ImageRecord& image);
  std::vector<ImageRecord> listImages();
  // By full id (with or without "sha256:"), name, repo digest, or an id prefix of at least
  // 3 hex digits that only one image has (INVALID_ARGUMENT when several have it).
  std::optional<ImageRecord> findImage(const std::string& reference);
  // Removes the image with its names and digests, and the records of the layers it leaves
  // unused. FAILED_PRECONDITION when a container sits on the image, or a holder other than a
  // container of another image holds one of its layers. (Layers shared with an image in use stay
  // recorded because they are in use, but do not block the removal.)
  // TODO(someday): layers imported by a pull that never committed its image stay until an
  // image using them is removed; a periodic sweep of unused layers would free them.
  RemovedImage removeImage(const std::string& reference);

 private:
  void createSchema();
  std::optional<std::string> resolveImage(const std::string& reference);
  ImageRecord loadImage(const std::string& id);
  std::optional<LayerRecord> readLayer(const std::string& chainId);
  std::optional<ContainerLayerRecord> readContainer(const std::string& containerId);
  bool layerUsed(const std::string& chainId);
  void validate(const ImageRecord& image, std::vector<LayerRecord>& layers);

  std::mutex mutex_;
  sqlite::Database db_;
};

// Nanoseconds since the Unix epoch.
int64_t nowNanos();

}  // namespace crio::stored
