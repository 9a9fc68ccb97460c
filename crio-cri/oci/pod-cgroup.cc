#include "crio-cri/oci/pod-cgroup.h"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <set>

#include "crio-cri/oci/container-path.h"

namespace crio::cri::oci {

namespace {

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// True when the cgroup v2 folder `dir` has no controller to enable for its children.
bool distributesNoController(const std::string& dir) {
  std::ifstream in(dir + "/cgroup.controllers");
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return text.find_first_not_of(" \n") == std::string::npos;
}

}  // namespace

std::vector<std::string> podCgroupProcsFiles(const std::string& manager,
                                             const std::string& cgroupParent,
                                             const std::vector<MountInfoEntry>& mounts) {
  if (manager != "cgroupfs" || cgroupParent.empty() || endsWith(cgroupParent, ".slice")) return {};
  std::string parent = cleanContainerPath(cgroupParent, "cgroup_parent");
  if (parent == "/") return {};

  std::vector<std::string> files;
  std::set<std::string> seen;
  for (const auto& mount : mounts) {
    // A bind mount of part of a hierarchy (root other than "/") does not show the whole of it.
    if (mount.root != "/" || (mount.fsType != "cgroup" && mount.fsType != "cgroup2")) continue;
    std::string dir = mount.mountPoint + parent;
    std::string file = dir + "/cgroup.procs";
    if (access(file.c_str(), W_OK) != 0 || !seen.insert(file).second) continue;
    if (mount.fsType == "cgroup2" && !distributesNoController(dir)) continue;
    files.push_back(file);
  }
  return files;
}

}  // namespace crio::cri::oci
