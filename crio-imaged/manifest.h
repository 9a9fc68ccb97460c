// Image manifests, manifest lists and image configs in the Docker v2 schema 2 and OCI formats:
// media types, parsing with validation, and platform selection from a list.
//
// Everything here is registry input: every function checks what it reads (types, digests, counts,
// nesting) and throws crio::Error with INVALID_ARGUMENT naming the field; NOT_FOUND only when a
// list has no image for the wanted platform.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crio-imaged/digest.h"
#include "crio-imaged/platform.h"

namespace crio::imaged {

namespace media {
constexpr std::string_view DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view DOCKER_MANIFEST_LIST =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view DOCKER_SCHEMA1_SIGNED =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
constexpr std::string_view DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
constexpr std::string_view DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
constexpr std::string_view DOCKER_FOREIGN_LAYER =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
constexpr std::string_view OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view OCI_INDEX = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
constexpr std::string_view OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr std::string_view OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
// Followed by "", "+gzip" or "+zstd".
constexpr std::string_view OCI_NONDISTRIBUTABLE_LAYER_PREFIX =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
}  // namespace media

// Bounds on what a registry can make this process hold or walk.
constexpr size_t MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
constexpr size_t MAX_CONFIG_BYTES = 4 * 1024 * 1024;
// Docker refuses to build images deeper than 125 layers; this leaves room above that.
constexpr size_t MAX_LAYERS = 500;
constexpr size_t MAX_INDEX_ENTRIES = 1000;
// Nesting of JSON arrays and objects; real manifests and configs nest less than 10 deep.
constexpr size_t MAX_JSON_DEPTH = 64;

// The Accept header value of a manifest request: every manifest type this client can use.
std::string manifestAcceptHeader();

struct Descriptor {
  std::string mediaType;
  Digest digest;
  uint64_t size = 0;
  bool hasPlatform = false;
  Platform platform;  // for entries of a list, when hasPlatform
};

struct ImageManifest {
  std::string mediaType;
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct ImageIndex {
  std::string mediaType;
  std::vector<Descriptor> manifests;
};

struct ImageConfig {
  std::vector<Digest> diffIds;  // rootfs.diff_ids, one per layer, bottom first
  Platform platform;            // os, architecture and variant as the config states them
};

bool isIndexMediaType(std::string_view mediaType);

// The media type of a fetched manifest. The body's own "mediaType" field wins over the
// Content-Type header because it is covered by the digest; without either, the shape of the JSON
// decides. Throws INVALID_ARGUMENT for schema 1 manifests and for types this client cannot use.
std::string manifestMediaType(std::string_view body, std::string_view contentType);

ImageManifest parseImageManifest(std::string_view body, std::string_view mediaType);
ImageIndex parseImageIndex(std::string_view body, std::string_view mediaType);
ImageConfig parseImageConfig(std::string_view body);

// The entry of `index` that best suits `wanted` (see platformScore()). Throws NOT_FOUND listing
// the platforms the index offers when none suits.
const Descriptor& selectPlatform(const ImageIndex& index, const Platform& wanted);

// Throws INVALID_ARGUMENT unless the config has one diff ID per layer of the manifest.
void checkLayersMatchConfig(const ImageManifest& manifest, const ImageConfig& config);

}  // namespace crio::imaged
