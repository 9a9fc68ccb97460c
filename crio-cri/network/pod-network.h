// A pod's CNI network: ADD, DEL and CHECK of the configuration list that cni-config.h finds,
// and the NetworkReady condition of Status.
//
// ADD runs every plugin of the list in order, each with the previous plugin's result as
// prevResult, and records the attachment in the CNI cache (cni-cache.h) before the first plugin
// and again with the final result. When a plugin fails, DEL runs for the whole list in reverse
// order, as the spec requires, and the ADD's error is thrown. DEL runs the plugins in reverse order
// with the cached configuration, arguments and result, so it works after a restart of crio-cri
// and after the configuration file changed or was removed. CHECK (spec 0.4.0 and later, unless
// the list sets disableCheck) runs in order with the cached result.
//
// Callers serialize calls for one pod; calls for different pods may run in parallel. Each call
// blocks for as long as its plugins run (up to CNI_PLUGIN_TIMEOUT each), so it belongs on a
// worker thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "crio-cri/network/cni-plugin.h"
#include "crio-cri/network/cni-request.h"
#include "crio-cri/network/cni-result.h"

namespace crio::cri {

struct CniSettings {
  std::string networkDir;      // [crio.network] network_dir
  std::string defaultNetwork;  // [crio.network] cni_default_network; "" takes the first valid
  std::vector<std::string> pluginDirs;  // [crio.network] plugin_dirs
  std::string cacheDir;                 // [crio.suite] state_dir + "/cni-cache"
  std::chrono::milliseconds pluginTimeout = CNI_PLUGIN_TIMEOUT;

  static CniSettings fromConfig(const Config& config);
};

struct PodNetworkStatus {
  std::string network;           // the network's name
  std::vector<std::string> ips;  // the pod's addresses on its interface, first = primary
  CniResult result;              // the final result of the ADD
  std::string resultJson;
};

// Adds the pod to the network. request.netnsPath must be a pinned network namespace. Throws
// FAILED_PRECONDITION when no valid configuration exists, a plugin binary is missing or the
// namespace is not pinned; ALREADY_EXISTS when the pod has a finished attachment; otherwise
// the first plugin error (see runCniPlugin), with the network and pod as context.
PodNetworkStatus setUpPodNetwork(const CniSettings& settings, const PodNetworkRequest& request);

// Removes the pod from every network it has a cache entry for. When there is none, no ADD ran,
// and a DEL with the current configuration (without prevResult) is tried, but its failure is
// only logged. CNI_NETNS is left empty when request.netnsPath is no longer a pinned namespace
// (after a reboot), which plugins accept on DEL. A cache entry is removed only after every
// plugin succeeded, so a failed DEL can be retried.
void tearDownPodNetwork(const CniSettings& settings, const PodNetworkRequest& request);

// Runs CHECK with the cached attachment. Succeeds without running anything for versions before
// 0.4.0 and for lists with disableCheck. Throws FAILED_PRECONDITION when the pod has no
// finished attachment or its namespace is gone, or the first plugin error.
void checkPodNetwork(const CniSettings& settings, const PodNetworkRequest& request);

// The pod's attachment as recorded in the cache, for PodSandboxStatus after a restart. nullopt
// when the pod has no finished attachment.
std::optional<PodNetworkStatus> cachedPodNetwork(const CniSettings& settings,
                                                 const std::string& podId);

// Status's NetworkReady condition.
struct NetworkReadiness {
  bool ready = false;
  std::string reason;   // "NetworkPluginNotReady" when not ready
  std::string message;  // what is missing: no configuration, an unsupported version, a plugin
  std::string network;  // name and file of the configuration in use, when one was found
  std::string configFile;
};

// Ready when a valid configuration list exists, its version is supported, and every plugin it
// names (each `type` and `ipam.type`) is an executable in the plugin dirs.
NetworkReadiness checkNetworkReadiness(const CniSettings& settings);

}  // namespace crio::cri
