// Finding the CNI network configuration the runtime uses, as CRI-O does: the configuration named
// by [crio.network] cni_default_network, or else the lexically first valid one in network_dir
// (*.conflist, *.conf, *.json). A file that does not parse or lacks the required fields is
// skipped with a reason, so Status can report why the network is not ready.
#pragma once

#include <string>
#include <vector>

namespace crio::cri {

struct CniNetwork {
  std::string file;
  std::string name;
  std::string cniVersion;
  std::string json;  // the configuration list as JSON (a single .conf is wrapped into a list)
};

struct CniDiscovery {
  bool found = false;
  CniNetwork network;
  std::vector<std::string> skipped;  // "FILE: reason" for each file passed over
  std::string reason;                // why none was found
};

// Bound on a configuration file; larger files are skipped.
constexpr size_t MAX_CNI_CONFIG_BYTES = 1 << 20;

CniDiscovery findCniNetwork(const std::string& networkDir, const std::string& wantedName);

// Parses one configuration (list or single plugin); throws INVALID_ARGUMENT with the reason.
CniNetwork parseCniConfig(const std::string& file, const std::string& text);

}  // namespace crio::cri
