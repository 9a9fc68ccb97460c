#include "crio-cri/oci/image-config.h"

#include <algorithm>

#include "common/error.h"

namespace crio::cri::oci {

namespace {

[[noreturn]] void failField(const char* field, const char* expected) {
  fail(ErrorCategory::INVALID_ARGUMENT,
       std::string("image config field ") + field + " is not " + expected);
}

std::vector<std::string> stringList(const nlohmann::json& config, const char* field) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return {};
  if (!it->is_array()) failField(field, "a list of strings");
  std::vector<std::string> values;
  for (const auto& item : *it) {
    if (!item.is_string()) failField(field, "a list of strings");
    values.push_back(item.get<std::string>());
  }
  return values;
}

std::string stringField(const nlohmann::json& config, const char* field) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return "";
  if (!it->is_string()) failField(field, "a string");
  return it->get<std::string>();
}

std::vector<std::string> objectKeys(const nlohmann::json& config, const char* field) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return {};
  if (!it->is_object()) failField(field, "an object");
  std::vector<std::string> keys;
  for (const auto& item : it->items())
    keys.push_back(item.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

ImageConfig parseImageConfig(const nlohmann::json& document) {
  if (document.is_null()) return {};
  if (!document.is_object()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "image config is not a JSON object");
  }

  const nlohmann::json* config = &document;
  auto nested = document.find("config");
  if (nested != document.end()) {
    if (nested->is_null()) return {};
    if (!nested->is_object()) failField("config", "an object");
    config = &*nested;
  }

  ImageConfig image;
  image.entrypoint = stringList(*config, "Entrypoint");
  image.cmd = stringList(*config, "Cmd");
  image.env = stringList(*config, "Env");
  image.workingDir = stringField(*config, "WorkingDir");
  image.user = stringField(*config, "User");
  image.stopSignal = stringField(*config, "StopSignal");
  image.volumes = objectKeys(*config, "Volumes");
  return image;
}

}  // namespace crio::cri::oci
