// crio-imaged against imaged-fake-registry.py, which misbehaves on purpose: stalls, dropped
// connections, slow blobs, redirects to another origin, server errors, and manifests that are
// too large, of schema 1, or do not match their digest.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "crio-imaged/digest.h"
#include "imaged-test-images.h"
#include "imaged-test-support.h"

namespace crio::imaged::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class FailureTest : public ::testing::Test {
 protected:
  // Adds `image` under REPOSITORY:TAG to the spec, every blob with the normal behavior.
  void serve(const std::string& repository, const Image& image, const std::string& tag = "latest") {
    addManifest(repository, tag, image.manifest, OCI_MANIFEST_TYPE);
    addManifest(repository, image.manifestDigest, image.manifest, OCI_MANIFEST_TYPE);
    addBlob(image.configDigest, image.config);
    for (const auto& layer : image.layers)
      addBlob(layer.digest, layer.blob);
  }

  void addManifest(const std::string& repository, const std::string& reference,
                   const std::string& body, const std::string& type) {
    std::string file = dir_ / ("manifest-" + std::to_string(files_++));
    writeFile(file, body);
    spec_["manifests"][repository + "/" + reference] = {{"file", file}, {"content_type", type}};
  }

  void addBlob(const std::string& digest, const std::string& content) {
    std::string file = dir_ / ("blob-" + digest.substr(7));
    writeFile(file, content);
    spec_["blobs"][digest] = {{"file", file}, {"behavior", "normal"}};
  }

  void behave(const std::string& digest, const std::string& behavior, int param = 0) {
    spec_["blobs"][digest]["behavior"] = behavior;
    spec_["blobs"][digest]["param"] = param;
  }

  void start(const std::string& progressTimeout = "30s") {
    registry_ = std::make_unique<FakeRegistry>(dir_.path(), spec_);
    ImagedConfig config{{registry_->host()}, progressTimeout};
    imaged_ = std::make_unique<Imaged>(dir_.path(), config);
    client_ = std::make_unique<ImagedClient>(imaged_->socket());
  }

  std::string ref(const std::string& repository) const {
    return registry_->host() + "/" + repository;
  }

  // Requests for `digest`'s blob (through the registry path or a redirect target).
  std::vector<nlohmann::json> blobRequests(const std::string& digest) const {
    std::vector<nlohmann::json> out;
    for (auto& request : registry_->requests()) {
      std::string path = request["path"];
      if (path.find(digest) != std::string::npos) out.push_back(request);
    }
    return out;
  }

  TempDir dir_{"crio-imaged-failure-test"};
  nlohmann::json spec_ = {{"manifests", nlohmann::json::object()},
                          {"blobs", nlohmann::json::object()}};
  int files_ = 0;
  std::unique_ptr<FakeRegistry> registry_;
  std::unique_ptr<Imaged> imaged_;
  std::unique_ptr<ImagedClient> client_;
};

Image randomImage(size_t layerSize, unsigned seed, size_t layers = 1) {
  std::vector<Layer> list;
  for (size_t i = 0; i < layers; ++i)
    list.push_back(makeRandomLayer(layerSize, seed + static_cast<unsigned>(i)));
  return makeImage(list, hostPlatform());
}

TEST_F(FailureTest, StalledBlobFailsAfterProgressTimeout) {
  Image image = randomImage(512 * 1024, 1);
  serve("test/stall", image);
  behave(image.layers[0].digest, "stall");
  start("2s");
  auto pull = client_->resolve(ref("test/stall:latest"));
  auto started = Clock::now();
  Error error = errorFrom([&] { client_->fetch(pull, image.layers[0].digest); });
  auto elapsed = Clock::now() - started;
  EXPECT_EQ(error.category(), ErrorCategory::DEADLINE_EXCEEDED) << error.what();
  EXPECT_NE(std::string(error.what()).find("pull_progress_timeout"), std::string::npos)
      << error.what();
  EXPECT_GE(elapsed, 2s);
  EXPECT_LT(elapsed, 8s);
}

TEST_F(FailureTest, StalledDownloadResumesFromPartialFile) {
  Image image = randomImage(512 * 1024, 2);
  const std::string& digest = image.layers[0].digest;
  serve("test/stall", image);
  behave(digest, "stall-once");
  start("2s");
  auto pull = client_->resolve(ref("test/stall:latest"));
  Error error = errorFrom([&] { client_->fetch(pull, digest); });
  EXPECT_EQ(error.category(), ErrorCategory::DEADLINE_EXCEEDED) << error.what();
  std::string partial = imaged_->cacheDir() + "/partial/" + digest + ".part";
  ASSERT_TRUE(fs::exists(partial));
  uint64_t held = fs::file_size(partial);
  EXPECT_EQ(held, image.layers[0].blob.size() / 2);

  kj::AutoCloseFd fd = client_->fetch(pull, digest);
  EXPECT_EQ(sha256OfFd(fd.get()), digest);
  auto requests = blobRequests(digest);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["range"], "");
  EXPECT_EQ(requests[1]["range"], "bytes=" + std::to_string(held) + "-");
}

TEST_F(FailureTest, DroppedConnectionResumesWithRange) {
  Image image = randomImage(1024 * 1024, 3);
  const std::string& digest = image.layers[0].digest;
  serve("test/drop", image);
  behave(digest, "drop-once", 300000);
  start();
  auto pull = client_->resolve(ref("test/drop:latest"));
  kj::AutoCloseFd fd = client_->fetch(pull, digest);
  EXPECT_EQ(sha256OfFd(fd.get()), digest);
  EXPECT_EQ(sizeOfFd(fd.get()), image.layers[0].blob.size());
  auto requests = blobRequests(digest);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["range"], "");
  EXPECT_EQ(requests[1]["range"], "bytes=300000-");
}

TEST_F(FailureTest, LayersDownloadInParallel) {
  Image image = randomImage(256 * 1024, 10, 3);
  serve("test/slow", image);
  for (const auto& layer : image.layers)
    behave(layer.digest, "slow", 1200);
  start();
  auto pull = client_->resolve(ref("test/slow:latest"));
  std::vector<std::string> digests;
  for (const auto& layer : image.layers)
    digests.push_back(layer.digest);
  auto started = Clock::now();
  auto fds = client_->fetchAll(pull, digests);
  auto elapsed = Clock::now() - started;
  for (size_t i = 0; i < fds.size(); ++i)
    EXPECT_EQ(sha256OfFd(fds[i].get()), digests[i]);
  // One after another they would take 3.6 s.
  EXPECT_LT(elapsed, 2500ms);
}

TEST_F(FailureTest, SharedLayerDownloadsOnce) {
  Layer common = makeRandomLayer(256 * 1024, 20);
  Image first = makeImage({common, makeRandomLayer(1000, 21)}, hostPlatform());
  Image second = makeImage({common, makeRandomLayer(1000, 22)}, hostPlatform());
  serve("test/first", first);
  serve("test/second", second);
  behave(common.digest, "slow", 800);
  start();
  std::vector<schema::Pull::Client> pulls;
  pulls.emplace_back(client_->resolve(ref("test/first:latest")));
  pulls.emplace_back(client_->resolve(ref("test/second:latest")));
  auto fds = client_->fetchEach(pulls, {common.digest, common.digest});
  EXPECT_EQ(sha256OfFd(fds[0].get()), common.digest);
  EXPECT_EQ(sha256OfFd(fds[1].get()), common.digest);
  EXPECT_EQ(blobRequests(common.digest).size(), 1u);
}

TEST_F(FailureTest, RedirectDoesNotForwardAuthorization) {
  Image image = randomImage(64 * 1024, 30);
  serve("test/redirect", image);
  behave(image.layers[0].digest, "redirect");
  spec_["basic_auth"] = "bob:hunter2";
  start();
  auto pull = client_->resolve(ref("test/redirect:latest"), {"bob", "hunter2"});
  kj::AutoCloseFd fd = client_->fetch(pull, image.layers[0].digest);
  EXPECT_EQ(sha256OfFd(fd.get()), image.layers[0].digest);
  auto requests = blobRequests(image.layers[0].digest);
  bool sawRedirectTarget = false;
  for (auto& request : requests) {
    std::string path = request["path"];
    if (path.rfind("/data/", 0) == 0) {
      sawRedirectTarget = true;
      EXPECT_FALSE(request["authorization"].get<bool>()) << request.dump();
    }
  }
  EXPECT_TRUE(sawRedirectTarget);
}

TEST_F(FailureTest, ServerErrorsAreRetried) {
  Image image = randomImage(1000, 40);
  serve("test/flaky", image);
  spec_["fail_first"] = {{"/v2/test/flaky/manifests/latest", 2}};
  start();
  auto pull = client_->resolve(ref("test/flaky:latest"));
  EXPECT_EQ(client_->image(pull).manifestDigest, image.manifestDigest);
  int manifestRequests = 0;
  for (auto& request : registry_->requests()) {
    if (request["path"] == "/v2/test/flaky/manifests/latest") ++manifestRequests;
  }
  EXPECT_EQ(manifestRequests, 3);
}

TEST_F(FailureTest, PersistentServerErrorIsUnavailable) {
  Image image = randomImage(1000, 41);
  serve("test/down", image);
  spec_["fail_first"] = {{"/v2/test/down/manifests/latest", 100}};
  start();
  Error error = errorFrom([&] { client_->resolve(ref("test/down:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::UNAVAILABLE) << error.what();
  EXPECT_NE(std::string(error.what()).find("HTTP 503"), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("gave up after"), std::string::npos) << error.what();
}

TEST_F(FailureTest, OversizedManifestIsRejected) {
  Image image = randomImage(1000, 50);
  nlohmann::json manifest = nlohmann::json::parse(image.manifest);
  manifest["annotations"] = {{"padding", std::string(5 * 1024 * 1024, 'x')}};
  addManifest("test/huge", "latest", manifest.dump(), OCI_MANIFEST_TYPE);
  start();
  Error error = errorFrom([&] { client_->resolve(ref("test/huge:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
  EXPECT_NE(std::string(error.what()).find("4194304"), std::string::npos) << error.what();
}

TEST_F(FailureTest, Schema1ManifestIsRejected) {
  std::string body = R"({"schemaVersion":1,"name":"test/old","tag":"latest","fsLayers":[]})";
  addManifest("test/old", "latest", body,
              "application/vnd.docker.distribution.manifest.v1+prettyjws");
  start();
  Error error = errorFrom([&] { client_->resolve(ref("test/old:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
  EXPECT_NE(std::string(error.what()).find("schema 1"), std::string::npos) << error.what();
}

TEST_F(FailureTest, ManifestNotMatchingItsDigestIsRejected) {
  Image image = randomImage(1000, 60);
  Image other = randomImage(1000, 61);
  serve("test/liar", other);
  addManifest("test/liar", image.manifestDigest, other.manifest, OCI_MANIFEST_TYPE);
  start();
  Error error = errorFrom([&] { client_->resolve(ref("test/liar@") + image.manifestDigest); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
  EXPECT_NE(std::string(error.what()).find(other.manifestDigest), std::string::npos)
      << error.what();
}

TEST_F(FailureTest, ConfigWithWrongLayerCountIsRejected) {
  Image image = randomImage(1000, 70, 2);
  nlohmann::json config = nlohmann::json::parse(image.config);
  config["rootfs"]["diff_ids"].erase(1);
  image.config = config.dump();
  image.configDigest = sha256Of(image.config).text();
  nlohmann::json manifest = nlohmann::json::parse(image.manifest);
  manifest["config"]["digest"] = image.configDigest;
  manifest["config"]["size"] = image.config.size();
  image.manifest = manifest.dump();
  serve("test/inconsistent", image);
  start();
  Error error = errorFrom([&] { client_->resolve(ref("test/inconsistent:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
  EXPECT_NE(std::string(error.what()).find("2 layers but the image config has 1"),
            std::string::npos)
      << error.what();
}

}  // namespace
}  // namespace crio::imaged::test
