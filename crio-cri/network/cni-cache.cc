#include "crio-cri/network/cni-cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/daemon.h"
#include "common/error.h"
#include "common/log.h"
#include "common/namespace-pinning.h"

namespace crio::cri {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* CACHE_KIND = "crio-cni-cache";
constexpr int CACHE_VERSION = 1;
// Bound on the network folders searched for one pod.
constexpr size_t MAX_CACHED_NETWORKS = 256;

std::string readBounded(const std::string& path, bool& missing) {
  missing = false;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) {
      missing = true;
      return "";
    }
    failSyscall("open", path);
  }
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int readErrno = errno;
      close(fd);
      failSyscall("read", path, readErrno);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > MAX_CNI_CACHE_BYTES) {
      close(fd);
      fail(ErrorCategory::INVALID_ARGUMENT, "CNI cache file " + path + " is larger than " +
                                                std::to_string(MAX_CNI_CACHE_BYTES) + " bytes");
    }
  }
  close(fd);
  return text;
}

void writeAll(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failSyscall("write", path);
    done += static_cast<size_t>(n);
  }
}

void syncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) failSyscall("open", dir);
  int rc = fsync(fd);
  int syncErrno = errno;
  close(fd);
  if (rc != 0) failSyscall("fsync", dir, syncErrno);
}

std::string stringField(const json& doc, const char* key, const std::string& path) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "CNI cache file " + path + " has no string \"" + key + "\"");
  }
  return it->get<std::string>();
}

}  // namespace

void validateNetworkName(const std::string& name) {
  auto alphanumeric = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool valid = !name.empty() && name.size() <= 255 && alphanumeric(name[0]);
  for (char c : name) {
    if (!alphanumeric(c) && c != '_' && c != '.' && c != '-') valid = false;
  }
  if (!valid) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "invalid CNI network name \"" + name.substr(0, 255) +
             "\": expected a letter or digit, then letters, digits, '_', '.' or '-'");
  }
}

std::string cniCachePath(const std::string& cacheDir, const std::string& network,
                         const std::string& podId) {
  validateNetworkName(network);
  validatePodId(podId);
  return cacheDir + "/" + network + "/" + podId + ".json";
}

void writeCniCache(const std::string& cacheDir, const CniCacheEntry& entry) {
  std::string path = cniCachePath(cacheDir, entry.network, entry.containerId);
  std::string dir = cacheDir + "/" + entry.network;
  makeDirectories(dir, 0700);

  json doc = {{"kind", CACHE_KIND},
              {"version", CACHE_VERSION},
              {"network", entry.network},
              {"cniVersion", entry.cniVersion},
              {"configFile", entry.configFile},
              {"config", entry.config},
              {"containerId", entry.containerId},
              {"ifName", entry.ifName},
              {"netns", entry.netns},
              {"cniArgs", entry.cniArgs},
              {"capabilityArgs", entry.capabilityArgs},
              {"result", entry.result}};
  std::string text = doc.dump(2) + "\n";

  std::string temporary = path + ".XXXXXX";
  int fd = mkstemp(temporary.data());
  if (fd < 0) failSyscall("create", temporary);
  try {
    writeAll(fd, text, temporary);
    if (fsync(fd) != 0) failSyscall("fsync", temporary);
    if (close(fd) != 0) {
      fd = -1;
      failSyscall("close", temporary);
    }
    fd = -1;
    if (rename(temporary.c_str(), path.c_str()) != 0) failSyscall("rename", temporary);
  } catch (...) {
    if (fd >= 0) close(fd);
    unlink(temporary.c_str());
    throw;
  }
  syncDir(dir);
}

std::optional<CniCacheEntry> readCniCache(const std::string& cacheDir, const std::string& network,
                                          const std::string& podId) {
  std::string path = cniCachePath(cacheDir, network, podId);
  bool missing = false;
  std::string text = readBounded(path, missing);
  if (missing) return std::nullopt;

  json doc = json::parse(text, nullptr, false);
  bool valid = !doc.is_discarded() && doc.is_object();
  if (valid) {
    auto kind = doc.find("kind");
    auto version = doc.find("version");
    valid = kind != doc.end() && *kind == CACHE_KIND && version != doc.end() &&
            version->is_number_integer() && *version == CACHE_VERSION;
  }
  if (!valid) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "CNI cache file " + path + " is not a version 1 cache entry");
  }
  CniCacheEntry entry;
  entry.network = stringField(doc, "network", path);
  entry.cniVersion = stringField(doc, "cniVersion", path);
  entry.configFile = stringField(doc, "configFile", path);
  entry.containerId = stringField(doc, "containerId", path);
  entry.ifName = stringField(doc, "ifName", path);
  entry.netns = stringField(doc, "netns", path);
  entry.cniArgs = stringField(doc, "cniArgs", path);
  entry.config = doc["config"];
  if (!entry.config.is_object() || !entry.config.contains("plugins")) {
    fail(ErrorCategory::INVALID_ARGUMENT, "CNI cache file " + path + " has no configuration list");
  }
  if (doc.contains("capabilityArgs") && doc["capabilityArgs"].is_object()) {
    entry.capabilityArgs = doc["capabilityArgs"];
  }
  entry.result = doc.contains("result") ? doc["result"] : json();
  if (entry.network != network || entry.containerId != podId) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "CNI cache file " + path + " names another network or pod");
  }
  return entry;
}

std::vector<CniCacheEntry> findCniCache(const std::string& cacheDir, const std::string& podId) {
  validatePodId(podId);
  std::vector<std::string> networks;
  std::error_code ec;
  for (const auto& item : fs::directory_iterator(cacheDir, ec)) {
    if (networks.size() >= MAX_CACHED_NETWORKS) break;
    if (item.is_directory(ec)) networks.push_back(item.path().filename().string());
  }
  std::sort(networks.begin(), networks.end());

  std::vector<CniCacheEntry> entries;
  for (const auto& network : networks) {
    try {
      validateNetworkName(network);
      if (auto entry = readCniCache(cacheDir, network, podId)) entries.push_back(std::move(*entry));
    } catch (const Error& e) {
      log::warn("skipping an unreadable CNI cache entry",
                {{"pod", podId}, {"network", network}, {"error", e.what()}});
    }
  }
  return entries;
}

void removeCniCache(const std::string& cacheDir, const std::string& network,
                    const std::string& podId) {
  std::string path = cniCachePath(cacheDir, network, podId);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) failSyscall("remove", path);
}

}  // namespace crio::cri
