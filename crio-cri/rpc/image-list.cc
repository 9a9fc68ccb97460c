// ListImages and ImageStatus: both report stored images in CRI's Image message.
#include <fnmatch.h>

#include <nlohmann/json.hpp>

#include "crio-cri/image/image-catalog.h"
#include "crio-cri/rpc/image-handlers.h"

namespace crio::cri {

namespace {

// pinned_images entries match a name exactly, or as a glob when they contain '*'.
bool isPinned(const Config& config, const ImageRecord& image) {
  std::vector<std::string> patterns = config.pinnedImages;
  patterns.push_back(config.pauseImage);
  for (const auto& pattern : patterns) {
    for (const auto* list : {&image.names, &image.repoDigests}) {
      for (const auto& name : *list) {
        if (name == pattern) return true;
        if (pattern.find('*') != std::string::npos &&
            fnmatch(pattern.c_str(), name.c_str(), 0) == 0) {
          return true;
        }
      }
    }
  }
  return false;
}

void fillImage(const Config& config, const ImageRecord& image, runtime::v1::Image& out) {
  out.set_id(image.criId());
  for (const auto& name : image.names)
    out.add_repo_tags(name);
  for (const auto& digest : image.repoDigests)
    out.add_repo_digests(digest);
  out.set_size(image.size);
  out.mutable_spec()->set_image(image.criId());
  out.set_pinned(isPinned(config, image));

  // A user of digits (optionally ":group") is a uid; anything else is a name.
  std::string user = imageUser(image);
  std::string userPart = user.substr(0, user.find(':'));
  bool numeric = !userPart.empty() &&
                 userPart.find_first_not_of("0123456789") == std::string::npos &&
                 userPart.size() <= 10;
  if (numeric) {
    out.mutable_uid()->set_value(std::stoll(userPart));
  } else if (!userPart.empty()) {
    out.set_username(userPart);
  }
}

}  // namespace

void listImages(Daemon& daemon, const runtime::v1::ListImagesRequest& request,
                runtime::v1::ListImagesResponse& response) {
  Config config = daemon.config();
  const std::string& wanted = request.filter().image().image();
  if (!wanted.empty()) {
    checkImageReference(wanted, "ListImages");
    if (auto image = findImage(daemon, wanted)) fillImage(config, *image, *response.add_images());
    return;
  }
  for (const auto& image : crio::cri::listImages(daemon)) {
    fillImage(config, image, *response.add_images());
  }
}

void imageStatus(Daemon& daemon, const runtime::v1::ImageStatusRequest& request,
                 runtime::v1::ImageStatusResponse& response) {
  const std::string& reference = request.image().image();
  checkImageReference(reference, "ImageStatus");

  // An absent image is an empty response, not an error.
  std::optional<ImageRecord> image = findImage(daemon, reference);
  if (!image) return;
  fillImage(daemon.config(), *image, *response.mutable_image());

  if (request.verbose()) {
    nlohmann::json config = nlohmann::json::parse(image->config, nullptr, false);
    nlohmann::json info = {{"id", image->criId()},
                           {"manifestMediaType", image->manifestMediaType},
                           {"imageSpec", config.is_discarded() ? nlohmann::json() : config}};
    (*response.mutable_info())["info"] = info.dump();
  }
}

}  // namespace crio::cri
