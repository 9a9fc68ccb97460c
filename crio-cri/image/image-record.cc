#include "crio-cri/image/image-record.h"

#include <nlohmann/json.hpp>

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

std::string storeReference(const std::string& reference) {
  constexpr std::string_view PREFIX = "sha256:";
  if (reference.rfind(PREFIX, 0) == 0) return reference.substr(PREFIX.size());
  return reference;
}

}  // namespace crio::cri
