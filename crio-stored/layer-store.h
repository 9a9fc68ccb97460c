// The layers on disk: importing a layer blob into its own directory, deleting layers, cleaning
// up after a crash, and measuring the store.
//
// Layout under the storage root (docs/storage.md has the whole picture):
//   stored.db                 metadata (image-store.h)
//   layers/HEX/diff/          the unpacked tree of the layer whose chain id is sha256:HEX, an
//                             overlayfs lower directory
//   layers/HEX/lower          the chain ids below it, nearest first, one per line
//   staging/RANDOM/           an import in progress
//   removing/RANDOM/          a layer being deleted
//
// An import unpacks into staging/, checks the diff id, syncs the filesystem, renames the
// directory to layers/HEX, syncs layers/, and only then records the layer in the database. A
// deletion goes the other way: the record first, then the directory. So a layer is in the
// database only when its directory is complete, and after any crash recover() finds at most
// directories to delete: whatever is in staging/ or removing/, and any layers/HEX that the
// database does not know.
//
// Imports of the same chain id are serialised by a lock per chain id: the second waits for the
// first and then finds the layer recorded, so one unpack serves both. importLayer() blocks: the
// caller runs it on a worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "crio-stored/image-store.h"
#include "crio-stored/layer-unpacker.h"
#include "crio-stored/unique-fd.h"

namespace crio::stored {

struct ImportRequest {
  int fd = -1;  // the blob, not owned
  std::string mediaType;
  std::string diffId;
  std::string parentChainId;  // "" for a base layer
};

struct StoreUsage {
  std::string mountpoint;  // the storage root
  uint64_t bytes = 0;
  uint64_t inodes = 0;
  int64_t timestamp = 0;  // nanoseconds since the Unix epoch
};

struct RecoveryReport {
  unsigned staging = 0;                 // interrupted imports removed
  unsigned removing = 0;                // interrupted deletions finished
  unsigned uncommitted = 0;             // layer directories the database did not know, removed
  std::vector<std::string> lostLayers;  // recorded layers whose directory was missing
  std::vector<std::string> lostImages;  // images forgotten with them
};

class LayerStore {
 public:
  // `root` must exist; the folders of the layout are made when missing.
  LayerStore(std::string root, ImageStore& images, UnpackOptions options = {});

  RecoveryReport recover();

  // Imports one layer, or returns the record of the layer already there. INVALID_ARGUMENT for
  // a malformed request, a bad blob or a content digest other than the diff id;
  // FAILED_PRECONDITION when the parent layer is not in the store.
  LayerRecord importLayer(const ImportRequest& request);

  bool hasLayer(const std::string& chainId);

  // Deletes the directories of layers whose records are already gone.
  void deleteLayers(const std::vector<std::string>& chainIds);

  StoreUsage usage();

  // Absolute path of a layer's diff directory.
  std::string diffPath(const std::string& chainId) const;
  const std::string& root() const { return root_; }

  // Makes running and queued imports fail fast (daemon shutdown).
  void stop() { stopping_ = true; }

  // Unpacks started since construction (for tests).
  uint64_t unpacks() const { return unpacks_; }

 private:
  class ChainLock;

  std::string lowerFileFor(const std::string& parentChainId);
  void publish(const std::string& stagingName, const std::string& hex);
  void deleteLayerDir(const std::string& hex);

  std::string root_;
  ImageStore& images_;
  UnpackOptions options_;
  UniqueFd rootFd_;
  UniqueFd layersFd_;
  UniqueFd stagingFd_;
  UniqueFd removingFd_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> unpacks_{0};

  struct LockEntry {
    std::mutex mutex;
    unsigned users = 0;
  };
  std::mutex locksMutex_;
  std::map<std::string, LockEntry> locks_;
};

}  // namespace crio::stored
