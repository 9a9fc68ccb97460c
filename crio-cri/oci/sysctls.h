// Kernel parameters set in the container's namespaces (linux.sysctl).
//
// Only parameters that belong to a namespace the container has may be set, because runc writes
// them from inside the container, and a parameter of a shared namespace would change it for the
// host: the network namespace owns net.*, the IPC namespace owns kernel.shm*, kernel.msg*,
// kernel.sem and fs.mqueue.*, the UTS namespace kernel.hostname and kernel.domainname. A pod in
// the host's network namespace cannot set net.*, nor the UTS ones, because such a pod also has
// the host's UTS namespace. A pod in the host's IPC namespace cannot set the IPC ones. kubelet
// validates the same, and runc checks it. Other names are rejected. The same names are accepted at
// RunPodSandbox (common/namespace-pinning.h), so a sysctl the pod accepted does not fail its
// containers.
//
// The pod's sysctls override [crio.runtime] default_sysctls ("name=value") by name. A default
// that does not apply to a pod's namespaces is skipped rather than failing every such pod.
// Names may use "/" as the separator (kubelet's form, "net/ipv4/ip_forward"); they are
// converted to the dotted form runc expects.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <google/protobuf/map.h>
#include <nlohmann/json.hpp>

namespace crio::cri::oci {

constexpr size_t MAX_SYSCTLS = 256;
constexpr size_t MAX_SYSCTL_NAME_BYTES = 256;
constexpr size_t MAX_SYSCTL_VALUE_BYTES = 4096;

struct SysctlRequest {
  const google::protobuf::Map<std::string, std::string>* podSysctls = nullptr;
  std::vector<std::string> defaults;  // [crio.runtime] default_sysctls
  bool hostNetwork = false;
  bool hostIpc = false;
};

// The linux.sysctl object. Throws INVALID_ARGUMENT naming the sysctl and the reason.
nlohmann::json buildSysctls(const SysctlRequest& request);

}  // namespace crio::cri::oci
