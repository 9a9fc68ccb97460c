// The CRI ImageService end to end: crio-cri, crio-imaged and crio-stored under a throwaway root,
// pulling from docker-registry (a copy of the seed storage) and from imaged-fake-registry.py,
// with registries.conf, policy.json and auth files written into the root. Covers name resolution
// (prefix remapping, short names, mirrors, blocked registries), policy, credentials, the image
// RPCs, and daemons killed in the middle of a pull.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "crio-imaged/credentials.h"
#include "crio-imaged/digest.h"
#include "imaged-test-images.h"
#include "imaged-test-support.h"
#include "tests/integration/suite.h"

namespace crio::imaged::test {
namespace {

using namespace std::chrono_literals;
using runtime::v1::Image;
namespace cri = runtime::v1;

constexpr const char* ACCEPT_ANYTHING = R"({"default": [{"type": "insecureAcceptAnything"}]})";

// An image served by a FakeRegistry: a small layer and the config, under several tags.
class FakeImages {
 public:
  explicit FakeImages(std::string dir) : dir_(std::move(dir)) { makeDirs(dir_); }

  void serve(const std::string& repository, const crio::imaged::test::Image& image,
             const std::string& tag) {
    addManifest(repository + "/" + tag, image.manifest);
    addManifest(repository + "/" + image.manifestDigest, image.manifest);
    addBlob(image.configDigest, image.config);
    for (const auto& layer : image.layers)
      addBlob(layer.digest, layer.blob);
  }

  void behave(const std::string& digest, const std::string& behavior, int param) {
    spec_["blobs"][digest]["behavior"] = behavior;
    spec_["blobs"][digest]["param"] = param;
  }

  void requireBasicAuth(const std::string& userPassword) { spec_["basic_auth"] = userPassword; }

  std::unique_ptr<FakeRegistry> start() { return std::make_unique<FakeRegistry>(dir_, spec_); }

 private:
  void addManifest(const std::string& key, const std::string& body) {
    std::string file = dir_ + "/manifest-" + std::to_string(files_++);
    writeFile(file, body);
    spec_["manifests"][key] = {{"file", file}, {"content_type", OCI_MANIFEST_TYPE}};
  }

  void addBlob(const std::string& digest, const std::string& content) {
    std::string file = dir_ + "/blob-" + digest.substr(7);
    writeFile(file, content);
    spec_["blobs"][digest] = {{"file", file}, {"behavior", "normal"}};
  }

  std::string dir_;
  nlohmann::json spec_ = {{"manifests", nlohmann::json::object()},
                          {"blobs", nlohmann::json::object()}};
  int files_ = 0;
};

crio::imaged::test::Image smallImage(const std::string& marker, const std::string& user = "") {
  Layer layer = makeLayer({{"etc/marker", marker}}, Compression::GZIP);
  nlohmann::json process = {{"Cmd", {"/bin/sh"}}};
  if (!user.empty()) process["User"] = user;
  return makeImage({layer}, hostPlatform(), process);
}

// A layer whose only member is "../../escape": unpacking it as written would leave the root.
Layer traversalLayer(const std::string& dir) {
  std::string tar = dir + "/traversal.tar";
  checkCommand({pythonInterpreter(), "-c",
                "import io, sys, tarfile\n"
                "with tarfile.open(sys.argv[1], 'w') as t:\n"
                "    data = b'escaped'\n"
                "    info = tarfile.TarInfo('../../escape')\n"
                "    info.size = len(data)\n"
                "    t.addfile(info, io.BytesIO(data))\n",
                tar});
  Layer layer;
  layer.blob = readFile(tar);
  layer.digest = sha256Of(layer.blob).text();
  layer.diffId = layer.digest;
  layer.mediaType = "application/vnd.oci.image.layer.v1.tar";
  return layer;
}

// GET requests for `digest`'s blob.
size_t blobGets(const FakeRegistry& registry, const std::string& digest) {
  size_t count = 0;
  for (auto& request : registry.requests()) {
    std::string path = request["path"];
    if (request["method"] == "GET" && path.find("/blobs/" + digest) != std::string::npos) ++count;
  }
  return count;
}

class ImagesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_THROW(seed()); }

  // docker-registry on a copy of the seed: "example.test" is remapped to it, and it is the one
  // unqualified search registry.
  void startRegistry() {
    storage_ = copySeedStorage(dir_.path());
    registry_ = std::make_unique<DockerRegistry>(dir_.path(), RegistryConfig{storage_});
  }

  std::string baseRegistriesConf(const std::string& searchRegistries = R"(["example.test"])",
                                 const std::string& mode = "enforcing") const {
    std::string host = registry_->host();
    return "unqualified-search-registries = " + searchRegistries + "\nshort-name-mode = \"" + mode +
           "\"\n\n[[registry]]\nprefix = \"example.test\"\nlocation = \"" + host +
           "\"\ninsecure = true\n\n[[registry]]\nlocation = \"" + host + "\"\ninsecure = true\n";
  }

  void writeRegistriesConf(const std::string& text) {
    writeFile(suite_.root() + "/etc/containers/registries.conf", text);
  }

  void writePolicy(const std::string& text) {
    writeFile(suite_.root() + "/etc/containers/policy.json", text);
  }

  void startSuite() { ASSERT_NO_THROW(suite_.startAll()); }

  grpc::Status pull(const std::string& image, std::string* ref = nullptr,
                    const cri::AuthConfig* auth = nullptr) {
    cri::PullImageRequest request;
    request.mutable_image()->set_image(image);
    if (auth != nullptr) *request.mutable_auth() = *auth;
    cri::PullImageResponse response;
    auto context = crio::testing::rpcContext(90s);
    grpc::Status status = suite_.images().PullImage(context.get(), request, &response);
    if (ref != nullptr) *ref = response.image_ref();
    return status;
  }

  std::vector<Image> list(const std::string& filter = "") {
    cri::ListImagesRequest request;
    if (!filter.empty()) request.mutable_filter()->mutable_image()->set_image(filter);
    cri::ListImagesResponse response;
    auto context = crio::testing::rpcContext();
    grpc::Status status = suite_.images().ListImages(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.images().begin(), response.images().end()};
  }

  cri::ImageStatusResponse status(const std::string& image, bool verbose = false) {
    cri::ImageStatusRequest request;
    request.mutable_image()->set_image(image);
    request.set_verbose(verbose);
    cri::ImageStatusResponse response;
    auto context = crio::testing::rpcContext();
    grpc::Status status = suite_.images().ImageStatus(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  grpc::Status remove(const std::string& image) {
    cri::RemoveImageRequest request;
    request.mutable_image()->set_image(image);
    cri::RemoveImageResponse response;
    auto context = crio::testing::rpcContext(30s);
    return suite_.images().RemoveImage(context.get(), request, &response);
  }

  cri::FilesystemUsage imageFs() {
    cri::ImageFsInfoRequest request;
    cri::ImageFsInfoResponse response;
    auto context = crio::testing::rpcContext();
    grpc::Status status = suite_.images().ImageFsInfo(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.image_filesystems_size(), 1);
    return response.image_filesystems_size() > 0 ? response.image_filesystems(0)
                                                 : cri::FilesystemUsage();
  }

  std::string logs() {
    std::string out;
    for (const char* name : {"crio-cri", "crio-imaged", "crio-stored"}) {
      if (auto* process = suite_.daemon(name)) out += process->log();
    }
    return out;
  }

  // Pulls `image` in the background, waits until `registry` serves `digest`'s blob, then kills
  // `daemon` with SIGKILL. Returns the pull's status.
  grpc::Status pullAndKill(const std::string& image, const FakeRegistry& registry,
                           const std::string& digest, const std::string& daemon) {
    grpc::Status result;
    std::atomic<bool> done = false;
    std::thread puller([&] {
      result = pull(image);
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (blobGets(registry, digest) == 0 && !done &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(done) << "the pull ended before the blob was requested: "
                       << result.error_message();
    suite_.daemon(daemon)->kill9();
    puller.join();
    return result;
  }

  TempDir dir_{"crio-images-test"};
  std::string storage_;
  std::unique_ptr<DockerRegistry> registry_;
  std::unique_ptr<FakeRegistry> fake_;
  crio::testing::Suite suite_;
};

bool hasTag(const Image& image, const std::string& tag) {
  for (const auto& name : image.repo_tags())
    if (name == tag) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Names

TEST_F(ImagesTest, PullByTagIdsAgree) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();

  std::string ref;
  grpc::Status status = pull("example.test/test/busybox:latest", &ref);
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  EXPECT_EQ(ref, seed().busybox.configDigest);

  std::vector<Image> images = list();
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].id(), ref);
  // Prefix remapping: fetched from 127.0.0.1:PORT, named as requested.
  EXPECT_TRUE(hasTag(images[0], "example.test/test/busybox:latest"));
  ASSERT_EQ(images[0].repo_tags_size(), 1);
  ASSERT_EQ(images[0].repo_digests_size(), 1);
  EXPECT_EQ(images[0].repo_digests(0),
            "example.test/test/busybox@" + seed().busybox.manifestDigest);
  EXPECT_EQ(this->status("example.test/test/busybox:latest").image().id(), ref);
  EXPECT_EQ(this->status("example.test/test/busybox").image().id(), ref);
}

TEST_F(ImagesTest, PullByDigest) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();

  std::string name = "example.test/test/busybox@" + seed().busybox.manifestDigest;
  std::string ref;
  grpc::Status status = pull(name, &ref);
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  EXPECT_EQ(ref, seed().busybox.configDigest);
  cri::ImageStatusResponse response = this->status(name);
  EXPECT_EQ(response.image().id(), ref);
  ASSERT_EQ(response.image().repo_digests_size(), 1);
  EXPECT_EQ(response.image().repo_digests(0), name);
}

TEST_F(ImagesTest, ShortNameUsesSearchRegistry) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();

  grpc::Status status = pull("test/busybox");
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  std::vector<Image> images = list();
  ASSERT_EQ(images.size(), 1u);
  EXPECT_TRUE(hasTag(images[0], "example.test/test/busybox:latest"));
  EXPECT_EQ(this->status("test/busybox").image().id(), images[0].id());
}

TEST_F(ImagesTest, AmbiguousShortNameListsCandidates) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf(R"(["example.test", "other.test"])", "enforcing"));
  startSuite();

  grpc::Status status = pull("test/busybox");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("example.test/test/busybox"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("other.test/test/busybox"), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(list().empty());
}

TEST_F(ImagesTest, BlockedRegistryServedByMirror) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf() + "\n[[registry]]\nprefix = \"blocked.test\"\n" +
                      "location = \"blocked.test\"\nblocked = true\n\n[[registry.mirror]]\n" +
                      "location = \"" + registry_->host() + "\"\ninsecure = true\n\n" +
                      "[[registry]]\nprefix = \"nomirror.test\"\nlocation = \"nomirror.test\"\n" +
                      "blocked = true\n");
  startSuite();

  grpc::Status status = pull("blocked.test/test/busybox");
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  ASSERT_EQ(list().size(), 1u);
  EXPECT_TRUE(hasTag(list()[0], "blocked.test/test/busybox:latest"));

  status = pull("nomirror.test/test/busybox");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("nomirror.test"), std::string::npos)
      << status.error_message();
}

TEST_F(ImagesTest, FailingMirrorFallsBackThenReportsAll) {
  startRegistry();
  int deadPort = freePort();
  std::string dead = "127.0.0.1:" + std::to_string(deadPort);
  writeRegistriesConf(baseRegistriesConf() + "\n[[registry]]\nprefix = \"fallback.test\"\n" +
                      "location = \"" + registry_->host() + "\"\ninsecure = true\n\n" +
                      "[[registry.mirror]]\nlocation = \"" + dead + "/mirror\"\ninsecure = true\n" +
                      "\n[[registry]]\nprefix = \"broken.test\"\nlocation = \"" + dead +
                      "/primary\"\ninsecure = true\n\n[[registry.mirror]]\nlocation = \"" + dead +
                      "/mirror\"\ninsecure = true\n");
  startSuite();

  grpc::Status status = pull("fallback.test/test/busybox");
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  EXPECT_TRUE(hasTag(list()[0], "fallback.test/test/busybox:latest"));

  status = pull("broken.test/test/busybox");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_NE(status.error_message().find(dead + "/mirror/test/busybox"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find(dead + "/primary/test/busybox"), std::string::npos)
      << status.error_message();
}

TEST_F(ImagesTest, SighupReloadsRegistriesConf) {
  startRegistry();
  std::string late = "\n[[registry]]\nprefix = \"late.test\"\nlocation = \"late.test\"\n";
  writeRegistriesConf(baseRegistriesConf() + late + "blocked = true\n");
  startSuite();
  EXPECT_EQ(pull("late.test/test/busybox").error_code(), grpc::StatusCode::PERMISSION_DENIED);

  writeRegistriesConf(baseRegistriesConf() + "\n[[registry]]\nprefix = \"late.test\"\n" +
                      "location = \"" + registry_->host() + "/test\"\ninsecure = true\n");
  ::kill(suite_.daemon("crio-imaged")->pid(), SIGHUP);
  grpc::Status status;
  for (int i = 0; i < 50; ++i) {
    status = pull("late.test/busybox");
    if (status.ok()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  EXPECT_TRUE(hasTag(list()[0], "late.test/busybox:latest"));
}

TEST_F(ImagesTest, ManifestListWithoutPlatformNamesOffers) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();

  grpc::Status status = pull("example.test/test/otheronly");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find(seed().foreign.platform.text()), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find(seed().foreign2.platform.text()), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(list().empty());
}

// ---------------------------------------------------------------------------------------------
// Policy

TEST_F(ImagesTest, PolicyRejectIsPermissionDenied) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  writePolicy(R"({"default": [{"type": "insecureAcceptAnything"}],
                  "transports": {"docker": {"example.test/test": [{"type": "reject"}]}}})");
  startSuite();

  grpc::Status status = pull("example.test/test/busybox");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("example.test/test"), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(list().empty());
  // The scope is the logical name: the same image under its physical name is accepted.
  status = pull(registry_->host() + "/test/busybox");
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(ImagesTest, SignedByFailsClosed) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  writePolicy(R"({"default": [{"type": "signedBy", "keyType": "GPGKeys",
                               "keyPath": "/etc/pki/key.gpg"}]})");
  startSuite();

  grpc::Status status = pull("example.test/test/busybox");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("not supported yet"), std::string::npos)
      << status.error_message();
  EXPECT_TRUE(list().empty());
}

TEST_F(ImagesTest, MissingPolicyFailsPrecondition) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  std::filesystem::remove(suite_.root() + "/etc/containers/policy.json");
  startSuite();

  grpc::Status status = pull("example.test/test/busybox");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("policy.json"), std::string::npos)
      << status.error_message();

  writePolicy(ACCEPT_ANYTHING);
  ::kill(suite_.daemon("crio-imaged")->pid(), SIGHUP);
  for (int i = 0; i < 50 && !status.ok(); ++i) {
    std::this_thread::sleep_for(100ms);
    status = pull("example.test/test/busybox");
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// ---------------------------------------------------------------------------------------------
// Credentials

class AuthTest : public ImagesTest {
 protected:
  // A fake registry that demands alice:secret, remapped from "auth.test".
  void startAuthRegistry() {
    FakeImages images(dir_ / "auth");
    images.serve("private/app", smallImage("private"), "latest");
    images.requireBasicAuth("alice:secret");
    fake_ = images.start();
    writeRegistriesConf("[[registry]]\nprefix = \"auth.test\"\nlocation = \"" + fake_->host() +
                        "\"\ninsecure = true\n\n[[registry]]\nlocation = \"" + fake_->host() +
                        "\"\ninsecure = true\n");
  }

  static cri::AuthConfig alice() {
    cri::AuthConfig auth;
    auth.set_username("alice");
    auth.set_password("secret");
    return auth;
  }
};

TEST_F(AuthTest, RootOnlyAuthFileIsUsed) {
  startAuthRegistry();
  std::string auth = base64Encode("alice:secret");
  writeFile(suite_.root() + "/run/containers/0/auth.json",
            R"({"auths": {")" + fake_->host() + R"(": {"auth": ")" + auth + R"("}}})", 0600);
  startSuite();

  grpc::Status status = pull("auth.test/private/app");
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  // A reload runs as the user nobody, cannot read the root-only file, and keeps what it read at
  // start.
  ::kill(suite_.daemon("crio-imaged")->pid(), SIGHUP);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(remove("auth.test/private/app").ok());
  status = pull("auth.test/private/app");
  EXPECT_TRUE(status.ok()) << status.error_message() << logs();
}

TEST_F(AuthTest, RequestCredentialsOnlyForLogicalHost) {
  startAuthRegistry();
  startSuite();
  cri::AuthConfig auth = alice();

  // Issued for auth.test, so they are not sent to the location it is remapped to.
  grpc::Status status = pull("auth.test/private/app", nullptr, &auth);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();

  status = pull(fake_->host() + "/private/app", nullptr, &auth);
  EXPECT_TRUE(status.ok()) << status.error_message() << logs();
}

// ---------------------------------------------------------------------------------------------
// Image RPCs

TEST_F(ImagesTest, ImageStatusOfAbsentImageIsEmpty) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();

  cri::ImageStatusResponse response = status("example.test/test/absent:1");
  EXPECT_FALSE(response.has_image());
  EXPECT_TRUE(response.info().empty());
}

TEST_F(ImagesTest, ImageStatusVerboseHasInfo) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();
  ASSERT_TRUE(pull("example.test/test/busybox").ok());

  cri::ImageStatusResponse response = status("example.test/test/busybox", true);
  ASSERT_TRUE(response.has_image());
  ASSERT_EQ(response.info().count("info"), 1u);
  auto info = nlohmann::json::parse(response.info().at("info"));
  EXPECT_EQ(info["id"], response.image().id());
  EXPECT_EQ(info["imageSpec"]["rootfs"]["type"], "layers");
  EXPECT_FALSE(status("example.test/test/busybox", false).info().count("info"));
}

TEST_F(ImagesTest, UserComesFromImageConfig) {
  FakeImages images(dir_ / "users");
  images.serve("numeric", smallImage("numeric", "1002"), "latest");
  images.serve("named", smallImage("named", "www-data"), "latest");
  images.serve("group", smallImage("group", "1003:1004"), "latest");
  fake_ = images.start();
  writeRegistriesConf("[[registry]]\nlocation = \"" + fake_->host() + "\"\ninsecure = true\n");
  startSuite();

  for (const char* name : {"numeric", "named", "group"}) {
    grpc::Status status = pull(fake_->host() + "/" + name);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error_message() << logs();
  }
  Image numeric = status(fake_->host() + "/numeric").image();
  ASSERT_TRUE(numeric.has_uid());
  EXPECT_EQ(numeric.uid().value(), 1002);
  EXPECT_EQ(numeric.username(), "");
  Image named = status(fake_->host() + "/named").image();
  EXPECT_FALSE(named.has_uid());
  EXPECT_EQ(named.username(), "www-data");
  Image group = status(fake_->host() + "/group").image();
  ASSERT_TRUE(group.has_uid());
  EXPECT_EQ(group.uid().value(), 1003);
}

TEST_F(ImagesTest, ListImagesFilter) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();
  ASSERT_TRUE(pull("example.test/test/busybox").ok());
  ASSERT_TRUE(pull("example.test/test/multi").ok());

  EXPECT_EQ(list().size(), 2u);
  std::vector<Image> filtered = list("example.test/test/multi:latest");
  ASSERT_EQ(filtered.size(), 1u);
  EXPECT_TRUE(hasTag(filtered[0], "example.test/test/multi:latest"));
  EXPECT_TRUE(list("example.test/test/absent").empty());
}

TEST_F(ImagesTest, RemoveByTagRemovesEveryTag) {
  FakeImages images(dir_ / "tags");
  crio::imaged::test::Image image = smallImage("tags");
  images.serve("app", image, "v1");
  images.serve("app", image, "v2");
  fake_ = images.start();
  writeRegistriesConf("[[registry]]\nlocation = \"" + fake_->host() + "\"\ninsecure = true\n");
  startSuite();

  ASSERT_TRUE(pull(fake_->host() + "/app:v1").ok());
  ASSERT_TRUE(pull(fake_->host() + "/app:v2").ok());
  std::vector<Image> listed = list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].repo_tags_size(), 2);

  grpc::Status removed = remove(fake_->host() + "/app:v1");
  ASSERT_TRUE(removed.ok()) << removed.error_message();
  EXPECT_TRUE(list().empty());
  EXPECT_FALSE(status(fake_->host() + "/app:v2").has_image());
}

TEST_F(ImagesTest, RemoveAbsentImageSucceeds) {
  startSuite();
  grpc::Status removed = remove("example.test/test/absent:1");
  EXPECT_TRUE(removed.ok()) << removed.error_message();
  removed = remove(std::string(64, 'a'));
  EXPECT_TRUE(removed.ok()) << removed.error_message();
}

TEST_F(ImagesTest, ImageFsInfoTracksUsage) {
  startRegistry();
  writeRegistriesConf(baseRegistriesConf());
  startSuite();

  cri::FilesystemUsage before = imageFs();
  EXPECT_NE(before.fs_id().mountpoint(), "");
  ASSERT_TRUE(pull("example.test/test/busybox").ok());
  cri::FilesystemUsage pulled = imageFs();
  EXPECT_EQ(pulled.fs_id().mountpoint(), before.fs_id().mountpoint());
  EXPECT_GT(pulled.used_bytes().value(), before.used_bytes().value());
  EXPECT_GT(pulled.inodes_used().value(), 0u);

  ASSERT_TRUE(remove("example.test/test/busybox").ok());
  cri::FilesystemUsage removed = imageFs();
  EXPECT_LT(removed.used_bytes().value(), pulled.used_bytes().value());
}

// ---------------------------------------------------------------------------------------------
// Concurrency, hostile content and daemons killed mid-pull

TEST_F(ImagesTest, ConcurrentPullsDownloadBlobsOnce) {
  FakeImages images(dir_ / "concurrent");
  crio::imaged::test::Image image = smallImage("concurrent");
  images.serve("app", image, "latest");
  images.behave(image.layers[0].digest, "slow", 1500);
  fake_ = images.start();
  writeRegistriesConf("[[registry]]\nlocation = \"" + fake_->host() + "\"\ninsecure = true\n");
  startSuite();

  grpc::Status first, second;
  std::thread a([&] { first = pull(fake_->host() + "/app"); });
  std::thread b([&] { second = pull(fake_->host() + "/app"); });
  a.join();
  b.join();
  ASSERT_TRUE(first.ok()) << first.error_message() << logs();
  ASSERT_TRUE(second.ok()) << second.error_message() << logs();
  EXPECT_EQ(blobGets(*fake_, image.layers[0].digest), 1u);
  EXPECT_EQ(blobGets(*fake_, image.configDigest), 1u);
  EXPECT_EQ(list().size(), 1u);
}

TEST_F(ImagesTest, HostileLayerIsRejected) {
  FakeImages images(dir_ / "hostile");
  images.serve("evil", makeImage({traversalLayer(dir_.path())}, hostPlatform()), "latest");
  images.serve("good", smallImage("good"), "latest");
  fake_ = images.start();
  writeRegistriesConf("[[registry]]\nlocation = \"" + fake_->host() + "\"\ninsecure = true\n");
  startSuite();
  ASSERT_TRUE(pull(fake_->host() + "/good").ok());

  grpc::Status status = pull(fake_->host() + "/evil");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error_message().find("escape"), std::string::npos) << status.error_message();
  std::vector<Image> listed = list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(hasTag(listed[0], fake_->host() + "/good:latest"));
  EXPECT_FALSE(std::filesystem::exists(suite_.root() + "/var/lib/crio/escape"));
  EXPECT_FALSE(std::filesystem::exists(suite_.root() + "/var/lib/escape"));
}

class KillTest : public ImagesTest {
 protected:
  void startSlow() {
    FakeImages images(dir_ / "slow");
    image_ = smallImage("slow");
    images.serve("app", image_, "latest");
    images.behave(image_.layers[0].digest, "slow", 4000);
    fake_ = images.start();
    writeRegistriesConf("[[registry]]\nlocation = \"" + fake_->host() + "\"\ninsecure = true\n");
    startSuite();
  }

  // The pull either failed with UNAVAILABLE naming the daemon or succeeded after a reconnect,
  // and storage contains the image only in the second case.
  void expectCleanOutcome(const grpc::Status& status, const std::string& daemon) {
    if (status.ok()) {
      EXPECT_EQ(list().size(), 1u);
      return;
    }
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    EXPECT_NE(status.error_message().find(daemon), std::string::npos) << status.error_message();
  }

  crio::imaged::test::Image image_;
};

TEST_F(KillTest, ImagedKilledMidPull) {
  startSlow();
  auto started = std::chrono::steady_clock::now();
  grpc::Status status =
      pullAndKill(fake_->host() + "/app", *fake_, image_.layers[0].digest, "crio-imaged");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
  expectCleanOutcome(status, "crio-imaged");
  if (!status.ok()) {
    EXPECT_TRUE(list().empty());
  }

  ASSERT_NO_THROW(suite_.startImaged());
  ASSERT_TRUE(suite_.waitRuntimeReady(true, 20s)) << logs();
  status = pull(fake_->host() + "/app");
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  EXPECT_EQ(list().size(), 1u);
}

TEST_F(KillTest, StoredKilledMidPull) {
  startSlow();
  auto started = std::chrono::steady_clock::now();
  grpc::Status status =
      pullAndKill(fake_->host() + "/app", *fake_, image_.layers[0].digest, "crio-stored");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
  // Storage can be listed only once crio-stored runs again and crio-cri has reconnected.
  ASSERT_NO_THROW(suite_.startStored());
  ASSERT_TRUE(suite_.waitRuntimeReady(true, 20s)) << logs();
  expectCleanOutcome(status, "crio-stored");
  if (!status.ok()) {
    EXPECT_TRUE(list().empty());
  }
  status = pull(fake_->host() + "/app");
  ASSERT_TRUE(status.ok()) << status.error_message() << logs();
  EXPECT_EQ(list().size(), 1u);
}

}  // namespace
}  // namespace crio::imaged::test
