// The on-disk record of a pod's CNI attachment, so that DEL and CHECK after a restart of
// crio-cri use the configuration, arguments and result of the ADD, even when the configuration
// file has changed or is gone (the spec requires DEL to pass the ADD's result as prevResult).
//
// One JSON file per pod and network: CACHE_DIR/NETWORK/POD_ID.json, where CACHE_DIR is
// [crio.suite] state_dir + "/cni-cache". It is written before the first plugin runs, with
// "result": null, and again with the final result, so a crash in the middle of an ADD still
// leaves what the DEL needs. Each write goes to a temporary file that is fsynced and renamed
// over the old one. Format (version 1):
//   {"kind": "crio-cni-cache", "version": 1,
//    "network": "NAME", "cniVersion": "1.0.0", "configFile": "/etc/cni/net.d/10-x.conflist",
//    "config": {THE CONFIGURATION LIST AS USED},
//    "containerId": "POD_ID", "ifName": "eth0", "netns": "PIN PATH",
//    "cniArgs": "IgnoreUnknown=1;K8S_POD_NAMESPACE=...",
//    "capabilityArgs": {"portMappings": [...]},
//    "result": {THE FINAL ADD RESULT} or null}
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crio::cri {

// Bound on a cache file read back: a configuration (at most 1 MiB) plus a result (at most
// 1 MiB) plus the rest.
constexpr size_t MAX_CNI_CACHE_BYTES = 4 << 20;

struct CniCacheEntry {
  std::string network;
  std::string cniVersion;
  std::string configFile;
  nlohmann::json config;  // the configuration list
  std::string containerId;
  std::string ifName;
  std::string netns;
  std::string cniArgs;
  nlohmann::json capabilityArgs = nlohmann::json::object();
  nlohmann::json result;  // null while the ADD has not finished
};

// Checks a network name as the CNI spec defines it (a letter or digit, then letters, digits,
// '_', '.' and '-'), because it becomes a folder name. Throws INVALID_ARGUMENT.
void validateNetworkName(const std::string& name);

std::string cniCachePath(const std::string& cacheDir, const std::string& network,
                         const std::string& podId);

// Writes the entry atomically (see above), creating CACHE_DIR/NETWORK with mode 0700.
void writeCniCache(const std::string& cacheDir, const CniCacheEntry& entry);

// Reads the entry of one network; nullopt when there is none. Throws INVALID_ARGUMENT for a file
// that is too large or not a version 1 cache entry.
std::optional<CniCacheEntry> readCniCache(const std::string& cacheDir, const std::string& network,
                                          const std::string& podId);

// Every network's entry for the pod, in lexical order of network name. An unreadable entry is
// logged and skipped.
std::vector<CniCacheEntry> findCniCache(const std::string& cacheDir, const std::string& podId);

// Removes the entry; succeeds when it is already gone.
void removeCniCache(const std::string& cacheDir, const std::string& network,
                    const std::string& podId);

}  // namespace crio::cri
