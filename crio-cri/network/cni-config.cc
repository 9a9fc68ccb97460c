#include "crio-cri/network/cni-config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"

namespace crio::cri {

namespace fs = std::filesystem;

CniNetwork parseCniConfig(const std::string& file, const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "not a JSON object");
  }
  auto stringField = [&](const nlohmann::json& object, const char* key) -> std::string {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) {
      fail(ErrorCategory::INVALID_ARGUMENT, std::string("missing \"") + key + "\"");
    }
    return it->get<std::string>();
  };

  CniNetwork network;
  network.file = file;
  bool isList = file.size() >= 9 && file.compare(file.size() - 9, 9, ".conflist") == 0;
  if (!isList && doc.contains("plugins")) isList = true;
  if (isList) {
    network.name = stringField(doc, "name");
    network.cniVersion = stringField(doc, "cniVersion");
    auto plugins = doc.find("plugins");
    if (plugins == doc.end() || !plugins->is_array() || plugins->empty()) {
      fail(ErrorCategory::INVALID_ARGUMENT, "\"plugins\" must be a non-empty array");
    }
    for (const auto& plugin : *plugins) {
      if (!plugin.is_object()) fail(ErrorCategory::INVALID_ARGUMENT, "a plugin is not an object");
      stringField(plugin, "type");
    }
    network.json = doc.dump();
  } else {
    network.name = stringField(doc, "name");
    network.cniVersion = stringField(doc, "cniVersion");
    stringField(doc, "type");
    nlohmann::json list = {{"cniVersion", network.cniVersion},
                           {"name", network.name},
                           {"plugins", nlohmann::json::array({doc})}};
    network.json = list.dump();
  }
  return network;
}

CniDiscovery findCniNetwork(const std::string& networkDir, const std::string& wantedName) {
  CniDiscovery result;
  std::error_code ec;
  if (!fs::is_directory(networkDir, ec)) {
    result.reason = "no CNI configuration folder " + networkDir;
    return result;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(networkDir, ec)) {
    std::string ext = entry.path().extension().string();
    if ((ext == ".conflist" || ext == ".conf" || ext == ".json") && !entry.is_directory()) {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());

  for (const auto& file : files) {
    if (fs::file_size(file, ec) > MAX_CNI_CONFIG_BYTES) {
      result.skipped.push_back(file + ": larger than 1 MiB");
      continue;
    }
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    try {
      CniNetwork network = parseCniConfig(file, text.str());
      if (!wantedName.empty() && network.name != wantedName) continue;
      result.found = true;
      result.network = std::move(network);
      return result;
    } catch (const Error& e) {
      result.skipped.push_back(file + ": " + e.what());
    }
  }
  if (!wantedName.empty()) {
    result.reason = "no valid CNI network named \"" + wantedName + "\" in " + networkDir;
  } else {
    result.reason = "no valid CNI configuration in " + networkDir;
  }
  if (!result.skipped.empty()) result.reason += " (skipped " + result.skipped.front() + ")";
  return result;
}

}  // namespace crio::cri
