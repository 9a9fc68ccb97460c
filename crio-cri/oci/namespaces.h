// The Linux namespaces of the container (linux.namespaces).
//
// The network and IPC modes come from the pod's namespace options, the PID mode from the
// container's (the pod's when the container has none), as CRI-O reads them:
//   - NODE: no entry, so the container shares the host's namespace;
//   - POD: the pod's pinned namespace file, or a new namespace when the pod has none pinned;
//   - CONTAINER (PID only): a new namespace;
//   - TARGET (PID only): the namespace of the target container, which the caller resolves.
// UTS follows the network: a pod in the host's network namespace has the host's hostname, else
// the pod's UTS namespace. The mount namespace is always new. The cgroup namespace is new for an
// unprivileged container on a cgroup v2 host, as CRI-O makes it. User namespaces are not
// supported: a request for one fails with UNIMPLEMENTED.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cri/api.pb.h"

namespace crio::cri::oci {

// The pod's pinned namespace files (bind mounts of /proc/PID/ns/*); "" where the pod has none.
struct PodNamespacePaths {
  std::string network;
  std::string ipc;
  std::string uts;
  std::string pid;        // the pod's shared PID namespace, for PID mode POD
  std::string targetPid;  // the target container's PID namespace, for PID mode TARGET
};

struct NamespacesResult {
  nlohmann::json namespaces = nlohmann::json::array();
  bool hostNetwork = false;
  bool hostIpc = false;
  bool hostPid = false;
  bool hostUts = false;
};

// `pod` and `container` may be nullptr when the request has no namespace options.
NamespacesResult buildNamespaces(const runtime::v1::NamespaceOption* pod,
                                 const runtime::v1::NamespaceOption* container,
                                 const PodNamespacePaths& paths, bool cgroupV2, bool privileged);

}  // namespace crio::cri::oci
