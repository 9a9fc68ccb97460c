#include "crio-cri/oci/devices.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <set>

#include "common/error.h"
#include "crio-cri/oci/container-path.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

// Folders of /dev a privileged container does not take from the host: runc mounts its own pts,
// shm and mqueue, and /dev/fd links to the process's own descriptors.
constexpr const char* SKIPPED_HOST_FOLDERS[] = {"pts",  "shm",         "mqueue", "fd",
                                                ".lxc", ".lxd-mounts", ".udev"};

nlohmann::json rule(bool allow, const std::string& type, int64_t major, int64_t minor,
                    const std::string& access) {
  nlohmann::json json = {{"allow", allow}, {"access", access}};
  if (!type.empty()) json["type"] = type;
  if (major >= 0) json["major"] = major;
  if (minor >= 0) json["minor"] = minor;
  return json;
}

nlohmann::json defaultRules() {
  constexpr int64_t ANY = -1;
  return {
      rule(false, "", ANY, ANY, "rwm"), rule(true, "c", ANY, ANY, "m"),
      rule(true, "b", ANY, ANY, "m"),   rule(true, "c", 1, 3, "rwm"),  // null
      rule(true, "c", 1, 5, "rwm"),     rule(true, "c", 1, 7, "rwm"),  // zero, full
      rule(true, "c", 1, 8, "rwm"),     rule(true, "c", 1, 9, "rwm"),  // random, urandom
      rule(true, "c", 5, 0, "rwm"),     rule(true, "c", 5, 2, "rwm"),  // tty, ptmx
      rule(true, "c", 136, ANY, "rwm"),                                // /dev/pts/*
  };
}

void checkPermissions(const std::string& permissions, const std::string& field) {
  bool valid = !permissions.empty() && permissions.size() <= 3 &&
               permissions.find_first_not_of("rwm") == std::string::npos;
  for (char c : permissions) {
    if (std::count(permissions.begin(), permissions.end(), c) > 1) valid = false;
  }
  if (!valid) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         field + " " + quoteValue(permissions) + " is not a combination of r, w and m");
  }
}

class DeviceCollector {
 public:
  DevicesResult result{nlohmann::json::array(), defaultRules()};

  // Adds the node at `hostPath` (links followed) or every node below it when it is a folder.
  void addPath(const std::string& hostPath, const std::string& containerPath,
               const std::string& permissions, const std::string& field) {
    struct stat st {};
    if (stat(hostPath.c_str(), &st) != 0) failSyscall("stat " + field, hostPath);
    if (S_ISDIR(st.st_mode)) {
      addFolder(hostPath, containerPath, permissions, 0, false);
      return;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           field + " " + quoteValue(hostPath) + " is not a device node or a folder");
    }
    addNode(st, containerPath, permissions, true);
  }

  // Adds every node below `folder`. Links are not followed; `skipHostFolders` leaves out the
  // folders runc provides when walking the host's /dev.
  void addFolder(const std::string& folder, const std::string& containerFolder,
                 const std::string& permissions, int depth, bool skipHostFolders) {
    if (depth > MAX_DEVICE_FOLDER_DEPTH) return;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(folder.c_str()), closedir);
    if (!dir) failSyscall("open device folder", folder);
    while (dirent* entry = readdir(dir.get())) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (skipHostFolders && depth == 0 &&
          (name == "console" ||
           std::any_of(std::begin(SKIPPED_HOST_FOLDERS), std::end(SKIPPED_HOST_FOLDERS),
                       [&](const char* skipped) { return name == skipped; }))) {
        continue;
      }
      std::string path = folder + "/" + name;
      std::string containerPath = containerFolder + "/" + name;
      struct stat st {};
      if (lstat(path.c_str(), &st) != 0) continue;  // removed meanwhile
      if (S_ISDIR(st.st_mode)) {
        addFolder(path, containerPath, permissions, depth + 1, skipHostFolders);
      } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        addNode(st, containerPath, permissions, !skipHostFolders);
      }
    }
  }

  void allowAll() { result.cgroupRules = nlohmann::json::array({rule(true, "", -1, -1, "rwm")}); }

 private:
  std::set<std::string> paths_;

  void addNode(const struct stat& st, const std::string& containerPath,
               const std::string& permissions, bool addRule) {
    if (!paths_.insert(containerPath).second) return;  // the first node for a path wins
    if (result.devices.size() >= MAX_DEVICES) {
      fail(ErrorCategory::RESOURCE_EXHAUSTED,
           "more than " + std::to_string(MAX_DEVICES) + " device nodes for one container");
    }
    std::string type = S_ISBLK(st.st_mode) ? "b" : "c";
    int64_t major = ::major(st.st_rdev);
    int64_t minor = ::minor(st.st_rdev);
    result.devices.push_back({{"path", containerPath},
                              {"type", type},
                              {"major", major},
                              {"minor", minor},
                              {"fileMode", st.st_mode & 07777},
                              {"uid", st.st_uid},
                              {"gid", st.st_gid}});
    if (addRule) result.cgroupRules.push_back(rule(true, type, major, minor, permissions));
  }
};

}  // namespace

DevicesResult buildDevices(const DevicesRequest& request) {
  DeviceCollector collector;

  if (request.devices != nullptr) {
    for (int i = 0; i < request.devices->size(); i++) {
      const runtime::v1::Device& device = request.devices->Get(i);
      std::string field = "devices[" + std::to_string(i) + "]";
      if (device.host_path().empty() || device.host_path()[0] != '/') {
        fail(ErrorCategory::INVALID_ARGUMENT,
             field + ".host_path " + quoteValue(device.host_path()) + " is not an absolute path");
      }
      std::string containerPath = cleanContainerPath(
          device.container_path().empty() ? device.host_path() : device.container_path(),
          field + ".container_path");
      std::string permissions = device.permissions().empty() ? "rwm" : device.permissions();
      checkPermissions(permissions, field + ".permissions");
      collector.addPath(device.host_path(), containerPath, permissions, field + ".host_path");
    }
  }

  for (const auto& entry : request.additionalDevices) {
    std::string field = "[crio.runtime] additional_devices entry " + quoteValue(entry);
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t colon = entry.find(':', start);
      parts.push_back(entry.substr(start, colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    if (parts.size() > 3 || parts[0].empty() || parts[0][0] != '/') {
      fail(ErrorCategory::INVALID_ARGUMENT, field + " is not HOST[:CONTAINER[:PERMISSIONS]]");
    }
    std::string containerPath =
        cleanContainerPath(parts.size() > 1 && !parts[1].empty() ? parts[1] : parts[0], field);
    std::string permissions = parts.size() > 2 ? parts[2] : "rwm";
    checkPermissions(permissions, field);
    collector.addPath(parts[0], containerPath, permissions, field);
  }

  if (request.privileged && !request.privilegedWithoutHostDevices) {
    collector.addFolder(request.hostDevices, "/dev", "rwm", 0, true);
    collector.allowAll();
  }
  return collector.result;
}

}  // namespace crio::cri::oci
