#include "crio-cri/network/pod-network.h"

#include "common/error.h"
#include "common/log.h"
#include "common/namespace-pinning.h"
#include "crio-cri/network/cni-cache.h"
#include "crio-cri/network/cni-config.h"

namespace crio::cri {

namespace {

using nlohmann::json;

// Bound on the plugins of one list, so a configuration cannot make one call run without end.
constexpr size_t MAX_PLUGINS_PER_NETWORK = 32;

// A configuration list ready to run: each plugin's object with its binary's path.
struct PreparedList {
  std::string name;
  std::string cniVersion;
  CniVersion version;
  std::vector<json> plugins;
  std::vector<std::string> types;
  std::vector<std::string> paths;
};

// Checks a list (from a file or the cache) and finds every plugin binary. Throws
// INVALID_ARGUMENT for a bad list, FAILED_PRECONDITION for a missing plugin.
PreparedList prepareList(const json& list, const std::vector<std::string>& pluginDirs) {
  PreparedList prepared;
  if (!list.is_object() || !list.contains("name") || !list["name"].is_string() ||
      !list.contains("cniVersion") || !list["cniVersion"].is_string()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "the CNI configuration list has no name or cniVersion");
  }
  prepared.name = list["name"].get<std::string>();
  prepared.cniVersion = list["cniVersion"].get<std::string>();
  validateNetworkName(prepared.name);
  prepared.version = requireSupportedCniVersion(prepared.cniVersion);

  auto plugins = list.find("plugins");
  if (plugins == list.end() || !plugins->is_array() || plugins->empty() ||
      plugins->size() > MAX_PLUGINS_PER_NETWORK) {
    fail(ErrorCategory::INVALID_ARGUMENT, "the CNI configuration list must have 1 to " +
                                              std::to_string(MAX_PLUGINS_PER_NETWORK) + " plugins");
  }
  for (const auto& plugin : *plugins) {
    if (!plugin.is_object() || !plugin.contains("type") || !plugin["type"].is_string()) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "a plugin of network " + prepared.name + " has no type");
    }
    std::string type = plugin["type"].get<std::string>();
    prepared.paths.push_back(findCniPlugin(type, pluginDirs));
    prepared.types.push_back(type);
    prepared.plugins.push_back(plugin);
  }
  return prepared;
}

// Runs `command` for every plugin: in list order, or in reverse for DEL. For ADD each plugin
// gets the previous one's result and the last result is returned; otherwise every plugin gets
// `prevResult`. Stops at the first error, as the spec requires.
json runList(const std::string& command, const PreparedList& list, const CniInvocation& base,
             const json& capabilities, const json& prevResult) {
  bool add = command == "ADD";
  bool reverse = command == "DEL";
  json previous = add ? json() : prevResult;
  size_t count = list.plugins.size();
  for (size_t step = 0; step < count; ++step) {
    size_t i = reverse ? count - 1 - step : step;
    json config =
        derivePluginConfig(list.plugins[i], list.name, list.cniVersion, capabilities, previous);
    CniInvocation invocation = base;
    invocation.command = command;
    std::string output = runCniPlugin(list.types[i], list.paths[i], invocation, config.dump());
    if (!add) continue;

    withContext("CNI plugin " + list.types[i] + " ADD",
                [&]() { return parseCniResult(output, list.cniVersion); });
    previous = json::parse(output);
  }
  return previous;
}

CniInvocation baseInvocation(const CniSettings& settings, const CniCacheEntry& entry,
                             const std::string& netns) {
  CniInvocation invocation;
  invocation.containerId = entry.containerId;
  invocation.netns = netns;
  invocation.ifName = entry.ifName;
  invocation.args = entry.cniArgs;
  invocation.pluginDirs = settings.pluginDirs;
  invocation.timeout = settings.pluginTimeout;
  return invocation;
}

// The netns for DEL: the pin if it still is one, else "" (the spec's "not provided").
std::string netnsForDelete(const PodNetworkRequest& request, const CniCacheEntry& entry) {
  std::string path = request.netnsPath.empty() ? entry.netns : request.netnsPath;
  if (!path.empty() && isNamespacePinned(path, NamespaceKind::NET)) return path;
  return "";
}

void deleteAttachment(const CniSettings& settings, const PodNetworkRequest& request,
                      const CniCacheEntry& entry) {
  withContext("remove pod " + entry.containerId + " from CNI network " + entry.network, [&]() {
    PreparedList list = prepareList(entry.config, settings.pluginDirs);
    std::string netns = netnsForDelete(request, entry);
    // prevResult on DEL exists from spec 0.4.0 on.
    json prevResult = list.version >= CNI_VERSION_CHECK ? entry.result : json();
    runList("DEL", list, baseInvocation(settings, entry, netns), entry.capabilityArgs, prevResult);
    removeCniCache(settings.cacheDir, entry.network, entry.containerId);
    log::info("Removed pod from CNI network", {{"pod", entry.containerId},
                                               {"network", entry.network},
                                               {"netns", netns.empty() ? "(gone)" : netns}});
    return 0;
  });
}

PodNetworkStatus statusFromResult(const std::string& network, const std::string& ifName,
                                  const std::string& cniVersion, const json& result) {
  PodNetworkStatus status;
  status.network = network;
  status.resultJson = result.dump();
  status.result = parseCniResult(status.resultJson, cniVersion);
  status.ips = podIps(status.result, ifName);
  return status;
}

bool checkDisabled(const json& list) {
  auto it = list.find("disableCheck");
  if (it == list.end()) return false;
  // Spec 0.4.0 called it a string, 1.0.0 a boolean.
  return (it->is_boolean() && it->get<bool>()) || (it->is_string() && *it == "true");
}

}  // namespace

CniSettings CniSettings::fromConfig(const Config& config) {
  CniSettings settings;
  settings.networkDir = config.networkDir;
  settings.defaultNetwork = config.cniDefaultNetwork;
  settings.pluginDirs = config.pluginDirs;
  settings.cacheDir = config.stateDir + "/cni-cache";
  return settings;
}

PodNetworkStatus setUpPodNetwork(const CniSettings& settings, const PodNetworkRequest& request) {
  validatePodId(request.podId);
  CniDiscovery discovery = findCniNetwork(settings.networkDir, settings.defaultNetwork);
  if (!discovery.found) {
    fail(ErrorCategory::FAILED_PRECONDITION, "no CNI network configuration: " + discovery.reason);
  }
  std::string context = "add pod " + request.podId + " to CNI network " + discovery.network.name;
  return withContext(context, [&]() {
    json config = json::parse(discovery.network.json);
    PreparedList list = prepareList(config, settings.pluginDirs);
    if (!isNamespacePinned(request.netnsPath, NamespaceKind::NET)) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           "\"" + request.netnsPath + "\" is not a pinned network namespace");
    }

    CniCacheEntry entry;
    entry.network = list.name;
    entry.cniVersion = list.cniVersion;
    entry.configFile = discovery.network.file;
    entry.config = config;
    entry.containerId = request.podId;
    entry.ifName = request.ifName;
    entry.netns = request.netnsPath;
    entry.cniArgs = composeCniArgs(request);
    entry.capabilityArgs = capabilityArgs(request);

    if (auto earlier = readCniCache(settings.cacheDir, list.name, request.podId)) {
      if (!earlier->result.is_null()) {
        fail(ErrorCategory::ALREADY_EXISTS, "the pod is already attached; remove it first");
      }
      // An ADD interrupted by a crash: undo what it may have done before starting again.
      log::warn("Removing an interrupted CNI attachment before adding again",
                {{"pod", request.podId}, {"network", list.name}});
      deleteAttachment(settings, request, *earlier);
    }
    writeCniCache(settings.cacheDir, entry);

    auto started = std::chrono::steady_clock::now();
    CniInvocation invocation = baseInvocation(settings, entry, request.netnsPath);
    json result;
    try {
      result = runList("ADD", list, invocation, entry.capabilityArgs, json());
    } catch (const std::exception&) {
      try {
        runList("DEL", list, invocation, entry.capabilityArgs, json());
        removeCniCache(settings.cacheDir, entry.network, entry.containerId);
      } catch (const std::exception& deleteError) {
        log::warn("CNI DEL after a failed ADD failed; the cache entry stays for a later DEL",
                  {{"pod", request.podId}, {"network", list.name}, {"error", deleteError.what()}});
      }
      throw;
    }

    entry.result = result;
    writeCniCache(settings.cacheDir, entry);
    PodNetworkStatus status = statusFromResult(list.name, request.ifName, list.cniVersion, result);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
    std::string ips;
    for (const auto& ip : status.ips)
      ips += (ips.empty() ? "" : ",") + ip;
    if (status.ips.empty()) {
      log::warn("CNI result has no address for the pod's interface",
                {{"pod", request.podId}, {"network", list.name}, {"interface", request.ifName}});
    }
    log::info("Added pod to CNI network",
              {{"pod", request.podId}, {"network", list.name}, {"ips", ips}, {"ms", ms}});
    return status;
  });
}

void tearDownPodNetwork(const CniSettings& settings, const PodNetworkRequest& request) {
  std::vector<CniCacheEntry> entries = findCniCache(settings.cacheDir, request.podId);
  if (entries.empty()) {
    CniDiscovery discovery = findCniNetwork(settings.networkDir, settings.defaultNetwork);
    if (!discovery.found) {
      log::info("No CNI attachment recorded and no configuration; nothing to remove",
                {{"pod", request.podId}});
      return;
    }
    CniCacheEntry entry;
    entry.config = json::parse(discovery.network.json);
    entry.network = discovery.network.name;
    entry.cniVersion = discovery.network.cniVersion;
    entry.configFile = discovery.network.file;
    entry.containerId = request.podId;
    entry.ifName = request.ifName;
    entry.netns = request.netnsPath;
    entry.cniArgs = composeCniArgs(request);
    entry.capabilityArgs = capabilityArgs(request);
    // The cache entry is written before any plugin runs, so without one no ADD ran for this pod:
    // this DEL is only hygiene, and a failure (such as a plugin missing from the current
    // configuration) must not keep the pod from being removed.
    try {
      deleteAttachment(settings, request, entry);
    } catch (const std::exception& e) {
      log::warn("CNI DEL without a recorded attachment failed; ignored because no ADD ran",
                {{"pod", request.podId}, {"network", entry.network}, {"error", e.what()}});
    }
    return;
  }
  for (const auto& entry : entries)
    deleteAttachment(settings, request, entry);
}

void checkPodNetwork(const CniSettings& settings, const PodNetworkRequest& request) {
  std::vector<CniCacheEntry> entries = findCniCache(settings.cacheDir, request.podId);
  if (entries.empty()) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "pod " + request.podId + " has no recorded CNI attachment to check");
  }
  for (const auto& entry : entries) {
    withContext("check pod " + entry.containerId + " in CNI network " + entry.network, [&]() {
      PreparedList list = prepareList(entry.config, settings.pluginDirs);
      if (list.version < CNI_VERSION_CHECK || checkDisabled(entry.config)) return 0;
      if (entry.result.is_null()) {
        fail(ErrorCategory::FAILED_PRECONDITION, "the ADD did not finish");
      }
      std::string netns = request.netnsPath.empty() ? entry.netns : request.netnsPath;
      if (!isNamespacePinned(netns, NamespaceKind::NET)) {
        fail(ErrorCategory::FAILED_PRECONDITION, "network namespace " + netns + " is gone");
      }
      runList("CHECK", list, baseInvocation(settings, entry, netns), entry.capabilityArgs,
              entry.result);
      return 0;
    });
  }
}

std::optional<PodNetworkStatus> cachedPodNetwork(const CniSettings& settings,
                                                 const std::string& podId) {
  for (const auto& entry : findCniCache(settings.cacheDir, podId)) {
    if (entry.result.is_null()) continue;
    return statusFromResult(entry.network, entry.ifName, entry.cniVersion, entry.result);
  }
  return std::nullopt;
}

NetworkReadiness checkNetworkReadiness(const CniSettings& settings) {
  NetworkReadiness readiness;
  auto notReady = [&](const std::string& message) {
    readiness.ready = false;
    readiness.reason = "NetworkPluginNotReady";
    readiness.message = "Network plugin returns error: " + message;
    return readiness;
  };

  CniDiscovery discovery = findCniNetwork(settings.networkDir, settings.defaultNetwork);
  if (!discovery.found) return notReady(discovery.reason);
  readiness.network = discovery.network.name;
  readiness.configFile = discovery.network.file;

  try {
    json list = json::parse(discovery.network.json);
    std::string where = "network " + discovery.network.name + " (" + discovery.network.file + ")";
    withContext(where, [&]() {
      validateNetworkName(discovery.network.name);
      return requireSupportedCniVersion(discovery.network.cniVersion);
    });
    for (const auto& plugin : list.at("plugins")) {
      std::vector<std::string> types = {plugin.at("type").get<std::string>()};
      auto ipam = plugin.find("ipam");
      if (ipam != plugin.end() && ipam->is_object() && ipam->contains("type") &&
          (*ipam)["type"].is_string()) {
        types.push_back((*ipam)["type"].get<std::string>());
      }
      for (const auto& type : types)
        withContext(where, [&]() { return findCniPlugin(type, settings.pluginDirs); });
    }
  } catch (const std::exception& e) {
    return notReady(e.what());
  }
  readiness.ready = true;
  return readiness;
}

}  // namespace crio::cri
