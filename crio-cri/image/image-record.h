// crio-cri's view of a stored image: the fields CRI reports, read from crio-stored's record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ipc/stored.capnp.h"

namespace crio::cri {

struct ImageRecord {
  std::string id;  // hex digest of the config, without "sha256:"
  std::vector<std::string> names;
  std::vector<std::string> repoDigests;
  std::string config;  // the image config JSON
  std::string manifestMediaType;
  uint64_t size = 0;
  int64_t createdAt = 0;

  // The id as CRI reports it everywhere (PullImage, ListImages, ImageStatus, ContainerStatus).
  std::string criId() const { return "sha256:" + id; }
};

ImageRecord readImageRecord(ipc::schema::ImageRecord::Reader reader);

// The image's configured user ("" when the config has none).
std::string imageUser(const ImageRecord& image);

// Bound on an image reference in a CRI request; docker names are at most 255 characters, plus
// host, tag and digest.
constexpr size_t MAX_IMAGE_REFERENCE = 4096;

// Throws INVALID_ARGUMENT (naming `method`) for an empty or oversized reference. The message
// never repeats an oversized reference.
void checkImageReference(const std::string& reference, std::string_view method);

// Strips a leading "sha256:" so a CRI id can be looked up in the store.
std::string storeReference(const std::string& reference);

}  // namespace crio::cri
