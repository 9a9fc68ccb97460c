// Reading and creating files inside a container's root filesystem.
//
// The root filesystem is image content, so it is untrusted: /etc/passwd may be a symbolic link
// to /etc/shadow of the host, a folder named by the image's Volumes may be a link to /root.
// Every path is therefore resolved relative to the root folder with openat2(RESOLVE_IN_ROOT),
// which makes an absolute link or a ".." component stop at the root, as if the process were
// chrooted. On a kernel without openat2 (before Linux 5.6) the path is walked one component at a
// time with O_NOFOLLOW, and a symbolic link anywhere on it is an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace crio::cri::oci {

// Access to the files of one root filesystem. Paths are absolute as seen from inside the
// container ("/etc/passwd").
class RootfsFiles {
 public:
  virtual ~RootfsFiles() = default;

  // Returns the content of the regular file at `path`, or nullopt when the file or a folder on
  // the way does not exist. Throws FAILED_PRECONDITION when it is not a regular file or is larger
  // than `maxBytes`.
  virtual std::optional<std::string> readFile(const std::string& path, size_t maxBytes) const = 0;

  // Creates the folder `path` and its missing parents with mode 0755. Folders it creates are
  // owned by uid:gid; existing ones are left as they are.
  virtual void makeDirectories(const std::string& path, uint32_t uid, uint32_t gid) const = 0;
};

// A root filesystem that is a folder on this host (the mounted overlay of a container).
class RootfsDirectory : public RootfsFiles {
 public:
  explicit RootfsDirectory(std::string root) : root_(std::move(root)) {}

  std::optional<std::string> readFile(const std::string& path, size_t maxBytes) const override;
  void makeDirectories(const std::string& path, uint32_t uid, uint32_t gid) const override;

  const std::string& root() const { return root_; }

  // Walks paths by hand even where openat2 exists; lets tests cover the fallback.
  void setManualResolution(bool manual) { manualResolution_ = manual; }

 private:
  std::string root_;
  bool manualResolution_ = false;
};

}  // namespace crio::cri::oci
