#include "crio-stored/layer-store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "crio-stored/beneath.h"
#include "crio-stored/digest.h"
#include "crio-stored/fs-tree.h"
#include "crio-stored/layer-stream.h"
#include "crio-stored/tar-reader.h"

namespace crio::stored {

namespace {

constexpr const char* LAYERS_DIR = "layers";
constexpr const char* STAGING_DIR = "staging";
constexpr const char* REMOVING_DIR = "removing";
constexpr const char* DIFF_DIR = "diff";
constexpr const char* LOWER_FILE = "lower";

UniqueFd openOrMakeDir(int parentFd, const char* name, const std::string& shown) {
  if (mkdirat(parentFd, name, 0700) != 0 && errno != EEXIST) failSyscall("mkdir", shown);
  UniqueFd fd(openat(parentFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) failSyscall("open", shown);
  return fd;
}

std::string randomName() {
  unsigned char bytes[8];
  if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes)) failSyscall("getrandom");
  static constexpr char HEX[] = "0123456789abcdef";
  std::string name;
  for (unsigned char b : bytes) {
    name += HEX[b >> 4];
    name += HEX[b & 0xf];
  }
  return name;
}

void writeFileAt(int dirFd, const char* name, const std::string& content) {
  UniqueFd fd(openat(dirFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) failSyscall("create", name);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failSyscall("write", name);
    done += static_cast<size_t>(n);
  }
}

// A staging directory that is removed unless it was published.
class Staging {
 public:
  explicit Staging(int stagingFd) : stagingFd_(stagingFd), name_(randomName()) {
    dirFd_ = openOrMakeDir(stagingFd, name_.c_str(), std::string(STAGING_DIR) + "/" + name_);
    diffFd_ = openOrMakeDir(dirFd_.get(), DIFF_DIR, name_ + "/" + DIFF_DIR);
    // The layer's root starts as root-owned 0755, unless the tarball has a "./" entry.
    if (fchmod(diffFd_.get(), 0755) != 0) failSyscall("chmod", DIFF_DIR);
  }
  ~Staging() {
    if (published_) return;
    try {
      dirFd_.reset();
      diffFd_.reset();
      removeTreeAt(stagingFd_, name_);
    } catch (const std::exception& e) {
      log::warn("cannot remove a staging directory; it goes at the next start",
                {{"dir", name_}, {"error", e.what()}});
    }
  }

  const std::string& name() const { return name_; }
  int dirFd() const { return dirFd_.get(); }
  int diffFd() const { return diffFd_.get(); }
  void published() { published_ = true; }

 private:
  int stagingFd_;
  std::string name_;
  UniqueFd dirFd_;
  UniqueFd diffFd_;
  bool published_ = false;
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------

class LayerStore::ChainLock {
 public:
  ChainLock(LayerStore& store, const std::string& chainId) : store_(store) {
    {
      std::lock_guard<std::mutex> lock(store_.locksMutex_);
      it_ = store_.locks_.try_emplace(chainId).first;
      it_->second.users++;
    }
    it_->second.mutex.lock();
  }
  ~ChainLock() {
    it_->second.mutex.unlock();
    std::lock_guard<std::mutex> lock(store_.locksMutex_);
    if (--it_->second.users == 0) store_.locks_.erase(it_);
  }

 private:
  LayerStore& store_;
  std::map<std::string, LockEntry>::iterator it_;
};

LayerStore::LayerStore(std::string root, ImageStore& images, UnpackOptions options)
    : root_(std::move(root)), images_(images), options_(options) {
  options_.cancel = &stopping_;
  rootFd_.reset(open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd_) failSyscall("open storage root", root_);
  layersFd_ = openOrMakeDir(rootFd_.get(), LAYERS_DIR, root_ + "/" + LAYERS_DIR);
  stagingFd_ = openOrMakeDir(rootFd_.get(), STAGING_DIR, root_ + "/" + STAGING_DIR);
  removingFd_ = openOrMakeDir(rootFd_.get(), REMOVING_DIR, root_ + "/" + REMOVING_DIR);
}

RecoveryReport LayerStore::recover() {
  RecoveryReport report;
  for (const auto& name : directoryEntries(stagingFd_.get())) {
    removeTreeAt(stagingFd_.get(), name);
    report.staging++;
  }
  for (const auto& name : directoryEntries(removingFd_.get())) {
    removeTreeAt(removingFd_.get(), name);
    report.removing++;
  }

  std::set<std::string> recorded;
  for (const auto& layer : images_.listLayers())
    recorded.insert(digestHex(layer.chainId));
  std::set<std::string> present;
  for (const auto& name : directoryEntries(layersFd_.get())) {
    if (recorded.count(name) == 0) {
      log::warn("removing a layer directory no record names (interrupted import or removal)",
                {{"layer", name}});
      removeTreeAt(layersFd_.get(), name);
      report.uncommitted++;
      continue;
    }
    present.insert(name);
  }

  for (const auto& hex : recorded) {
    if (present.count(hex) == 0) report.lostLayers.push_back(std::string(SHA256_PREFIX) + hex);
  }
  if (!report.lostLayers.empty()) {
    report.lostImages = images_.forgetLayers(report.lostLayers);
    log::error("layers recorded without their directory were forgotten, with their images",
               {{"layers", std::to_string(report.lostLayers.size())},
                {"images", std::to_string(report.lostImages.size())}});
  }
  if (fsync(layersFd_.get()) != 0) failSyscall("fsync", LAYERS_DIR);
  if (report.staging + report.removing + report.uncommitted > 0) {
    log::info("cleaned up after an interrupted run", {{"staging", report.staging},
                                                      {"removing", report.removing},
                                                      {"uncommitted", report.uncommitted}});
  }
  return report;
}

std::string LayerStore::lowerFileFor(const std::string& parentChainId) {
  std::string lower;
  std::string current = parentChainId;
  for (size_t depth = 0; !current.empty() && depth <= MAX_IMAGE_LAYERS; ++depth) {
    lower += current + "\n";
    auto layer = images_.findLayer(current);
    if (!layer) break;
    current = layer->parentChainId;
  }
  return lower;
}

void LayerStore::publish(const std::string& stagingName, const std::string& hex) {
  if (renameat(stagingFd_.get(), stagingName.c_str(), layersFd_.get(), hex.c_str()) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY) failSyscall("rename into layers", hex);
    // A directory no record names (we hold the chain lock and found no record): left by a
    // crash, or by a deletion that has not run yet. Replace it.
    removeTreeAt(layersFd_.get(), hex);
    if (renameat(stagingFd_.get(), stagingName.c_str(), layersFd_.get(), hex.c_str()) != 0) {
      failSyscall("rename into layers", hex);
    }
  }
  if (fsync(layersFd_.get()) != 0) failSyscall("fsync", LAYERS_DIR);
}

LayerRecord LayerStore::importLayer(const ImportRequest& request) {
  requireDigest(request.diffId, "diff id");
  if (!request.parentChainId.empty()) requireDigest(request.parentChainId, "parent chain id");
  std::string chain = chainId(request.parentChainId, request.diffId);
  std::string hex = digestHex(chain);

  return withContext("import layer " + request.diffId, [&]() -> LayerRecord {
    ChainLock lock(*this, chain);
    if (auto existing = images_.findLayer(chain)) return *existing;
    if (stopping_) fail(ErrorCategory::UNAVAILABLE, "crio-stored is stopping");
    if (!request.parentChainId.empty() && !images_.findLayer(request.parentChainId)) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           "parent layer " + request.parentChainId + " is not in the store");
    }

    auto start = std::chrono::steady_clock::now();
    unpacks_++;
    Staging staging(stagingFd_.get());
    UnpackStats stats;
    std::string digest;
    Compression compression;
    {
      LayerStream stream(request.fd, request.mediaType);
      compression = stream.compression();
      TarReader reader(stream);
      stats = unpackLayer(reader, staging.diffFd(), options_);
      digest = stream.finish();
    }
    if (digest != request.diffId) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "the layer's content hashes to " + digest + ", not to its diff id");
    }
    writeFileAt(staging.dirFd(), LOWER_FILE, lowerFileFor(request.parentChainId));
    // One syncfs makes every file of the layer durable at once, far cheaper than an fsync each.
    if (syncfs(staging.diffFd()) != 0) failSyscall("syncfs", root_);

    publish(staging.name(), hex);
    staging.published();
    LayerRecord record{chain, request.diffId, request.parentChainId, stats.bytes, nowNanos()};
    try {
      images_.addLayer(record);
    } catch (...) {
      deleteLayerDir(hex);
      throw;
    }
    log::info("imported layer", {{"layer", chain},
                                 {"diff_id", request.diffId},
                                 {"compression", compressionName(compression)},
                                 {"entries", stats.entries},
                                 {"bytes", stats.bytes},
                                 {"whiteouts", stats.whiteouts},
                                 {"dropped_xattrs", stats.droppedXattrs},
                                 {"seconds", secondsSince(start)}});
    return record;
  });
}

bool LayerStore::hasLayer(const std::string& chainId) {
  return isDigest(chainId) && images_.findLayer(chainId).has_value();
}

void LayerStore::deleteLayerDir(const std::string& hex) {
  std::string doomed = randomName();
  if (renameat(layersFd_.get(), hex.c_str(), removingFd_.get(), doomed.c_str()) != 0) {
    if (errno == ENOENT) return;
    failSyscall("rename out of layers", hex);
  }
  removeTreeAt(removingFd_.get(), doomed);
}

void LayerStore::deleteLayers(const std::vector<std::string>& chainIds) {
  for (const auto& chain : chainIds) {
    if (!isDigest(chain)) continue;
    ChainLock lock(*this, chain);
    if (images_.findLayer(chain)) continue;  // imported again meanwhile
    try {
      deleteLayerDir(digestHex(chain));
      log::info("deleted layer", {{"layer", chain}});
    } catch (const std::exception& e) {
      log::warn("cannot delete a layer directory; it goes at the next start",
                {{"layer", chain}, {"error", e.what()}});
    }
  }
}

StoreUsage LayerStore::usage() {
  TreeUsage tree = measureTree(rootFd_.get());
  return {root_, tree.bytes, tree.inodes, nowNanos()};
}

std::string LayerStore::diffPath(const std::string& chainId) const {
  return root_ + "/" + LAYERS_DIR + "/" + digestHex(chainId) + "/" + DIFF_DIR;
}

}  // namespace crio::stored
