// The Linux capabilities of the container's process.
//
// The steps are those of CRI-O and containerd. The set starts from [crio.runtime]
// default_capabilities. "ALL" in add_capabilities adds every capability of the running kernel,
// then "ALL" in drop_capabilities empties the set. Each named capability is then added, and each
// named one dropped, so a name in both lists ends up dropped. "ALL" and the names match in any
// case, with or without the "CAP_" prefix. A privileged container gets every capability of the
// kernel, and the lists are not applied.
//
// "Every capability" means every one the node can grant: a capability missing from the bounding
// set of crio-cri (as started, before it drops its own) cannot reach any container, and runc
// fails with EPERM when the spec lists it. ALL and privileged leave such capabilities out, and
// naming one explicitly is an error that names it.
//
// The bounding, effective and permitted sets are equal. The inheritable and ambient sets are
// empty, as with CRI-O's add_inheritable_capabilities = false. A capability above the kernel's
// cap_last_cap is left out, as runc leaves out capabilities the kernel does not have.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace crio::cri::oci {

// Highest capability number this file can name: CAP_CHECKPOINT_RESTORE (Linux 5.9).
constexpr int LAST_NAMED_CAPABILITY = 40;

// The number of a capability name ("CAP_NET_RAW", "net_raw"); nullopt when unknown.
std::optional<int> capabilityNumber(std::string_view name);

// "CAP_NET_RAW" for 13; number must be 0..LAST_NAMED_CAPABILITY.
std::string capabilityName(int number);

struct CapabilityRequest {
  std::vector<std::string> defaults;  // [crio.runtime] default_capabilities
  std::vector<std::string> add;       // security_context.capabilities.add_capabilities
  std::vector<std::string> drop;      // security_context.capabilities.drop_capabilities
  bool privileged = false;
  int lastCapability = LAST_NAMED_CAPABILITY;  // /proc/sys/kernel/cap_last_cap
  uint64_t grantable = ~uint64_t{0};           // bit N set: capability N can be granted
};

// The resulting capabilities as "CAP_..." names in numeric order. Throws INVALID_ARGUMENT
// naming the list and the value for an unknown name, and FAILED_PRECONDITION for a named
// capability outside `grantable`.
std::vector<std::string> resolveCapabilities(const CapabilityRequest& request);

// The OCI process.capabilities object for a set from resolveCapabilities().
nlohmann::json capabilitiesJson(const std::vector<std::string>& capabilities);

}  // namespace crio::cri::oci
