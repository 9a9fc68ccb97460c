#include "crio-imaged/manifest.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::imaged {
namespace {

const std::string D1 = "sha256:" + std::string(64, '1');
const std::string D2 = "sha256:" + std::string(64, '2');
const std::string D3 = "sha256:" + std::string(64, '3');

std::string descriptor(std::string_view type, const std::string& digest, int size) {
  return "{\"mediaType\":\"" + std::string(type) + "\",\"digest\":\"" + digest +
         "\",\"size\":" + std::to_string(size) + "}";
}

std::string ociManifest(std::string_view layerType = media::OCI_LAYER_GZIP) {
  return "{\"schemaVersion\":2,\"mediaType\":\"" + std::string(media::OCI_MANIFEST) +
         "\",\"config\":" + descriptor(media::OCI_CONFIG, D1, 100) + ",\"layers\":[" +
         descriptor(layerType, D2, 2000) + "," + descriptor(media::OCI_LAYER_ZSTD, D3, 3000) + "]}";
}

std::string entry(const std::string& digest, const std::string& platform) {
  return "{\"mediaType\":\"" + std::string(media::OCI_MANIFEST) + "\",\"digest\":\"" + digest +
         "\",\"size\":500,\"platform\":" + platform + "}";
}

// Runs fn, expecting a crio::Error of `category` whose message contains `part`.
template <typename Fn>
void expectError(Fn fn, ErrorCategory category, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one containing \"" << part << "\"";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), category) << e.what();
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Manifest, ParsesOciImageManifest) {
  std::string body = ociManifest();
  ASSERT_EQ(manifestMediaType(body, "application/octet-stream"), media::OCI_MANIFEST);
  ImageManifest manifest = parseImageManifest(body, media::OCI_MANIFEST);
  EXPECT_EQ(manifest.config.digest.text(), D1);
  EXPECT_EQ(manifest.config.size, 100u);
  ASSERT_EQ(manifest.layers.size(), 2u);
  EXPECT_EQ(manifest.layers[0].mediaType, media::OCI_LAYER_GZIP);
  EXPECT_EQ(manifest.layers[1].size, 3000u);
}

TEST(Manifest, BodyMediaTypeWinsOverHeader) {
  EXPECT_EQ(manifestMediaType(ociManifest(), media::DOCKER_MANIFEST), media::OCI_MANIFEST);
}

TEST(Manifest, HeaderDecidesWhenBodyHasNoType) {
  std::string body = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
  EXPECT_EQ(manifestMediaType(body, std::string(media::DOCKER_MANIFEST) + "; charset=utf-8"),
            media::DOCKER_MANIFEST);
  EXPECT_EQ(manifestMediaType(body, ""), media::OCI_MANIFEST);
  EXPECT_EQ(manifestMediaType("{\"schemaVersion\":2,\"manifests\":[]}", ""), media::OCI_INDEX);
}

TEST(Manifest, RejectsSchema1ByHeaderAndBody) {
  expectError([] { manifestMediaType("{}", media::DOCKER_SCHEMA1_SIGNED); },
              ErrorCategory::INVALID_ARGUMENT, "schema 1");
  expectError(
      [] { manifestMediaType("{\"schemaVersion\":1,\"fsLayers\":[]}", "application/json"); },
      ErrorCategory::INVALID_ARGUMENT, "schema 1");
}

TEST(Manifest, RejectsUnknownManifestType) {
  std::string body = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example+json\"}";
  expectError([&] { manifestMediaType(body, ""); }, ErrorCategory::INVALID_ARGUMENT,
              "unsupported media type");
}

TEST(Manifest, RejectsMalformedJson) {
  expectError([] { manifestMediaType("{not json", ""); }, ErrorCategory::INVALID_ARGUMENT,
              "not valid JSON");
  expectError([] { manifestMediaType("[1,2]", ""); }, ErrorCategory::INVALID_ARGUMENT,
              "not a JSON object");
}

TEST(Manifest, RejectsDeepNesting) {
  std::string body = "{\"a\":" + std::string(1000, '[') + std::string(1000, ']') + "}";
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "nests deeper");
}

TEST(Manifest, BracketsInsideStringsDoNotCountAsNesting) {
  std::string body = "{\"schemaVersion\":2,\"annotations\":{\"x\":\"" + std::string(200, '[') +
                     "\\\"\"},\"manifests\":[]}";
  EXPECT_EQ(manifestMediaType(body, ""), media::OCI_INDEX);
}

TEST(Manifest, RejectsForeignLayers) {
  std::string body = ociManifest(media::DOCKER_FOREIGN_LAYER);
  expectError([&] { parseImageManifest(body, media::DOCKER_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "foreign (non-distributable) layer");
  body = ociManifest("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "non-distributable");
}

TEST(Manifest, RejectsUnknownLayerType) {
  std::string body = ociManifest("application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "layer 0");
}

TEST(Manifest, RejectsArtifacts) {
  std::string body =
      "{\"schemaVersion\":2,\"config\":" + descriptor("application/vnd.oci.empty.v1+json", D1, 2) +
      ",\"layers\":[]}";
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "artifact");
}

TEST(Manifest, RejectsBadDescriptors) {
  std::string body = "{\"schemaVersion\":2,\"config\":" + descriptor(media::OCI_CONFIG, D1, -5) +
                     ",\"layers\":[]}";
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "size");
  body = "{\"schemaVersion\":2,\"config\":" +
         descriptor(media::OCI_CONFIG, "sha512:" + std::string(128, 'a'), 5) + ",\"layers\":[]}";
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "sha512");
  body = "{\"schemaVersion\":2,\"config\":" + descriptor(media::OCI_CONFIG, D1, 5) + "}";
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "\"layers\" is missing");
}

TEST(Manifest, RejectsOversizedConfigDescriptor) {
  std::string body =
      "{\"schemaVersion\":2,\"config\":" + descriptor(media::OCI_CONFIG, D1, 5 * 1024 * 1024) +
      ",\"layers\":[]}";
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "more than the limit");
}

TEST(Manifest, RejectsTooManyLayers) {
  std::string layers;
  for (size_t i = 0; i <= MAX_LAYERS; ++i) {
    if (i > 0) layers += ",";
    layers += descriptor(media::OCI_LAYER, D2, 1);
  }
  std::string body = "{\"schemaVersion\":2,\"config\":" + descriptor(media::OCI_CONFIG, D1, 5) +
                     ",\"layers\":[" + layers + "]}";
  expectError([&] { parseImageManifest(body, media::OCI_MANIFEST); },
              ErrorCategory::INVALID_ARGUMENT, "layers, more than the limit");
}

TEST(Index, SelectsHostPlatform) {
  std::string body = "{\"schemaVersion\":2,\"manifests\":[" +
                     entry(D1, "{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}") +
                     "," + entry(D2, "{\"os\":\"linux\",\"architecture\":\"amd64\"}") + "," +
                     entry(D3, "{\"os\":\"windows\",\"architecture\":\"amd64\"}") + "]}";
  ImageIndex index = parseImageIndex(body, media::OCI_INDEX);
  ASSERT_EQ(index.manifests.size(), 3u);
  EXPECT_EQ(selectPlatform(index, {"linux", "amd64", ""}).digest.text(), D2);
  EXPECT_EQ(selectPlatform(index, {"linux", "arm64", "v8"}).digest.text(), D1);
}

TEST(Index, SkipsEntriesWithoutPlatformOrOfOtherTypes) {
  std::string attestation = "{\"mediaType\":\"" + std::string(media::OCI_MANIFEST) +
                            "\",\"digest\":\"" + D1 + "\",\"size\":5}";
  std::string nested = "{\"mediaType\":\"" + std::string(media::OCI_INDEX) + "\",\"digest\":\"" +
                       D2 +
                       "\",\"size\":5,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}";
  std::string body = "{\"schemaVersion\":2,\"manifests\":[" + attestation + "," + nested + "]}";
  ImageIndex index = parseImageIndex(body, media::OCI_INDEX);
  expectError(
      [&] {
        selectPlatform(index, {"linux", "amd64", ""});
      },
      ErrorCategory::NOT_FOUND, "no platform-specific images");
}

TEST(Index, NoMatchNamesThePlatformsOnOffer) {
  std::string body = "{\"schemaVersion\":2,\"manifests\":[" +
                     entry(D1, "{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}") +
                     "," + entry(D2, "{\"os\":\"linux\",\"architecture\":\"s390x\"}") + "]}";
  ImageIndex index = parseImageIndex(body, media::DOCKER_MANIFEST_LIST);
  expectError(
      [&] {
        selectPlatform(index, {"linux", "amd64", ""});
      },
      ErrorCategory::NOT_FOUND, "no image for linux/amd64; it offers: linux/arm64/v8, linux/s390x");
}

TEST(Config, ParsesDiffIdsAndPlatform) {
  std::string body =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
      "\"diff_ids\":[\"" +
      D1 + "\",\"" + D2 + "\"]}}";
  ImageConfig config = parseImageConfig(body);
  ASSERT_EQ(config.diffIds.size(), 2u);
  EXPECT_EQ(config.diffIds[1].text(), D2);
  EXPECT_EQ(config.platform.text(), "linux/amd64");

  ImageManifest manifest = parseImageManifest(ociManifest(), media::OCI_MANIFEST);
  EXPECT_NO_THROW(checkLayersMatchConfig(manifest, config));
  config.diffIds.pop_back();
  expectError([&] { checkLayersMatchConfig(manifest, config); }, ErrorCategory::INVALID_ARGUMENT,
              "2 layers but the image config has 1 diff IDs");
}

TEST(Config, RejectsMissingRootfs) {
  expectError([] { parseImageConfig("{\"os\":\"linux\"}"); }, ErrorCategory::INVALID_ARGUMENT,
              "rootfs");
  expectError([] { parseImageConfig("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[5]}}"); },
              ErrorCategory::INVALID_ARGUMENT, "diff_ids[0]");
}

TEST(Manifest, AcceptHeaderListsEveryUsableType) {
  std::string accept = manifestAcceptHeader();
  EXPECT_NE(accept.find(media::DOCKER_MANIFEST), std::string::npos);
  EXPECT_NE(accept.find(media::DOCKER_MANIFEST_LIST), std::string::npos);
  EXPECT_NE(accept.find(media::OCI_MANIFEST), std::string::npos);
  EXPECT_NE(accept.find(media::OCI_INDEX), std::string::npos);
  EXPECT_EQ(accept.find("distribution.manifest.v1+"), std::string::npos);
}

}  // namespace
}  // namespace crio::imaged
