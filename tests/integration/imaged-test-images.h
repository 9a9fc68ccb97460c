// Test images built from busybox-static by the tests themselves: layer tarballs (gzip, zstd or
// uncompressed), OCI image configs and manifests, image indexes, OCI layouts for skopeo, and the
// pushed "seed" registry storage that each registry test copies.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "crio-imaged/platform.h"
#include "imaged-test-support.h"

namespace crio::imaged::test {

constexpr const char* OCI_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* OCI_INDEX_TYPE = "application/vnd.oci.image.index.v1+json";
constexpr const char* DOCKER_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* DOCKER_LIST_TYPE =
    "application/vnd.docker.distribution.manifest.list.v2+json";

enum class Compression { NONE, GZIP, ZSTD };

struct Layer {
  std::string blob;  // as stored in the registry
  std::string digest;
  std::string diffId;  // of the uncompressed tar
  std::string mediaType;
};

struct Image {
  std::vector<Layer> layers;
  std::string config;
  std::string configDigest;
  std::string manifest;
  std::string manifestDigest;
  Platform platform;
};

struct Index {
  std::string body;
  std::string digest;
};

// A layer of the files in `files` (path -> content) and, with `busybox`, /bin/busybox and a
// /bin/sh link to it. Deterministic: same input, same digest.
Layer makeLayer(const std::map<std::string, std::string>& files, Compression compression,
                bool busybox = false);
// A layer of `size` pseudo-random bytes in one file, uncompressed (for transfer tests).
Layer makeRandomLayer(size_t size, unsigned seed);
// `process` becomes the config's "config" object (Entrypoint, Cmd, Env, WorkingDir, User...).
Image makeImage(const std::vector<Layer>& layers, const Platform& platform,
                const nlohmann::json& process = {{"Cmd", {"/bin/sh"}}});
Index makeIndex(const std::vector<const Image*>& images, const char* mediaType = OCI_INDEX_TYPE);

// An OCI image layout folder, written as images and indexes are tagged.
class OciLayout {
 public:
  explicit OciLayout(std::string dir);
  void tag(const std::string& name, const Image& image);
  void tag(const std::string& name, const Index& index, const std::vector<const Image*>& images);
  void save();
  const std::string& dir() const { return dir_; }

 private:
  void addBlob(const std::string& digest, const std::string& content);

  std::string dir_;
  nlohmann::json index_;
};

// Registry storage holding the images below, pushed once per test binary with skopeo. Every
// test starts its own docker-registry on a copy of `storage`.
struct Seed {
  std::string storage;
  Image busybox;    // test/busybox: one gzip layer with busybox, OCI; also test/docker-busybox
                    // in Docker v2 schema 2 form
  Image multi;      // test/multi: gzip, zstd and uncompressed layers
  Image shared;     // test/shared: busybox's layer and one more
  Image foreign;    // arm64 (or s390x on arm64 hosts), never pullable here
  Image foreign2;   // ppc64le
  Index index;      // test/index: busybox (this host) and foreign
  Index otherOnly;  // test/otheronly: foreign and foreign2 only
};

const Seed& seed();

// A copy of the seed storage in `dir`, for one test's registry.
std::string copySeedStorage(const std::string& dir);

// The path of a blob's data file in docker-registry's filesystem storage.
std::string registryBlobPath(const std::string& storage, const std::string& digest);

}  // namespace crio::imaged::test
