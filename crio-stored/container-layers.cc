#include "crio-stored/container-layers.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "crio-stored/beneath.h"
#include "crio-stored/fs-tree.h"

namespace crio::stored {

namespace {

constexpr const char* CONTAINERS_DIR = "containers";
constexpr const char* REMOVING_DIR = "removing";
constexpr const char* UPPER_DIR = "upper";
constexpr const char* WORK_DIR = "work";

UniqueFd openDir(int parentFd, const char* name, const std::string& shown) {
  if (mkdirat(parentFd, name, 0700) != 0 && errno != EEXIST) failSyscall("mkdir", shown);
  UniqueFd fd(openat(parentFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) failSyscall("open", shown);
  return fd;
}

std::string randomHex() {
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

bool idChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

}  // namespace

void requireContainerId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= MAX_CONTAINER_ID && idChar(id[0]) && id[0] != '_' &&
            id[0] != '-' && id[0] != '.';
  for (char c : id)
    ok = ok && idChar(c);
  if (!ok) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "container id must be 1 to 128 letters, digits, '_', '-' or '.', starting with a letter "
         "or digit");
  }
}

ContainerLayers::ContainerLayers(const std::string& root, ImageStore& images, LayerStore& layers)
    : root_(root), images_(images), layers_(layers) {
  UniqueFd rootFd(open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd) failSyscall("open storage root", root_);
  containersFd_ = openDir(rootFd.get(), CONTAINERS_DIR, root_ + "/" + CONTAINERS_DIR);
  removingFd_ = openDir(rootFd.get(), REMOVING_DIR, root_ + "/" + REMOVING_DIR);
}

unsigned ContainerLayers::recover() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto ids = images_.listContainers();
  std::set<std::string> recorded(ids.begin(), ids.end());
  unsigned deleted = 0;
  std::set<std::string> present;
  for (const auto& name : directoryEntries(containersFd_.get())) {
    if (recorded.count(name) != 0) {
      present.insert(name);
      continue;
    }
    log::warn("removing a container layer no record names (interrupted create or removal)",
              {{"container", name}});
    removeTreeAt(containersFd_.get(), name);
    deleted++;
  }
  for (const auto& id : recorded) {
    if (present.count(id) != 0) continue;
    log::error("the directory of a container layer is missing; making it again, empty",
               {{"container", id}});
    makeDirs(id);
  }
  return deleted;
}

void ContainerLayers::makeDirs(const std::string& containerId) {
  const char* id = containerId.c_str();
  if (mkdirat(containersFd_.get(), id, 0700) != 0 && errno != EEXIST) {
    failSyscall("mkdir container layer", containerId);
  }
  UniqueFd dir(openat(containersFd_.get(), id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) failSyscall("open container layer", containerId);
  for (auto [name, mode] : {std::pair{UPPER_DIR, 0755}, std::pair{WORK_DIR, 0700}}) {
    if (mkdirat(dir.get(), name, 0700) != 0 && errno != EEXIST) failSyscall("mkdir", name);
    // mkdir's mode passes through the umask: set it exactly.
    UniqueFd sub(openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub || fchmod(sub.get(), static_cast<mode_t>(mode)) != 0) failSyscall("chmod", name);
  }
  if (fsync(dir.get()) != 0 || fsync(containersFd_.get()) != 0) {
    failSyscall("fsync container layer", containerId);
  }
}

ContainerLayer ContainerLayers::describe(const ContainerLayerRecord& record) const {
  ContainerLayer layer;
  layer.containerId = record.id;
  layer.imageId = record.imageId;
  for (auto it = record.layerChainIds.rbegin(); it != record.layerChainIds.rend(); ++it) {
    layer.lowerDirs.push_back(layers_.diffPath(*it));
  }
  std::string dir = root_ + "/" + CONTAINERS_DIR + "/" + record.id;
  layer.upperDir = dir + "/" + UPPER_DIR;
  layer.workDir = dir + "/" + WORK_DIR;
  return layer;
}

ContainerLayer ContainerLayers::create(const std::string& containerId,
                                       const std::string& imageReference) {
  requireContainerId(containerId);
  auto image = images_.findImage(imageReference);
  if (!image) fail(ErrorCategory::NOT_FOUND, "image " + imageReference + " is not in the store");

  std::lock_guard<std::mutex> lock(mutex_);
  if (auto existing = images_.findContainer(containerId)) {
    if (existing->imageId != image->id) {
      fail(ErrorCategory::ALREADY_EXISTS,
           "container " + containerId + " already has a layer on image " + existing->imageId);
    }
    return describe(*existing);
  }

  // Whatever an interrupted create left under this name goes first.
  removeTreeAt(containersFd_.get(), containerId);
  makeDirs(containerId);
  try {
    ContainerLayerRecord record = images_.addContainer(containerId, image->id);
    log::info("created container layer", {{"container", containerId}, {"image", image->id}});
    return describe(record);
  } catch (...) {
    removeTreeAt(containersFd_.get(), containerId);
    throw;
  }
}

bool ContainerLayers::remove(const std::string& containerId) {
  requireContainerId(containerId);
  std::lock_guard<std::mutex> lock(mutex_);
  bool removed = images_.removeContainer(containerId);

  std::string doomed = randomHex();
  if (renameat(containersFd_.get(), containerId.c_str(), removingFd_.get(), doomed.c_str()) != 0) {
    if (errno != ENOENT) failSyscall("rename out of containers", containerId);
    return removed;
  }
  try {
    removeTreeAt(removingFd_.get(), doomed);
  } catch (const std::exception& e) {
    log::warn("cannot delete a container layer; it goes at the next start",
              {{"container", containerId}, {"error", e.what()}});
  }
  if (removed) log::info("removed container layer", {{"container", containerId}});
  return removed;
}

std::optional<ContainerLayer> ContainerLayers::find(const std::string& containerId) {
  requireContainerId(containerId);
  auto record = images_.findContainer(containerId);
  if (!record) return std::nullopt;
  return describe(*record);
}

}  // namespace crio::stored
