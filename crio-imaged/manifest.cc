#include "crio-imaged/manifest.h"

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace crio::imaged {

namespace {

using Json = nlohmann::json;

[[noreturn]] void invalid(const std::string& message) {
  fail(ErrorCategory::INVALID_ARGUMENT, message);
}

// Bounds what a hostile document can make an error message echo.
std::string shorten(std::string_view text, size_t max = 100) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

// Rejects documents nested deeper than MAX_JSON_DEPTH before a parser sees them, so that no
// parser or destructor recursion depends on registry input.
void checkJsonDepth(std::string_view body, std::string_view what) {
  size_t depth = 0;
  bool inString = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (inString) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        inString = false;
      }
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > MAX_JSON_DEPTH) {
        invalid(std::string(what) + " nests deeper than " + std::to_string(MAX_JSON_DEPTH) +
                " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

Json parseJson(std::string_view body, std::string_view what) {
  checkJsonDepth(body, what);
  Json json = Json::parse(body.begin(), body.end(), nullptr, false);
  if (json.is_discarded()) invalid(std::string(what) + " is not valid JSON");
  if (!json.is_object()) invalid(std::string(what) + " is not a JSON object");
  return json;
}

// The string member `key`, "" when absent; INVALID_ARGUMENT when present with another type.
std::string optionalString(const Json& object, const char* key, std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (!it->is_string()) invalid(std::string(what) + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

const Json& requiredArray(const Json& object, const char* key, std::string_view what) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    invalid(std::string(what) + ": \"" + key + "\" is missing or not an array");
  }
  return *it;
}

Descriptor parseDescriptor(const Json& json, std::string_view what) {
  if (!json.is_object()) invalid(std::string(what) + " is not a JSON object");
  Descriptor descriptor;
  descriptor.mediaType = optionalString(json, "mediaType", what);
  descriptor.digest =
      Digest::parse(optionalString(json, "digest", what), std::string(what) + " digest");
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    invalid(std::string(what) + ": \"size\" is missing or not a non-negative integer");
  }
  descriptor.size = size->get<uint64_t>();

  auto platform = json.find("platform");
  if (platform != json.end() && platform->is_object()) {
    descriptor.hasPlatform = true;
    descriptor.platform.os = optionalString(*platform, "os", what);
    descriptor.platform.architecture = optionalString(*platform, "architecture", what);
    descriptor.platform.variant = optionalString(*platform, "variant", what);
  }
  return descriptor;
}

int schemaVersion(const Json& json) {
  auto it = json.find("schemaVersion");
  if (it == json.end() || !it->is_number_integer()) return -1;
  return it->get<int>();
}

[[noreturn]] void rejectSchema1() {
  invalid(
      "the registry serves this image only as a Docker schema 1 manifest, which is deprecated "
      "and not supported; push the image again with a current client (Docker v2 schema 2 or OCI)");
}

bool isLayerMediaType(std::string_view type) {
  return type == media::DOCKER_LAYER_GZIP || type == media::OCI_LAYER ||
         type == media::OCI_LAYER_GZIP || type == media::OCI_LAYER_ZSTD;
}

void checkLayerMediaType(const Descriptor& layer, size_t index) {
  if (isLayerMediaType(layer.mediaType)) return;
  std::string which = "layer " + std::to_string(index) + " (" + layer.digest.text() + ")";
  if (layer.mediaType == media::DOCKER_FOREIGN_LAYER ||
      layer.mediaType.rfind(media::OCI_NONDISTRIBUTABLE_LAYER_PREFIX, 0) == 0) {
    invalid(which + " is a foreign (non-distributable) layer of type " + layer.mediaType +
            ", which this runtime does not download");
  }
  invalid(which + " has the unsupported media type \"" + shorten(layer.mediaType) +
          "\"; supported: tar, tar+gzip and tar+zstd layers");
}

}  // namespace

std::string manifestAcceptHeader() {
  return std::string(media::OCI_INDEX) + ", " + std::string(media::OCI_MANIFEST) + ", " +
         std::string(media::DOCKER_MANIFEST_LIST) + ", " + std::string(media::DOCKER_MANIFEST);
}

bool isIndexMediaType(std::string_view mediaType) {
  return mediaType == media::OCI_INDEX || mediaType == media::DOCKER_MANIFEST_LIST;
}

std::string manifestMediaType(std::string_view body, std::string_view contentType) {
  // Parameters such as "; charset=utf-8" are not part of the type.
  std::string header(contentType.substr(0, contentType.find(';')));
  while (!header.empty() && header.back() == ' ')
    header.pop_back();
  if (header == media::DOCKER_SCHEMA1 || header == media::DOCKER_SCHEMA1_SIGNED) rejectSchema1();

  Json json = parseJson(body, "manifest");
  if (schemaVersion(json) == 1) rejectSchema1();
  if (schemaVersion(json) != 2) invalid("manifest: \"schemaVersion\" is not 2");

  std::string type = optionalString(json, "mediaType", "manifest");
  if (type.empty()) type = header;
  if (type.empty() || type == "application/json" || type == "application/octet-stream") {
    // Shape decides: an index lists manifests, an image manifest has a config. OCI documents
    // may omit mediaType, and then Docker types cannot apply (they always carry it).
    type = json.contains("manifests") ? media::OCI_INDEX : media::OCI_MANIFEST;
  }
  if (type == media::DOCKER_SCHEMA1 || type == media::DOCKER_SCHEMA1_SIGNED) rejectSchema1();
  if (type != media::DOCKER_MANIFEST && type != media::OCI_MANIFEST && !isIndexMediaType(type)) {
    invalid("manifest has the unsupported media type \"" + shorten(type) +
            "\"; supported: Docker v2 schema 2 manifests and lists, OCI manifests and indexes");
  }
  return type;
}

ImageManifest parseImageManifest(std::string_view body, std::string_view mediaType) {
  Json json = parseJson(body, "manifest");
  ImageManifest manifest;
  manifest.mediaType = mediaType;

  auto config = json.find("config");
  if (config == json.end()) invalid("manifest: \"config\" is missing");
  manifest.config = parseDescriptor(*config, "config descriptor");
  const std::string& configType = manifest.config.mediaType;
  if (configType != media::DOCKER_CONFIG && configType != media::OCI_CONFIG) {
    invalid(
        "manifest describes an artifact, not a container image: its config has the media "
        "type \"" +
        shorten(configType) + "\"");
  }
  if (manifest.config.size > MAX_CONFIG_BYTES) {
    invalid("image config is " + std::to_string(manifest.config.size) +
            " bytes, more than the limit of " + std::to_string(MAX_CONFIG_BYTES));
  }

  const Json& layers = requiredArray(json, "layers", "manifest");
  if (layers.size() > MAX_LAYERS) {
    invalid("manifest lists " + std::to_string(layers.size()) + " layers, more than the limit of " +
            std::to_string(MAX_LAYERS));
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    Descriptor layer = parseDescriptor(layers[i], "layer " + std::to_string(i));
    checkLayerMediaType(layer, i);
    manifest.layers.push_back(std::move(layer));
  }
  return manifest;
}

ImageIndex parseImageIndex(std::string_view body, std::string_view mediaType) {
  Json json = parseJson(body, "manifest list");
  ImageIndex index;
  index.mediaType = mediaType;
  const Json& manifests = requiredArray(json, "manifests", "manifest list");
  if (manifests.size() > MAX_INDEX_ENTRIES) {
    invalid("manifest list has " + std::to_string(manifests.size()) +
            " entries, more than the limit of " + std::to_string(MAX_INDEX_ENTRIES));
  }
  for (size_t i = 0; i < manifests.size(); ++i) {
    index.manifests.push_back(
        parseDescriptor(manifests[i], "manifest list entry " + std::to_string(i)));
  }
  return index;
}

ImageConfig parseImageConfig(std::string_view body) {
  Json json = parseJson(body, "image config");
  ImageConfig config;
  config.platform.os = optionalString(json, "os", "image config");
  config.platform.architecture = optionalString(json, "architecture", "image config");
  config.platform.variant = optionalString(json, "variant", "image config");

  auto rootfs = json.find("rootfs");
  if (rootfs == json.end() || !rootfs->is_object()) invalid("image config: \"rootfs\" is missing");
  if (optionalString(*rootfs, "type", "image config rootfs") != "layers") {
    invalid("image config: rootfs.type is not \"layers\"");
  }
  const Json& diffIds = requiredArray(*rootfs, "diff_ids", "image config rootfs");
  if (diffIds.size() > MAX_LAYERS) {
    invalid("image config lists " + std::to_string(diffIds.size()) +
            " diff IDs, more than the limit of " + std::to_string(MAX_LAYERS));
  }
  for (size_t i = 0; i < diffIds.size(); ++i) {
    if (!diffIds[i].is_string())
      invalid("image config: diff_ids[" + std::to_string(i) + "] is not a string");
    config.diffIds.push_back(
        Digest::parse(diffIds[i].get<std::string>(), "diff ID " + std::to_string(i)));
  }
  return config;
}

const Descriptor& selectPlatform(const ImageIndex& index, const Platform& wanted) {
  // The error names at most this many of the platforms on offer.
  constexpr size_t MAX_PLATFORMS_NAMED = 20;

  const Descriptor* best = nullptr;
  int bestScore = 0;
  std::string offered;
  size_t offeredCount = 0;
  for (const Descriptor& entry : index.manifests) {
    bool isImage =
        entry.mediaType == media::DOCKER_MANIFEST || entry.mediaType == media::OCI_MANIFEST;
    if (!isImage || !entry.hasPlatform) continue;
    if (offeredCount < MAX_PLATFORMS_NAMED) {
      if (!offered.empty()) offered += ", ";
      offered += shorten(entry.platform.text(), 60);
    }
    ++offeredCount;
    int score = platformScore(wanted, entry.platform);
    if (score > bestScore) {
      best = &entry;
      bestScore = score;
    }
  }
  if (best != nullptr) return *best;
  if (offered.empty()) offered = "no platform-specific images";
  if (offeredCount > MAX_PLATFORMS_NAMED) {
    offered += " and " + std::to_string(offeredCount - MAX_PLATFORMS_NAMED) + " more";
  }
  fail(ErrorCategory::NOT_FOUND,
       "the manifest list has no image for " + wanted.text() + "; it offers: " + offered);
}

void checkLayersMatchConfig(const ImageManifest& manifest, const ImageConfig& config) {
  if (manifest.layers.size() == config.diffIds.size()) return;
  invalid("the manifest lists " + std::to_string(manifest.layers.size()) +
          " layers but the image config has " + std::to_string(config.diffIds.size()) +
          " diff IDs; the image is inconsistent");
}

}  // namespace crio::imaged
