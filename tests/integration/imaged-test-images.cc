#include "imaged-test-images.h"

#include <filesystem>
#include <random>
#include <stdexcept>

#include "crio-imaged/digest.h"

namespace crio::imaged::test {

namespace fs = std::filesystem;

namespace {

std::string digestOf(const std::string& content) {
  return sha256Of(content).text();
}

std::string tarOf(const std::string& rootfs) {
  std::string out = rootfs + ".tar";
  checkCommand({"tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner",
                "-C", rootfs, "-cf", out, "."});
  return out;
}

Layer layerFromTar(const std::string& tarPath, Compression compression) {
  Layer layer;
  std::string tar = readFile(tarPath);
  layer.diffId = digestOf(tar);
  switch (compression) {
    case Compression::NONE:
      layer.blob = tar;
      layer.mediaType = "application/vnd.oci.image.layer.v1.tar";
      break;
    case Compression::GZIP:
      checkCommand({"gzip", "-n", "-k", "-f", tarPath});
      layer.blob = readFile(tarPath + ".gz");
      layer.mediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
      break;
    case Compression::ZSTD:
      checkCommand({"zstd", "-q", "-f", tarPath, "-o", tarPath + ".zst"});
      layer.blob = readFile(tarPath + ".zst");
      layer.mediaType = "application/vnd.oci.image.layer.v1.tar+zstd";
      break;
  }
  layer.digest = digestOf(layer.blob);
  return layer;
}

nlohmann::json descriptor(const std::string& mediaType, const std::string& digest, size_t size) {
  return {{"mediaType", mediaType}, {"digest", digest}, {"size", size}};
}

nlohmann::json platformJson(const Platform& platform) {
  nlohmann::json out = {{"os", platform.os}, {"architecture", platform.architecture}};
  if (!platform.variant.empty()) out["variant"] = platform.variant;
  return out;
}

}  // namespace

Layer makeLayer(const std::map<std::string, std::string>& files, Compression compression,
                bool busybox) {
  TempDir dir("crio-imaged-layer");
  std::string rootfs = dir / "rootfs";
  makeDirs(rootfs);
  if (busybox) {
    makeDirs(rootfs + "/bin");
    fs::copy_file("/bin/busybox", rootfs + "/bin/busybox");
    fs::create_symlink("busybox", rootfs + "/bin/sh");
  }
  for (const auto& [path, content] : files)
    writeFile(rootfs + "/" + path, content);
  return layerFromTar(tarOf(rootfs), compression);
}

Layer makeRandomLayer(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string content(size, '\0');
  for (char& c : content)
    c = static_cast<char>(generator());
  Layer layer;
  layer.blob = content;
  layer.digest = digestOf(content);
  layer.diffId = layer.digest;
  layer.mediaType = "application/vnd.oci.image.layer.v1.tar";
  return layer;
}

Image makeImage(const std::vector<Layer>& layers, const Platform& platform,
                const nlohmann::json& process) {
  Image image;
  image.layers = layers;
  image.platform = platform;
  nlohmann::json diffIds = nlohmann::json::array();
  nlohmann::json layerDescriptors = nlohmann::json::array();
  for (const auto& layer : layers) {
    diffIds.push_back(layer.diffId);
    layerDescriptors.push_back(descriptor(layer.mediaType, layer.digest, layer.blob.size()));
  }
  nlohmann::json config = {{"architecture", platform.architecture},
                           {"os", platform.os},
                           {"config", process},
                           {"rootfs", {{"type", "layers"}, {"diff_ids", diffIds}}}};
  if (!platform.variant.empty()) config["variant"] = platform.variant;
  image.config = config.dump();
  image.configDigest = digestOf(image.config);
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", OCI_MANIFEST_TYPE},
                             {"config", descriptor("application/vnd.oci.image.config.v1+json",
                                                   image.configDigest, image.config.size())},
                             {"layers", layerDescriptors}};
  image.manifest = manifest.dump();
  image.manifestDigest = digestOf(image.manifest);
  return image;
}

Index makeIndex(const std::vector<const Image*>& images, const char* mediaType) {
  nlohmann::json manifests = nlohmann::json::array();
  for (const Image* image : images) {
    nlohmann::json entry =
        descriptor(OCI_MANIFEST_TYPE, image->manifestDigest, image->manifest.size());
    entry["platform"] = platformJson(image->platform);
    manifests.push_back(entry);
  }
  nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", mediaType}, {"manifests", manifests}};
  return Index{index.dump(), digestOf(index.dump())};
}

OciLayout::OciLayout(std::string dir) : dir_(std::move(dir)) {
  makeDirs(dir_ + "/blobs/sha256");
  writeFile(dir_ + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
  index_ = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array()}};
}

void OciLayout::addBlob(const std::string& digest, const std::string& content) {
  writeFile(dir_ + "/blobs/sha256/" + digest.substr(7), content);
}

void OciLayout::tag(const std::string& name, const Image& image) {
  for (const auto& layer : image.layers)
    addBlob(layer.digest, layer.blob);
  addBlob(image.configDigest, image.config);
  addBlob(image.manifestDigest, image.manifest);
  nlohmann::json entry = descriptor(OCI_MANIFEST_TYPE, image.manifestDigest, image.manifest.size());
  entry["annotations"] = {{"org.opencontainers.image.ref.name", name}};
  index_["manifests"].push_back(entry);
}

void OciLayout::tag(const std::string& name, const Index& index,
                    const std::vector<const Image*>& images) {
  for (const Image* image : images) {
    for (const auto& layer : image->layers)
      addBlob(layer.digest, layer.blob);
    addBlob(image->configDigest, image->config);
    addBlob(image->manifestDigest, image->manifest);
  }
  addBlob(index.digest, index.body);
  nlohmann::json entry = descriptor(OCI_INDEX_TYPE, index.digest, index.body.size());
  entry["annotations"] = {{"org.opencontainers.image.ref.name", name}};
  index_["manifests"].push_back(entry);
}

void OciLayout::save() {
  writeFile(dir_ + "/index.json", index_.dump());
}

namespace {

Platform otherPlatform() {
  Platform host = hostPlatform();
  if (host.architecture == "arm64") return {"linux", "s390x", ""};
  return {"linux", "arm64", "v8"};
}

void push(const std::string& layout, const std::string& tag, const std::string& destination,
          const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"skopeo", "copy", "--quiet", "--dest-tls-verify=false"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("oci:" + layout + ":" + tag);
  argv.push_back("docker://" + destination);
  checkCommand(argv);
}

Seed buildSeed() {
  static TempDir dir("crio-imaged-seed");
  Seed seed;
  Platform host = hostPlatform();
  Layer busybox = makeLayer({{"etc/hostname", "busybox\n"}}, Compression::GZIP, true);
  seed.busybox = makeImage({busybox}, host);
  seed.multi = makeImage({busybox, makeLayer({{"zstd/file", "zstd layer\n"}}, Compression::ZSTD),
                          makeLayer({{"plain/file", "plain layer\n"}}, Compression::NONE)},
                         host);
  seed.shared =
      makeImage({busybox, makeLayer({{"app/run", "shared app\n"}}, Compression::GZIP)}, host);
  seed.foreign =
      makeImage({makeLayer({{"arch", "foreign\n"}}, Compression::GZIP)}, otherPlatform());
  seed.foreign2 =
      makeImage({makeLayer({{"arch", "ppc64le\n"}}, Compression::GZIP)}, {"linux", "ppc64le", ""});
  seed.index = makeIndex({&seed.busybox, &seed.foreign});
  seed.otherOnly = makeIndex({&seed.foreign, &seed.foreign2});

  OciLayout layout(dir / "layout");
  layout.tag("busybox", seed.busybox);
  layout.tag("multi", seed.multi);
  layout.tag("shared", seed.shared);
  layout.tag("index", seed.index, {&seed.busybox, &seed.foreign});
  layout.tag("otheronly", seed.otherOnly, {&seed.foreign, &seed.foreign2});
  layout.save();

  seed.storage = dir / "storage";
  makeDirs(seed.storage);
  DockerRegistry registry(dir.path(), RegistryConfig{seed.storage});
  const std::string& host_ = registry.host();
  push(layout.dir(), "busybox", host_ + "/test/busybox:latest");
  push(layout.dir(), "busybox", host_ + "/test/docker-busybox:latest", {"--format", "v2s2"});
  // Without --preserve-digests skopeo would compress the uncompressed layer on the way.
  push(layout.dir(), "multi", host_ + "/test/multi:latest", {"--preserve-digests"});
  push(layout.dir(), "shared", host_ + "/test/shared:latest");
  push(layout.dir(), "index", host_ + "/test/index:latest", {"--all"});
  push(layout.dir(), "index", host_ + "/test/docker-list:latest", {"--all", "--format", "v2s2"});
  push(layout.dir(), "otheronly", host_ + "/test/otheronly:latest", {"--all"});
  registry.stop();
  return seed;
}

}  // namespace

const Seed& seed() {
  static const Seed built = buildSeed();
  return built;
}

std::string copySeedStorage(const std::string& dir) {
  std::string target = dir + "/storage";
  checkCommand({"cp", "-a", seed().storage, target});
  return target;
}

std::string registryBlobPath(const std::string& storage, const std::string& digest) {
  std::string hex = digest.substr(7);
  return storage + "/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex + "/data";
}

}  // namespace crio::imaged::test
