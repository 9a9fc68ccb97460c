#include "crio-stored/beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace crio::stored {

namespace {

constexpr unsigned DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

[[noreturn]] void refuse(const std::string& path, int errnum) {
  switch (errnum) {
    case ELOOP:
      fail(ErrorCategory::INVALID_ARGUMENT,
           "\"" + path + "\" goes through a symbolic link, which a layer entry may not");
    case ENOTDIR:
      fail(ErrorCategory::INVALID_ARGUMENT, "\"" + path + "\" goes through a non-directory");
    case EXDEV:
      fail(ErrorCategory::INVALID_ARGUMENT, "\"" + path + "\" leaves the layer");
    default:
      failSyscall("open directory", path, errnum);
  }
}

int openat2Beneath(int rootFd, const std::string& path) {
  open_how how{};
  how.flags = DIR_FLAGS;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, rootFd, path.c_str(), &how, sizeof(how)));
  } while (fd < 0 && errno == EAGAIN);
  return fd;
}

}  // namespace

std::vector<std::string> directoryEntries(int dirFd) {
  int copy = fcntl(dirFd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) failSyscall("dup");
  DIR* dir = fdopendir(copy);
  if (dir == nullptr) {
    close(copy);
    failSyscall("fdopendir");
  }
  rewinddir(dir);
  std::vector<std::string> names;
  while (struct dirent* d = readdir(dir)) {
    std::string_view name(d->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  closedir(dir);
  return names;
}

std::vector<std::string> splitEntryPath(std::string_view path) {
  std::string shown(path.substr(0, 200));
  if (path.size() > MAX_ENTRY_PATH) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "path \"" + shown + "...\" is longer than " + std::to_string(MAX_ENTRY_PATH) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) {
    fail(ErrorCategory::INVALID_ARGUMENT, "path \"" + shown + "\" contains a NUL byte");
  }
  if (!path.empty() && path[0] == '/') {
    fail(ErrorCategory::INVALID_ARGUMENT, "path \"" + shown + "\" is absolute");
  }

  std::vector<std::string> components;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view name = path.substr(start, end - start);
    start = end + 1;
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      fail(ErrorCategory::INVALID_ARGUMENT, "path \"" + shown + "\" has a \"..\" component");
    }
    if (name.size() > MAX_NAME_LENGTH) {
      fail(ErrorCategory::INVALID_ARGUMENT, "path \"" + shown + "\" has a name longer than " +
                                                std::to_string(MAX_NAME_LENGTH) + " bytes");
    }
    components.emplace_back(name);
  }
  if (components.size() > MAX_PATH_DEPTH) {
    fail(ErrorCategory::INVALID_ARGUMENT, "path \"" + shown + "\" is deeper than " +
                                              std::to_string(MAX_PATH_DEPTH) + " directories");
  }
  return components;
}

std::string joinPath(const std::vector<std::string>& components, size_t count) {
  if (count == 0) return ".";
  std::string path;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) path += '/';
    path += components[i];
  }
  return path;
}

UniqueFd openDirBeneath(int rootFd, const std::vector<std::string>& components, size_t count,
                        bool create) {
  std::string path = joinPath(components, count);
  int fd = openat2Beneath(rootFd, path);
  if (fd >= 0) return UniqueFd(fd);
  if (errno != ENOSYS && !(errno == ENOENT && create)) refuse(path, errno);

  // Component by component: an old kernel without openat2, or directories to create.
  UniqueFd current(fcntl(rootFd, F_DUPFD_CLOEXEC, 0));
  if (!current) failSyscall("dup", "layer root");
  for (size_t i = 0; i < count; ++i) {
    const char* name = components[i].c_str();
    int next = openat(current.get(), name, DIR_FLAGS | O_NOFOLLOW);
    if (next < 0 && errno == ENOENT && create) {
      if (mkdirat(current.get(), name, 0755) != 0 && errno != EEXIST) {
        failSyscall("mkdir", joinPath(components, i + 1));
      }
      next = openat(current.get(), name, DIR_FLAGS | O_NOFOLLOW);
    }
    if (next < 0) refuse(joinPath(components, i + 1), errno);
    current.reset(next);
  }
  return current;
}

}  // namespace crio::stored
