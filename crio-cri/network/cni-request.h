// The inputs crio-cri passes to CNI plugins for one pod: the attachment parameters, CNI_ARGS, the
// capability arguments (runtimeConfig) and the configuration each plugin reads on stdin.
//
// CNI_ARGS carries the pod's Kubernetes identity as kubelet-era plugins expect it:
//   IgnoreUnknown=1;K8S_POD_NAMESPACE=NS;K8S_POD_NAME=NAME;K8S_POD_INFRA_CONTAINER_ID=ID;
//   K8S_POD_UID=UID
// Capability arguments follow the CNI conventions (CONVENTIONS.md of containernetworking/cni):
// portMappings, bandwidth, ipRanges and dns, each inserted into `runtimeConfig` only for a
// plugin whose configuration lists the capability in `capabilities`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crio::cri {

// Bounds on pod metadata and capability arguments, which come from the kubelet.
constexpr size_t MAX_CNI_ARG_VALUE_LENGTH = 253;  // a Kubernetes DNS subdomain name
constexpr size_t MAX_POD_PORT_MAPPINGS = 1024;
constexpr size_t MAX_CNI_DNS_ENTRIES = 64;

enum class PortProtocol { TCP, UDP, SCTP };

// One CRI PortMapping (runtime.v1.PortMapping), in the project's own type.
struct PodPortMapping {
  PortProtocol protocol = PortProtocol::TCP;
  int32_t containerPort = 0;
  int32_t hostPort = 0;  // 0: no host port, so nothing for the portmap plugin to do
  std::string hostIp;    // "" means every host address
};

// An entry of the portMappings capability.
struct CniPortMapping {
  int32_t hostPort = 0;
  int32_t containerPort = 0;
  std::string protocol;  // "tcp", "udp" or "sctp"
  std::string hostIp;
};

// The bandwidth capability: rates in bits per second, bursts in bits (CNI conventions).
struct CniBandwidth {
  uint64_t ingressRate = 0;
  uint64_t ingressBurst = 0;
  uint64_t egressRate = 0;
  uint64_t egressBurst = 0;
};

// One range of the ipRanges capability (host-local's "ranges" entry).
struct CniIpRange {
  std::string subnet;
  std::string rangeStart;
  std::string rangeEnd;
  std::string gateway;
};

// The dns capability.
struct CniDnsCapability {
  std::vector<std::string> servers;
  std::vector<std::string> searches;
  std::vector<std::string> options;
};

// The attachment of one pod to the network.
struct PodNetworkRequest {
  std::string podId;  // CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID
  std::string netnsPath;
  std::string ifName = "eth0";
  std::string podName;
  std::string podNamespace;
  std::string podUid;
  std::vector<PodPortMapping> portMappings;
  std::optional<CniBandwidth> bandwidth;
  std::vector<std::vector<CniIpRange>> ipRanges;  // one inner list per address to allocate
  std::optional<CniDnsCapability> dns;
};

// Translates CRI port mappings for the portmap plugin: mappings without a host port are dropped,
// the protocol becomes lowercase. Throws INVALID_ARGUMENT for a port outside 1..65535, an
// invalid host IP, or more than MAX_POD_PORT_MAPPINGS entries.
std::vector<CniPortMapping> translatePortMappings(const std::vector<PodPortMapping>& mappings);

// Composes CNI_ARGS (format above). Throws INVALID_ARGUMENT for a value that is longer than
// MAX_CNI_ARG_VALUE_LENGTH or contains ';', '=' or a control character.
std::string composeCniArgs(const PodNetworkRequest& request);

// The capability arguments this runtime can supply for the request, by capability name. Empty
// capabilities are left out, so a plugin is not handed an empty portMappings list.
nlohmann::json capabilityArgs(const PodNetworkRequest& request);

// Derives the configuration one plugin reads on stdin (spec 1.0.0 section 3): the plugin's
// object with `cniVersion` and `name` of the list, `runtimeConfig` holding the capability
// arguments the plugin declares, `prevResult` when given (not null), and `capabilities`
// removed. Every other field passes through unchanged.
nlohmann::json derivePluginConfig(const nlohmann::json& plugin, const std::string& networkName,
                                  const std::string& cniVersion, const nlohmann::json& capabilities,
                                  const nlohmann::json& prevResult);

}  // namespace crio::cri
