#include "common/overlay-mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace crio {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

void checkLayers(const OverlayLayers& layers) {
  if (layers.lowerDirs.empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "an overlay needs at least one lower folder");
  }
  if (layers.lowerDirs.size() > MAX_OVERLAY_LAYERS) {
    fail(ErrorCategory::INVALID_ARGUMENT, "an image of " + std::to_string(layers.lowerDirs.size()) +
                                              " layers exceeds the overlay limit of " +
                                              std::to_string(MAX_OVERLAY_LAYERS));
  }
  if (layers.upperDir.empty() != layers.workDir.empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "an overlay needs both an upper and a work folder");
  }
  for (const auto& dir : layers.lowerDirs) {
    // ':' and ',' separate entries in overlay options; a layer path never contains them.
    if (dir.find_first_of(":,") != std::string::npos) {
      fail(ErrorCategory::INVALID_ARGUMENT, "overlay folder " + dir + " contains ':' or ','");
    }
  }
}

// Returns false (with errno) when the kernel lacks the new mount API or the "lowerdir+" key.
bool mountWithFsconfig(const OverlayLayers& layers, const std::string& target) {
  Fd fs(static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
  if (fs.get() < 0) return false;

  auto set = [&](const char* key, const char* value) {
    int rc = static_cast<int>(syscall(
        SYS_fsconfig, fs.get(), value ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, value, 0));
    return rc == 0;
  };
  for (const auto& dir : layers.lowerDirs) {
    if (!set("lowerdir+", dir.c_str())) {
      if (errno == EINVAL) return false;  // a kernel before 6.5
      failSyscall("overlay lowerdir+", dir);
    }
  }
  if (!layers.upperDir.empty()) {
    if (!set("upperdir", layers.upperDir.c_str())) failSyscall("overlay upperdir", layers.upperDir);
    if (!set("workdir", layers.workDir.c_str())) failSyscall("overlay workdir", layers.workDir);
  }
  if (!set("userxattr", nullptr)) failSyscall("overlay userxattr");
  if (syscall(SYS_fsconfig, fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    failSyscall("create overlay for", target);
  }
  Fd mount(static_cast<int>(syscall(SYS_fsmount, fs.get(), FSMOUNT_CLOEXEC, 0)));
  if (mount.get() < 0) failSyscall("fsmount overlay for", target);
  if (syscall(SYS_move_mount, mount.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) !=
      0) {
    failSyscall("move overlay mount to", target);
  }
  return true;
}

void mountWithOptions(const OverlayLayers& layers, const std::string& target) {
  std::string options = "userxattr,lowerdir=";
  for (size_t i = 0; i < layers.lowerDirs.size(); ++i) {
    if (i > 0) options += ":";
    options += layers.lowerDirs[i];
  }
  if (!layers.upperDir.empty()) {
    options += ",upperdir=" + layers.upperDir + ",workdir=" + layers.workDir;
  }
  if (options.size() >= static_cast<size_t>(getpagesize())) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "the overlay options of " + std::to_string(layers.lowerDirs.size()) +
             " layers exceed one page and this kernel lacks the overlay \"lowerdir+\" key "
             "(Linux 6.5)");
  }
  if (mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
    failSyscall("mount overlay on", target);
  }
}

}  // namespace

void mountOverlay(const OverlayLayers& layers, const std::string& target) {
  checkLayers(layers);
  if (mountWithFsconfig(layers, target)) return;
  mountWithOptions(layers, target);
}

void unmountOverlay(const std::string& target) {
  if (umount2(target.c_str(), MNT_DETACH) == 0) return;
  if (errno == EINVAL || errno == ENOENT) return;  // not a mount point, or already gone
  failSyscall("unmount", target);
}

bool isMountPoint(const std::string& path) {
  struct statx self {
  }, parent{};
  if (statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &self) != 0) return false;
  std::string up = path + "/..";
  if (statx(AT_FDCWD, up.c_str(), 0, STATX_MNT_ID, &parent) != 0) return false;
  return self.stx_mnt_id != parent.stx_mnt_id;
}

}  // namespace crio
