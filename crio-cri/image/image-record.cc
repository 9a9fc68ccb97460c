#include "crio-cri/image/image-record.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace crio::cri {

ImageRecord readImageRecord(ipc::schema::ImageRecord::Reader reader) {
  ImageRecord image;
  image.id = reader.getId();
  for (auto name : reader.getNames())
    image.names.emplace_back(name);
  for (auto digest : reader.getRepoDigests())
    image.repoDigests.emplace_back(digest);
  auto config = reader.getConfig();
  image.config.assign(reinterpret_cast<const char*>(config.begin()), config.size());
  image.manifestMediaType = reader.getManifestMediaType();
  image.size = reader.getSize();
  image.createdAt = reader.getCreatedAt();
  return image;
}

std::string imageUser(const ImageRecord& image) {
  auto config = nlohmann::json::parse(image.config, nullptr, false);
  if (!config.is_object()) return "";
  auto inner = config.find("config");
  if (inner == config.end() || !inner->is_object()) return "";
  auto user = inner->find("User");
  if (user == inner->end() || !user->is_string()) return "";
  return user->get<std::string>();
}

void checkImageReference(const std::string& reference, std::string_view method) {
  if (reference.empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, std::string(method) + ": image is empty");
  }
  if (reference.size() > MAX_IMAGE_REFERENCE) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string(method) + ": image reference of " + std::to_string(reference.size()) +
             " bytes is longer than the limit of " + std::to_string(MAX_IMAGE_REFERENCE));
  }
}

std::string storeReference(const std::string& reference) {
  constexpr std::string_view PREFIX = "sha256:";
  if (reference.rfind(PREFIX, 0) == 0) return reference.substr(PREFIX.size());
  return reference;
}

}  // namespace crio::cri
