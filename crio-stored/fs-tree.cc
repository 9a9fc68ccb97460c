#include "crio-stored/fs-tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_set>
#include <vector>

#include "common/error.h"
#include "crio-stored/unique-fd.h"

namespace crio::stored {

namespace {

struct Child {
  std::string name;
  bool directory;
};

// The names in the directory `fd`, read whole so that no stream stays open while walking on.
std::vector<Child> listDirectory(int fd) {
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) failSyscall("dup");
  DIR* dir = fdopendir(copy);
  if (dir == nullptr) {
    close(copy);
    failSyscall("fdopendir");
  }
  rewinddir(dir);
  std::vector<Child> children;
  errno = 0;
  while (struct dirent* d = readdir(dir)) {
    std::string_view name(d->d_name);
    if (name == "." || name == "..") continue;
    children.push_back({std::string(name), d->d_type == DT_DIR});
  }
  int err = errno;
  closedir(dir);
  if (err != 0) failSyscall("readdir", "", err);
  return children;
}

UniqueFd openChildDir(int dirFd, const std::string& name) {
  return UniqueFd(openat(dirFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

void removeContents(int fd, dev_t device) {
  for (const Child& child : listDirectory(fd)) {
    if (!child.directory && unlinkat(fd, child.name.c_str(), 0) == 0) continue;
    if (!child.directory && errno != EISDIR) {
      if (errno == ENOENT) continue;
      failSyscall("unlink", child.name);
    }
    UniqueFd sub = openChildDir(fd, child.name);
    if (!sub) failSyscall("open", child.name);
    struct stat st;
    if (fstat(sub.get(), &st) != 0) failSyscall("stat", child.name);
    if (st.st_dev != device) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           "cannot remove \"" + child.name + "\": a filesystem is mounted there");
    }
    removeContents(sub.get(), device);
    sub.reset();
    if (unlinkat(fd, child.name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      failSyscall("rmdir", child.name);
    }
  }
}

void measure(int fd, dev_t device, TreeUsage& usage, std::unordered_set<ino_t>& linked) {
  for (const Child& child : listDirectory(fd)) {
    struct stat st;
    if (fstatat(fd, child.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile
      failSyscall("stat", child.name);
    }
    if (st.st_dev != device) continue;
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && !linked.insert(st.st_ino).second) continue;
    usage.inodes += 1;
    usage.bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    if (!S_ISDIR(st.st_mode)) continue;
    UniqueFd sub = openChildDir(fd, child.name);
    if (!sub) {
      if (errno == ENOENT) continue;
      failSyscall("open", child.name);
    }
    measure(sub.get(), device, usage, linked);
  }
}

}  // namespace

void removeTreeAt(int dirFd, const std::string& name) {
  if (unlinkat(dirFd, name.c_str(), 0) == 0 || errno == ENOENT) return;
  if (errno != EISDIR) failSyscall("unlink", name);
  UniqueFd sub = openChildDir(dirFd, name);
  if (!sub) {
    if (errno == ENOENT) return;
    failSyscall("open", name);
  }
  struct stat st;
  if (fstat(sub.get(), &st) != 0) failSyscall("stat", name);
  removeContents(sub.get(), st.st_dev);
  sub.reset();
  if (unlinkat(dirFd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    failSyscall("rmdir", name);
  }
}

TreeUsage measureTree(int dirFd) {
  struct stat st;
  if (fstat(dirFd, &st) != 0) failSyscall("stat");
  TreeUsage usage;
  usage.inodes = 1;
  usage.bytes = static_cast<uint64_t>(st.st_blocks) * 512;
  std::unordered_set<ino_t> linked;
  measure(dirFd, st.st_dev, usage, linked);
  return usage;
}

}  // namespace crio::stored
