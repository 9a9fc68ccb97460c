#include "crio-cri/oci/namespaces.h"

#include "common/error.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

using runtime::v1::NamespaceMode;

nlohmann::json entry(const std::string& type, const std::string& path) {
  nlohmann::json json = {{"type", type}};
  if (!path.empty()) {
    if (path[0] != '/') {
      fail(ErrorCategory::INTERNAL,
           "pinned " + type + " namespace path " + quoteValue(path) + " is not absolute");
    }
    json["path"] = path;
  }
  return json;
}

void checkUserNamespace(const runtime::v1::NamespaceOption* options, const std::string& field) {
  if (options == nullptr || !options->has_userns_options()) return;
  const auto& userns = options->userns_options();
  if (userns.mode() != runtime::v1::NODE || userns.uids_size() > 0 || userns.gids_size() > 0) {
    fail(ErrorCategory::UNIMPLEMENTED,
         field + ".userns_options: user namespaces are not supported by this runtime");
  }
}

}  // namespace

NamespacesResult buildNamespaces(const runtime::v1::NamespaceOption* pod,
                                 const runtime::v1::NamespaceOption* container,
                                 const PodNamespacePaths& paths, bool cgroupV2, bool privileged) {
  checkUserNamespace(pod, "pod namespace_options");
  checkUserNamespace(container, "container namespace_options");

  NamespaceMode network = pod != nullptr ? pod->network() : runtime::v1::POD;
  NamespaceMode ipc = pod != nullptr ? pod->ipc() : runtime::v1::POD;
  NamespaceMode pid = container != nullptr ? container->pid()
                      : pod != nullptr     ? pod->pid()
                                           : runtime::v1::POD;

  NamespacesResult result;
  result.hostNetwork = network == runtime::v1::NODE;
  result.hostIpc = ipc == runtime::v1::NODE;
  result.hostPid = pid == runtime::v1::NODE;
  result.hostUts = result.hostNetwork;

  if (network == runtime::v1::CONTAINER || network == runtime::v1::TARGET ||
      ipc == runtime::v1::CONTAINER || ipc == runtime::v1::TARGET) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "namespace_options: network and ipc take only the modes POD or NODE");
  }

  if (!result.hostNetwork) {
    result.namespaces.push_back(entry("network", paths.network));
    result.namespaces.push_back(entry("uts", paths.uts));
  }
  if (!result.hostIpc) result.namespaces.push_back(entry("ipc", paths.ipc));

  switch (pid) {
    case runtime::v1::NODE:
      break;
    case runtime::v1::POD:
      result.namespaces.push_back(entry("pid", paths.pid));
      break;
    case runtime::v1::CONTAINER:
      result.namespaces.push_back(entry("pid", ""));
      break;
    case runtime::v1::TARGET:
      if (paths.targetPid.empty()) {
        fail(ErrorCategory::FAILED_PRECONDITION,
             "namespace_options.target_id: the PID namespace of the target container is not "
             "known");
      }
      result.namespaces.push_back(entry("pid", paths.targetPid));
      break;
    default:
      fail(ErrorCategory::INVALID_ARGUMENT,
           "namespace_options.pid " + std::to_string(pid) + " is not a known NamespaceMode");
  }

  result.namespaces.push_back(entry("mount", ""));
  if (cgroupV2 && !privileged) result.namespaces.push_back(entry("cgroup", ""));
  return result;
}

}  // namespace crio::cri::oci
