#include "crio-stored/layer-unpacker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "crio-stored/beneath.h"
#include "crio-stored/fs-tree.h"
#include "crio-stored/unique-fd.h"
#include "crio-stored/whiteout.h"
#include "crio-stored/xattr-policy.h"

namespace crio::stored {

namespace {

// Bound on a symlink's target (PATH_MAX).
constexpr size_t MAX_LINK_TARGET = 4096;

class Unpacker {
 public:
  Unpacker(TarReader& reader, int rootFd, const UnpackOptions& options)
      : reader_(reader), rootFd_(rootFd), options_(options) {}

  UnpackStats run();

 private:
  struct PendingTimes {
    std::vector<std::string> components;
    timespec times[2];
  };

  void apply(const TarEntry& entry);
  void applyRoot(const TarEntry& entry);
  int parentOf(const std::vector<std::string>& components);
  bool clearPath(int parentFd, const std::string& name, bool keepDirectory);

  void writeFile(const TarEntry& entry, int parentFd, const std::string& name);
  void makeDirectory(const TarEntry& entry, int parentFd, const std::vector<std::string>& path);
  void makeSymlink(const TarEntry& entry, int parentFd, const std::string& name);
  void makeHardlink(const TarEntry& entry, int parentFd, const std::vector<std::string>& path);
  void makeNode(const TarEntry& entry, int parentFd, const std::string& name);

  // Owner, mode and xattrs of an open file or directory.
  void setAttributes(const TarEntry& entry, int fd);
  // The same for a node reached by name (devices, FIFOs): no descriptor is opened on it.
  void setAttributesAt(const TarEntry& entry, int parentFd, const std::string& name);
  void setXattrs(const TarEntry& entry, int fd, const std::string& procPath);
  void setTimesAt(const TarEntry& entry, int parentFd, const std::string& name);
  void finishDirectories();

  TarReader& reader_;
  int rootFd_;
  UnpackOptions options_;
  UnpackStats stats_;
  std::string cachedPath_;
  UniqueFd cachedParent_;
  std::vector<PendingTimes> directoryTimes_;
  bool dropLogged_[5] = {};
};

UnpackStats Unpacker::run() {
  TarEntry entry;
  while (reader_.next(entry)) {
    if (options_.cancel != nullptr && options_.cancel->load()) {
      fail(ErrorCategory::UNAVAILABLE, "crio-stored is stopping");
    }
    if (++stats_.entries > options_.maxEntries) {
      fail(ErrorCategory::RESOURCE_EXHAUSTED,
           "the layer has more than " + std::to_string(options_.maxEntries) + " entries");
    }
    withContext("layer entry \"" + entry.path.substr(0, 300) + "\"", [&]() { apply(entry); });
  }
  finishDirectories();
  return stats_;
}

void Unpacker::apply(const TarEntry& entry) {
  std::vector<std::string> path = splitEntryPath(entry.path);
  if (path.empty()) return applyRoot(entry);
  const std::string& name = path.back();

  Whiteout whiteout = classifyWhiteout(name);
  if (whiteout.kind == WhiteoutKind::META) return;
  int parentFd = parentOf(path);
  if (whiteout.kind == WhiteoutKind::OPAQUE) {
    markOpaque(parentFd);
    stats_.opaqueDirectories++;
    return;
  }
  if (whiteout.kind == WhiteoutKind::DELETE) {
    clearPath(parentFd, whiteout.target, false);
    makeWhiteout(parentFd, whiteout.target);
    stats_.whiteouts++;
    return;
  }

  switch (entry.type) {
    case EntryType::FILE:
      return writeFile(entry, parentFd, name);
    case EntryType::DIRECTORY:
      return makeDirectory(entry, parentFd, path);
    case EntryType::SYMLINK:
      return makeSymlink(entry, parentFd, name);
    case EntryType::HARDLINK:
      return makeHardlink(entry, parentFd, path);
    case EntryType::CHAR_DEVICE:
    case EntryType::BLOCK_DEVICE:
    case EntryType::FIFO:
      return makeNode(entry, parentFd, name);
  }
}

void Unpacker::applyRoot(const TarEntry& entry) {
  if (entry.type != EntryType::DIRECTORY) {
    fail(ErrorCategory::INVALID_ARGUMENT, "the root of a layer can only be a directory");
  }
  setAttributes(entry, rootFd_);
  directoryTimes_.push_back({{}, {entry.atime, entry.mtime}});
}

int Unpacker::parentOf(const std::vector<std::string>& path) {
  std::string parentPath = joinPath(path, path.size() - 1);
  if (!cachedParent_ || parentPath != cachedPath_) {
    cachedParent_ = openDirBeneath(rootFd_, path, path.size() - 1, true);
    cachedPath_ = parentPath;
  }
  return cachedParent_.get();
}

// Makes room for a new entry NAME: removes what is there, unless it is a directory and
// `keepDirectory` says a directory is wanted. True when a directory was kept.
bool Unpacker::clearPath(int parentFd, const std::string& name, bool keepDirectory) {
  struct stat st;
  if (fstatat(parentFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    failSyscall("stat", name);
  }
  if (S_ISDIR(st.st_mode)) {
    if (keepDirectory) return true;
    removeTreeAt(parentFd, name);
    // The cached parent may have been inside what was removed; its descriptor stays open for
    // the caller, but the next entry opens its parent afresh.
    cachedPath_.assign(1, '\0');
    return false;
  }
  if (unlinkat(parentFd, name.c_str(), 0) != 0) failSyscall("unlink", name);
  return false;
}

void Unpacker::writeFile(const TarEntry& entry, int parentFd, const std::string& name) {
  clearPath(parentFd, name, false);
  UniqueFd fd(
      openat(parentFd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) failSyscall("create", name);

  uint64_t end = 0;
  reader_.readData([&](uint64_t offset, const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    size_t done = 0;
    while (done < size) {
      ssize_t n = pwrite(fd.get(), bytes + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) failSyscall("write", name);
      done += static_cast<size_t>(n);
    }
    end = std::max(end, offset + size);
    stats_.bytes += size;
  });
  if (end < entry.size && ftruncate(fd.get(), static_cast<off_t>(entry.size)) != 0) {
    failSyscall("truncate", name);
  }

  setAttributes(entry, fd.get());
  timespec times[2] = {entry.atime, entry.mtime};
  if (futimens(fd.get(), times) != 0) failSyscall("set times", name);
}

void Unpacker::makeDirectory(const TarEntry& entry, int parentFd,
                             const std::vector<std::string>& path) {
  const std::string& name = path.back();
  if (!clearPath(parentFd, name, true) && mkdirat(parentFd, name.c_str(), 0700) != 0) {
    failSyscall("mkdir", name);
  }
  UniqueFd fd(openat(parentFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) failSyscall("open", name);
  setAttributes(entry, fd.get());
  directoryTimes_.push_back({path, {entry.atime, entry.mtime}});
}

void Unpacker::makeSymlink(const TarEntry& entry, int parentFd, const std::string& name) {
  if (entry.linkTarget.empty() || entry.linkTarget.size() > MAX_LINK_TARGET) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "symlink target is empty or longer than " + std::to_string(MAX_LINK_TARGET) + " bytes");
  }
  clearPath(parentFd, name, false);
  // The target is stored as text and never followed here; a container resolves it inside its
  // own root.
  if (symlinkat(entry.linkTarget.c_str(), parentFd, name.c_str()) != 0) {
    failSyscall("symlink", name);
  }
  if (fchownat(parentFd, name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    failSyscall("chown", name);
  }
  setXattrs(entry, -1, "");
  setTimesAt(entry, parentFd, name);
}

void Unpacker::makeHardlink(const TarEntry& entry, int parentFd,
                            const std::vector<std::string>& path) {
  std::vector<std::string> target = splitEntryPath(entry.linkTarget);
  std::string shown = joinPath(target, target.size());
  if (target.empty() || target == path) {
    fail(ErrorCategory::INVALID_ARGUMENT, "hard link to \"" + shown + "\" links to itself");
  }
  UniqueFd targetParent;
  try {
    targetParent = openDirBeneath(rootFd_, target, target.size() - 1, false);
  } catch (const Error& e) {
    if (e.category() != ErrorCategory::NOT_FOUND) throw;
  }
  struct stat st;
  if (!targetParent ||
      fstatat(targetParent.get(), target.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "hard link target \"" + shown + "\" is not an earlier entry of this layer");
  }
  if (S_ISDIR(st.st_mode)) {
    fail(ErrorCategory::INVALID_ARGUMENT, "hard link to directory \"" + shown + "\"");
  }

  const std::string& name = path.back();
  clearPath(parentFd, name, false);
  // Flags 0: the target itself is linked, never what a symlink target points to.
  if (linkat(targetParent.get(), target.back().c_str(), parentFd, name.c_str(), 0) != 0) {
    failSyscall("link to " + shown, name);
  }
}

void Unpacker::makeNode(const TarEntry& entry, int parentFd, const std::string& name) {
  mode_t type = S_IFIFO;
  dev_t device = 0;
  if (entry.type != EntryType::FIFO) {
    if (options_.devices == DevicePolicy::REJECT) {
      fail(ErrorCategory::INVALID_ARGUMENT, "device nodes are not allowed in layers here");
    }
    type = entry.type == EntryType::CHAR_DEVICE ? S_IFCHR : S_IFBLK;
    device = makedev(entry.devMajor, entry.devMinor);
  }
  clearPath(parentFd, name, false);
  if (mknodat(parentFd, name.c_str(), type | 0600, device) != 0) failSyscall("mknod", name);
  setAttributesAt(entry, parentFd, name);
  setTimesAt(entry, parentFd, name);
}

void Unpacker::setAttributes(const TarEntry& entry, int fd) {
  // chown first: it clears setuid and setgid, which chmod then sets.
  if (fchown(fd, entry.uid, entry.gid) != 0) failSyscall("chown");
  if (fchmod(fd, entry.mode) != 0) failSyscall("chmod");
  setXattrs(entry, fd, "");
}

void Unpacker::setAttributesAt(const TarEntry& entry, int parentFd, const std::string& name) {
  if (fchownat(parentFd, name.c_str(), entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    failSyscall("chown", name);
  }
  // NAME was just made by mknod in a directory only this process writes: it is no symlink.
  if (fchmodat(parentFd, name.c_str(), entry.mode, 0) != 0) failSyscall("chmod", name);
  setXattrs(entry, -1, "/proc/self/fd/" + std::to_string(parentFd) + "/" + name);
}

void Unpacker::setXattrs(const TarEntry& entry, int fd, const std::string& procPath) {
  if (entry.xattrs.size() > MAX_XATTRS_PER_ENTRY) {
    fail(ErrorCategory::RESOURCE_EXHAUSTED,
         "more than " + std::to_string(MAX_XATTRS_PER_ENTRY) + " xattrs");
  }
  for (const auto& [name, value] : entry.xattrs) {
    if (name.size() > MAX_XATTR_NAME || value.size() > MAX_XATTR_VALUE) {
      fail(ErrorCategory::INVALID_ARGUMENT, "xattr \"" + name.substr(0, 64) + "\" is too large");
    }
    XattrVerdict verdict = classifyXattr(name, entry.type);
    if (verdict != XattrVerdict::KEEP) {
      stats_.droppedXattrs++;
      bool& logged = dropLogged_[static_cast<int>(verdict)];
      if (!logged) {
        logged = true;
        log::warn("dropping xattrs from a layer",
                  {{"xattr", name}, {"entry", entry.path}, {"reason", verdictReason(verdict)}});
      }
      continue;
    }
    // lsetxattr on /proc/self/fd/PARENT/NAME: the parent is our own descriptor and NAME is not
    // followed.
    int rc = fd >= 0 ? fsetxattr(fd, name.c_str(), value.data(), value.size(), 0)
                     : lsetxattr(procPath.c_str(), name.c_str(), value.data(), value.size(), 0);
    if (rc != 0) failSyscall("set xattr " + name);
  }
}

void Unpacker::setTimesAt(const TarEntry& entry, int parentFd, const std::string& name) {
  timespec times[2] = {entry.atime, entry.mtime};
  if (utimensat(parentFd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    failSyscall("set times", name);
  }
}

void Unpacker::finishDirectories() {
  for (const PendingTimes& pending : directoryTimes_) {
    UniqueFd fd;
    try {
      fd = openDirBeneath(rootFd_, pending.components, pending.components.size(), false);
    } catch (const Error&) {
      continue;  // replaced or removed by a later entry
    }
    if (futimens(fd.get(), pending.times) != 0) {
      failSyscall("set times", joinPath(pending.components, pending.components.size()));
    }
  }
}

}  // namespace

UnpackStats unpackLayer(TarReader& reader, int rootFd, const UnpackOptions& options) {
  return Unpacker(reader, rootFd, options).run();
}

}  // namespace crio::stored
