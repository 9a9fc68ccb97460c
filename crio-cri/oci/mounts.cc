#include "crio-cri/oci/mounts.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>

#include "common/error.h"
#include "crio-cri/oci/container-path.h"
#include "crio-cri/oci/mount-info.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

using runtime::v1::MountPropagation;

// Options a request's mount_options may add to a bind mount: per-mount flags that only take
// rights away or change time stamps. "ro"/"rw" come from readonly, propagation from propagation.
constexpr const char* ALLOWED_MOUNT_OPTIONS[] = {
    "nosuid", "suid",     "nodev",      "dev",         "noexec",        "exec",       "noatime",
    "atime",  "relatime", "norelatime", "strictatime", "nostrictatime", "nodiratime", "diratime",
};

nlohmann::json mount(const std::string& destination, const std::string& type,
                     const std::string& source, std::vector<std::string> options) {
  return {{"destination", destination}, {"type", type}, {"source", source}, {"options", options}};
}

// The standard mounts, in the order runc's example spec lists them.
std::vector<nlohmann::json> standardMounts(const MountsRequest& request) {
  std::string sysAccess = request.privileged ? "rw" : "ro";
  std::vector<nlohmann::json> mounts = {
      mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      mount("/dev/pts", "devpts", "devpts",
            {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", sysAccess}),
      mount("/sys/fs/cgroup", "cgroup", "cgroup",
            {"nosuid", "noexec", "nodev", "relatime", sysAccess}),
  };

  if (!request.podFiles.shm.empty()) {
    mounts.push_back(
        mount("/dev/shm", "bind", request.podFiles.shm, {"rbind", "nosuid", "noexec", "nodev"}));
  } else {
    // 64 MiB, the size kubelet, CRI-O and containerd give a pod's /dev/shm.
    mounts.push_back(mount("/dev/shm", "tmpfs", "shm",
                           {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  }

  std::string fileAccess = request.readonlyRootfs ? "ro" : "rw";
  auto podFile = [&](const std::string& destination, const std::string& source) {
    if (!source.empty()) {
      mounts.push_back(
          mount(destination, "bind", source, {"bind", "nodev", "nosuid", "noexec", fileAccess}));
    }
  };
  podFile("/etc/resolv.conf", request.podFiles.resolvConf);
  podFile("/etc/hostname", request.podFiles.hostname);
  podFile("/etc/hosts", request.podFiles.hosts);

  if (request.readOnlyTmpfs) {
    // "tmpcopyup" copies what the image has at that path into the new tmpfs (runc and crun).
    for (const char* destination : {"/run", "/tmp", "/var/tmp"}) {
      mounts.push_back(
          mount(destination, "tmpfs", "tmpfs", {"rw", "noexec", "nosuid", "nodev", "tmpcopyup"}));
    }
  }
  return mounts;
}

// Creates `path` and its missing parents with mode 0755 whatever the daemon's umask, so that a
// container running as any user can use a folder made for it.
void makeHostDirectories(const std::string& path, const std::string& field) {
  size_t position = 0;
  while (position != std::string::npos) {
    position = path.find('/', position + 1);
    std::string prefix = path.substr(0, position);
    if (mkdir(prefix.c_str(), 0755) == 0) {
      if (chmod(prefix.c_str(), 0755) != 0) failSyscall("chmod " + field, prefix);
    } else if (errno != EEXIST) {
      failSyscall("create missing " + field, prefix);
    }
  }
}

// Resolves host_path to the path the bind mount will use, creating a missing folder.
std::string prepareHostPath(const std::string& hostPath, const std::string& field) {
  if (hostPath.empty()) fail(ErrorCategory::INVALID_ARGUMENT, field + " is empty");
  if (hostPath[0] != '/') {
    fail(ErrorCategory::INVALID_ARGUMENT,
         field + " " + quoteValue(hostPath) + " is not an absolute path");
  }
  if (hostPath.find('\0') != std::string::npos) {
    fail(ErrorCategory::INVALID_ARGUMENT, field + " " + quoteValue(hostPath) + " contains a NUL");
  }

  struct stat st {};
  if (stat(hostPath.c_str(), &st) != 0) {
    if (errno != ENOENT) failSyscall("stat " + field, hostPath);
    makeHostDirectories(hostPath, field);
  }

  char resolved[PATH_MAX];
  if (realpath(hostPath.c_str(), resolved) == nullptr) failSyscall("resolve " + field, hostPath);
  return resolved;
}

class PropagationChecker {
 public:
  explicit PropagationChecker(std::string mountInfoPath) : path_(std::move(mountInfoPath)) {}

  void require(const std::string& hostPath, bool needShared, const std::string& field) {
    if (!table_) table_ = readMountInfo(path_);
    const MountInfoEntry* entry = findContainingMount(*table_, hostPath);
    if (entry == nullptr) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           field + ": no mount in " + path_ + " contains " + hostPath);
    }
    bool ok = needShared ? entry->isShared() : entry->isShared() || entry->isSlave();
    if (!ok) {
      // A shared mount suits both propagations, so the advice is the same for both.
      std::string expected = needShared ? "shared" : "shared or a slave";
      fail(ErrorCategory::FAILED_PRECONDITION,
           field + ": " + hostPath + " is on the mount " + entry->mountPoint + ", which is not " +
               expected + " as the requested propagation needs. Make it shared on the node, " +
               "for example with `mount --make-shared " + entry->mountPoint + "`");
    }
  }

 private:
  std::string path_;
  std::optional<std::vector<MountInfoEntry>> table_;
};

struct RequestMounts {
  std::vector<nlohmann::json> mounts;
  bool anyShared = false;
  bool anySlave = false;
};

RequestMounts requestMounts(const MountsRequest& request) {
  RequestMounts result;
  if (request.mounts == nullptr) return result;
  if (static_cast<size_t>(request.mounts->size()) > MAX_REQUEST_MOUNTS) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "the request has " + std::to_string(request.mounts->size()) +
             " mounts, more than the bound of " + std::to_string(MAX_REQUEST_MOUNTS));
  }

  PropagationChecker checker(request.mountInfoPath);
  std::map<std::string, int> destinations;
  for (int i = 0; i < request.mounts->size(); i++) {
    const runtime::v1::Mount& m = request.mounts->Get(i);
    std::string field = "mounts[" + std::to_string(i) + "]";

    std::string destination = cleanContainerPath(m.container_path(), field + ".container_path");
    if (destination == "/") {
      fail(ErrorCategory::INVALID_ARGUMENT, field + ".container_path must not be \"/\"");
    }
    auto [previous, inserted] = destinations.emplace(destination, i);
    if (!inserted) {
      fail(ErrorCategory::INVALID_ARGUMENT, field + ".container_path " + quoteValue(destination) +
                                                " is also the destination of "
                                                "mounts[" +
                                                std::to_string(previous->second) + "]");
    }

    if (m.has_image() && !m.image().image().empty()) {
      fail(ErrorCategory::UNIMPLEMENTED, field + ".image: image volumes are not supported");
    }
    if (m.uidmappings_size() > 0 || m.gidmappings_size() > 0) {
      fail(ErrorCategory::UNIMPLEMENTED,
           field + ": idmapped mounts (uidMappings, gidMappings) are not supported");
    }
    if (m.recursive_read_only()) {
      if (!m.readonly()) {
        fail(ErrorCategory::INVALID_ARGUMENT, field + ".recursive_read_only needs readonly");
      }
      if (m.propagation() != runtime::v1::PROPAGATION_PRIVATE) {
        fail(ErrorCategory::INVALID_ARGUMENT,
             field + ".recursive_read_only needs propagation PROPAGATION_PRIVATE");
      }
      fail(ErrorCategory::UNIMPLEMENTED,
           field + ".recursive_read_only: recursive read-only mounts are not supported");
    }

    std::string source = prepareHostPath(m.host_path(), field + ".host_path");

    std::string propagation;
    switch (m.propagation()) {
      case runtime::v1::PROPAGATION_PRIVATE:
        propagation = "rprivate";
        break;
      case runtime::v1::PROPAGATION_HOST_TO_CONTAINER:
        propagation = "rslave";
        checker.require(source, false, field);
        result.anySlave = true;
        break;
      case runtime::v1::PROPAGATION_BIDIRECTIONAL:
        propagation = "rshared";
        checker.require(source, true, field);
        result.anyShared = true;
        break;
      default:
        fail(ErrorCategory::INVALID_ARGUMENT, field + ".propagation " +
                                                  std::to_string(m.propagation()) +
                                                  " is not a known MountPropagation");
    }

    std::vector<std::string> options = {"rbind", propagation, m.readonly() ? "ro" : "rw"};
    for (int j = 0; j < m.mount_options_size(); j++) {
      const std::string& option = m.mount_options(j);
      bool allowed = std::any_of(std::begin(ALLOWED_MOUNT_OPTIONS), std::end(ALLOWED_MOUNT_OPTIONS),
                                 [&](const char* known) { return option == known; });
      if (!allowed) {
        fail(ErrorCategory::INVALID_ARGUMENT,
             field + ".mount_options: " + quoteValue(option) + " is not an allowed option");
      }
      if (std::find(options.begin(), options.end(), option) == options.end()) {
        options.push_back(option);
      }
    }
    result.mounts.push_back(mount(destination, "bind", source, options));
  }
  return result;
}

std::vector<nlohmann::json> imageVolumeMounts(const MountsRequest& request,
                                              const std::vector<nlohmann::json>& requested) {
  std::vector<nlohmann::json> mounts;
  if (request.imageVolumesMode == "ignore" || request.imageVolumes.empty()) return mounts;
  if (request.imageVolumes.size() > MAX_IMAGE_VOLUMES) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "the image has " + std::to_string(request.imageVolumes.size()) +
             " volumes, more than the bound of " + std::to_string(MAX_IMAGE_VOLUMES));
  }

  for (size_t i = 0; i < request.imageVolumes.size(); i++) {
    std::string destination = cleanContainerPath(request.imageVolumes[i], "image config Volumes");
    bool replaced = std::any_of(requested.begin(), requested.end(), [&](const nlohmann::json& m) {
      return m["destination"] == destination;
    });
    if (replaced || destination == "/") continue;

    if (request.imageVolumesMode == "mkdir") {
      if (request.rootfs == nullptr) {
        fail(ErrorCategory::INTERNAL, "image_volumes = mkdir needs the root filesystem");
      }
      request.rootfs->makeDirectories(destination, request.uid, request.gid);
    } else if (request.imageVolumesMode == "bind") {
      if (request.containerDir.empty()) {
        fail(ErrorCategory::INTERNAL, "image_volumes = bind needs the container's folder");
      }
      std::string source = request.containerDir + "/volumes/" + std::to_string(i);
      makeHostDirectories(source, "image volume folder");
      mounts.push_back(mount(destination, "bind", source, {"rbind", "rprivate", "rw"}));
    } else {
      fail(ErrorCategory::INVALID_ARGUMENT, "[crio.image] image_volumes " +
                                                quoteValue(request.imageVolumesMode) +
                                                " is not mkdir, bind or ignore");
    }
  }
  return mounts;
}

}  // namespace

MountsResult buildMounts(const MountsRequest& request) {
  RequestMounts requested = requestMounts(request);
  std::vector<nlohmann::json> volumes = imageVolumeMounts(request, requested.mounts);

  std::vector<nlohmann::json> all;
  for (auto& standard : standardMounts(request)) {
    bool replaced = std::any_of(
        requested.mounts.begin(), requested.mounts.end(),
        [&](const nlohmann::json& m) { return m["destination"] == standard["destination"]; });
    if (!replaced) all.push_back(std::move(standard));
  }
  all.insert(all.end(), volumes.begin(), volumes.end());
  all.insert(all.end(), requested.mounts.begin(), requested.mounts.end());

  // Parents first: runc mounts in list order, and a mount at /a/b made before /a would be hidden
  // by it. The sort is stable, so the order above stays among mounts of the same depth.
  std::stable_sort(all.begin(), all.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return pathDepth(a["destination"].get<std::string>()) <
           pathDepth(b["destination"].get<std::string>());
  });

  MountsResult result;
  result.mounts = all;
  if (requested.anyShared) {
    result.rootfsPropagation = "rshared";
  } else if (requested.anySlave) {
    result.rootfsPropagation = "rslave";
  }
  return result;
}

}  // namespace crio::cri::oci
