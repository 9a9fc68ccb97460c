#include "crio-imaged/bounded-file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace crio::imaged {

namespace {

// Closes the descriptor on every path out of readBoundedFile.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

std::optional<std::string> readBoundedFile(const std::string& path, size_t maxBytes) {
  // O_NONBLOCK keeps open() from waiting on a FIFO; it has no effect on a regular file.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    failSyscall("open", path);
  }
  FdCloser closer(fd);

  struct stat info;
  if (fstat(fd, &info) != 0) failSyscall("stat", path);
  if (!S_ISREG(info.st_mode)) fail(ErrorCategory::INVALID_ARGUMENT, path + ": not a regular file");
  if (static_cast<size_t>(info.st_size) > maxBytes) {
    fail(ErrorCategory::RESOURCE_EXHAUSTED, path + ": file is " + std::to_string(info.st_size) +
                                                " bytes, more than the limit of " +
                                                std::to_string(maxBytes));
  }

  // Reads until end of file rather than trusting st_size, and stops one byte past the limit so
  // that a file growing while it is read is still caught.
  std::string text;
  char buffer[16384];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failSyscall("read", path);
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > maxBytes) {
      fail(ErrorCategory::RESOURCE_EXHAUSTED,
           path + ": file is larger than the limit of " + std::to_string(maxBytes) + " bytes");
    }
  }
  return text;
}

}  // namespace crio::imaged
