#include "crio-cri/oci/rootfs-files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/error.h"
#include "crio-cri/oci/container-path.h"

namespace crio::cri::oci {

namespace {

// Owns one file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_;
};

std::vector<std::string> components(const std::string& cleanPath) {
  std::vector<std::string> parts;
  size_t start = 1;
  while (start < cleanPath.size()) {
    size_t end = cleanPath.find('/', start);
    if (end == std::string::npos) end = cleanPath.size();
    parts.push_back(cleanPath.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Bound on symbolic links followed while resolving one path, as Linux's MAXSYMLINKS.
constexpr int MAX_LINK_HOPS = 40;

std::string joinParts(const std::vector<std::string>& parts, size_t count) {
  std::string joined;
  for (size_t i = 0; i < count; i++) {
    if (i > 0) joined += '/';
    joined += parts[i];
  }
  return joined;
}

// Opens the first `count` components of a link-free path below `rootFd` as an O_PATH descriptor.
// Every component is opened with O_NOFOLLOW, so a link that appears after resolution makes the
// open fail (ELOOP, or ENOTDIR in the middle of the path) instead of being followed.
Fd walkNoFollow(int rootFd, const std::vector<std::string>& parts, size_t count, int lastFlags) {
  Fd current(fcntl(rootFd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return current;
  for (size_t i = 0; i < count; i++) {
    int flags = (i + 1 == count) ? lastFlags : O_DIRECTORY;
    Fd next(openat(current.get(), parts[i].c_str(), flags | O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return next;
    current = std::move(next);
  }
  return current;
}

// Resolves every symbolic link of `parts` as if `rootFd` were "/": an absolute target restarts
// at the root and ".." never climbs above it. The result names no link, and its components
// after the first missing one (or one below a file) are taken as they are. Throws on a loop of
// links.
std::vector<std::string> resolveInRoot(int rootFd, const std::vector<std::string>& parts,
                                       const std::string& shownPath) {
  std::vector<std::string> pending(parts.rbegin(), parts.rend());  // next component at the back
  std::vector<std::string> resolved;
  int hops = 0;
  bool missing = false;
  while (!pending.empty()) {
    std::string name = std::move(pending.back());
    pending.pop_back();
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    if (missing) {
      resolved.push_back(name);
      continue;
    }

    Fd parent = walkNoFollow(rootFd, resolved, resolved.size(), O_DIRECTORY);
    if (!parent.valid() && errno == ENOTDIR) {
      // A file in the middle of the path: the callers report it when they open or create.
      missing = true;
      resolved.push_back(name);
      continue;
    }
    if (!parent.valid()) failSyscall("resolve " + shownPath + " in the root filesystem");
    char target[4096];
    ssize_t length = readlinkat(parent.get(), name.c_str(), target, sizeof(target));
    if (length < 0) {
      if (errno == ENOENT) missing = true;
      if (errno != ENOENT && errno != EINVAL) failSyscall("read link " + name + " of", shownPath);
      resolved.push_back(name);
      continue;
    }
    if (++hops > MAX_LINK_HOPS) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           shownPath + " in the root filesystem has more than " + std::to_string(MAX_LINK_HOPS) +
               " levels of symbolic links");
    }
    std::string link(target, static_cast<size_t>(length));
    if (!link.empty() && link[0] == '/') resolved.clear();
    std::vector<std::string> linkParts;
    size_t start = 0;
    while (start <= link.size()) {
      size_t end = link.find('/', start);
      if (end == std::string::npos) end = link.size();
      linkParts.push_back(link.substr(start, end - start));
      start = end + 1;
    }
    pending.insert(pending.end(), linkParts.rbegin(), linkParts.rend());
  }
  return resolved;
}

// Opens `parts` below the root as an O_PATH descriptor, following links only inside the root.
// An invalid Fd with errno set on failure.
Fd openInRoot(int rootFd, const std::vector<std::string>& parts, int flags, bool manual,
              const std::string& shownPath) {
  if (!manual) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_PATH | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string relative = parts.empty() ? "." : joinParts(parts, parts.size());
    int fd = static_cast<int>(syscall(SYS_openat2, rootFd, relative.c_str(), &how, sizeof(how)));
    if (fd >= 0 || errno != ENOSYS) return Fd(fd);
  }
  std::vector<std::string> resolved = resolveInRoot(rootFd, parts, shownPath);
  return walkNoFollow(rootFd, resolved, resolved.size(), flags);
}

Fd openRoot(const std::string& root) {
  Fd rootFd(open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootFd.valid()) failSyscall("open root filesystem", root);
  return rootFd;
}

}  // namespace

std::optional<std::string> RootfsDirectory::readFile(const std::string& path,
                                                     size_t maxBytes) const {
  std::string clean = cleanContainerPath(path, "file path in the root filesystem");
  std::vector<std::string> parts = components(clean);
  if (parts.empty()) fail(ErrorCategory::FAILED_PRECONDITION, clean + " is not a regular file");

  Fd rootFd = openRoot(root_);
  Fd pathFd = openInRoot(rootFd.get(), parts, 0, manualResolution_, clean);
  if (!pathFd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    failSyscall("open " + clean + " in the root filesystem", root_);
  }

  // The O_PATH descriptor is checked before a real open, so a FIFO or a device node in the image
  // is never opened (an open can block or have side effects).
  struct stat st {};
  if (fstat(pathFd.get(), &st) != 0) failSyscall("stat " + clean + " in", root_);
  if (!S_ISREG(st.st_mode)) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         clean + " in the root filesystem " + root_ + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > maxBytes) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         clean + " in the root filesystem " + root_ + " is " + std::to_string(st.st_size) +
             " bytes, more than the bound of " + std::to_string(maxBytes));
  }

  std::string procPath = "/proc/self/fd/" + std::to_string(pathFd.get());
  Fd file(open(procPath.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!file.valid()) failSyscall("open " + clean + " in", root_);

  // Read one byte past the bound so that a file that grew after fstat is still caught.
  std::string content;
  char buffer[16384];
  while (true) {
    ssize_t n = read(file.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failSyscall("read " + clean + " in", root_);
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > maxBytes) {
      fail(ErrorCategory::FAILED_PRECONDITION, clean + " in the root filesystem " + root_ +
                                                   " is more than the bound of " +
                                                   std::to_string(maxBytes) + " bytes");
    }
  }
  return content;
}

void RootfsDirectory::makeDirectories(const std::string& path, uint32_t uid, uint32_t gid) const {
  std::string clean = cleanContainerPath(path, "folder path in the root filesystem");
  std::vector<std::string> parts = components(clean);

  // The path is first resolved to one without links, so a link named by the image's Volumes
  // leads to a folder inside the root, as in CRI-O. Each step then opens the parent with
  // O_NOFOLLOW on every component and creates one name relative to it: a link that appears
  // meanwhile makes the step fail instead of leading outside.
  Fd rootFd = openRoot(root_);
  std::vector<std::string> resolved = resolveInRoot(rootFd.get(), parts, clean);
  for (size_t i = 0; i < resolved.size(); i++) {
    Fd parent = walkNoFollow(rootFd.get(), resolved, i, O_DIRECTORY);
    if (!parent.valid()) failSyscall("open the parent of " + clean + " in", root_);

    if (mkdirat(parent.get(), resolved[i].c_str(), 0755) == 0) {
      // The mode is set again because mkdirat applies the daemon's umask.
      if (fchmodat(parent.get(), resolved[i].c_str(), 0755, 0) != 0) {
        failSyscall("chmod " + clean + " in", root_);
      }
      if (fchownat(parent.get(), resolved[i].c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
        failSyscall("chown " + clean + " in", root_);
      }
      continue;
    }
    if (errno != EEXIST) failSyscall("create folder " + clean + " in", root_);

    struct stat st {};
    if (fstatat(parent.get(), resolved[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      failSyscall("stat " + clean + " in", root_);
    }
    if (!S_ISDIR(st.st_mode)) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           "cannot create folder " + clean + " in the root filesystem " + root_ + ": /" +
               joinParts(resolved, i + 1) + " exists and is not a folder");
    }
  }
}

}  // namespace crio::cri::oci
