// crio-imaged against Debian's docker-registry: plain HTTP, TLS with certs.d, Basic (htpasswd)
// and Bearer token authentication, and registry storage damaged on purpose. Every test starts
// its own registry on a copy of the seed storage and its own crio-imaged, which runs as nobody
// with its seccomp filter on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "crio-imaged/credentials.h"
#include "imaged-test-images.h"
#include "imaged-test-support.h"

namespace crio::imaged::test {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_THROW(seed()); }

  // A plain-HTTP registry on a copy of the seed, and crio-imaged treating it as insecure.
  void startPlain() {
    storage_ = copySeedStorage(dir_.path());
    registry_ = std::make_unique<DockerRegistry>(dir_.path(), RegistryConfig{storage_});
    startImaged({registry_->host()});
  }

  void startImaged(std::vector<std::string> insecure) {
    imaged_ = std::make_unique<Imaged>(dir_.path(), ImagedConfig{std::move(insecure)});
    client_ = std::make_unique<ImagedClient>(imaged_->socket());
  }

  std::string ref(const std::string& repository) const {
    return registry_->host() + "/" + repository;
  }

  // Fetches every blob of `image` at once and checks each descriptor against its digest.
  void fetchAndVerify(schema::Pull::Client& pull, const ImageView& image) {
    std::vector<std::string> digests = {image.configDigest};
    for (const auto& layer : image.layers)
      digests.push_back(layer.digest);
    std::vector<kj::AutoCloseFd> fds = client_->fetchAll(pull, digests);
    ASSERT_EQ(fds.size(), digests.size());
    for (size_t i = 0; i < fds.size(); ++i) {
      EXPECT_EQ(sha256OfFd(fds[i].get()), digests[i]);
      EXPECT_EQ(fcntl(fds[i].get(), F_GETFL) & O_ACCMODE, O_RDONLY);
    }
    EXPECT_EQ(sizeOfFd(fds[0].get()), image.config.size());
    for (size_t i = 0; i < image.layers.size(); ++i)
      EXPECT_EQ(sizeOfFd(fds[i + 1].get()), image.layers[i].size);
  }

  TempDir dir_{"crio-imaged-registry-test"};
  std::string storage_;
  std::unique_ptr<DockerRegistry> registry_;
  std::unique_ptr<Imaged> imaged_;
  std::unique_ptr<ImagedClient> client_;
};

void expectLayersMatch(const ImageView& got, const Image& built) {
  ASSERT_EQ(got.layers.size(), built.layers.size());
  for (size_t i = 0; i < built.layers.size(); ++i) {
    EXPECT_EQ(got.layers[i].digest, built.layers[i].digest) << "layer " << i;
    EXPECT_EQ(got.layers[i].size, built.layers[i].blob.size()) << "layer " << i;
    EXPECT_EQ(got.layers[i].diffId, built.layers[i].diffId) << "layer " << i;
  }
}

TEST_F(RegistryTest, DaemonRunsAsNobodyWithSeccomp) {
  startPlain();
  ipc::DaemonInfo info = client_->info();
  EXPECT_EQ(info.name, "crio-imaged");
  EXPECT_EQ(info.seccomp, "filter");
  std::string status = readFile("/proc/" + std::to_string(imaged_->pid()) + "/status");
  EXPECT_NE(status.find("Seccomp:\t2"), std::string::npos) << status;
  EXPECT_NE(status.find("CapEff:\t0000000000000000"), std::string::npos) << status;
  EXPECT_NE(status.find("Uid:\t65534\t65534\t65534\t65534"), std::string::npos) << status;
}

TEST_F(RegistryTest, PullsOciImageOverHttp) {
  startPlain();
  const Image& built = seed().busybox;
  auto pull = client_->resolve(ref("test/busybox:latest"));
  ImageView image = client_->image(pull);
  EXPECT_EQ(image.name, ref("test/busybox:latest"));
  EXPECT_EQ(image.manifestMediaType, OCI_MANIFEST_TYPE);
  EXPECT_EQ(image.manifestDigest, built.manifestDigest);
  EXPECT_EQ(image.manifest, built.manifest);
  EXPECT_EQ(image.repoDigest, ref("test/busybox@") + built.manifestDigest);
  EXPECT_EQ(image.configDigest, built.configDigest);
  EXPECT_EQ(image.config, built.config);
  expectLayersMatch(image, built);
  EXPECT_EQ(image.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  fetchAndVerify(pull, image);
  EXPECT_TRUE(
      fs::exists(imaged_->cacheDir() + "/blobs/sha256/" + built.layers[0].digest.substr(7)));
}

TEST_F(RegistryTest, PullsDockerSchema2Image) {
  startPlain();
  auto pull = client_->resolve(ref("test/docker-busybox"));
  ImageView image = client_->image(pull);
  EXPECT_EQ(image.name, ref("test/docker-busybox:latest"));
  EXPECT_EQ(image.manifestMediaType, DOCKER_MANIFEST_TYPE);
  expectLayersMatch(image, seed().busybox);
  EXPECT_EQ(image.layers[0].mediaType, "application/vnd.docker.image.rootfs.diff.tar.gzip");
  fetchAndVerify(pull, image);
}

TEST_F(RegistryTest, PullsZstdAndUncompressedLayers) {
  startPlain();
  auto pull = client_->resolve(ref("test/multi:latest"));
  ImageView image = client_->image(pull);
  expectLayersMatch(image, seed().multi);
  ASSERT_EQ(image.layers.size(), 3u);
  EXPECT_EQ(image.layers[0].mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(image.layers[1].mediaType, "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_EQ(image.layers[2].mediaType, "application/vnd.oci.image.layer.v1.tar");
  fetchAndVerify(pull, image);
}

TEST_F(RegistryTest, IndexSelectsThisPlatform) {
  startPlain();
  auto pull = client_->resolve(ref("test/index:latest"));
  ImageView image = client_->image(pull);
  EXPECT_EQ(image.manifestDigest, seed().busybox.manifestDigest);
  EXPECT_EQ(image.repoDigest, ref("test/index@") + seed().index.digest);
  expectLayersMatch(image, seed().busybox);
  fetchAndVerify(pull, image);
}

TEST_F(RegistryTest, DockerManifestListSelectsThisPlatform) {
  startPlain();
  auto pull = client_->resolve(ref("test/docker-list:latest"));
  ImageView image = client_->image(pull);
  EXPECT_EQ(image.manifestMediaType, DOCKER_MANIFEST_TYPE);
  expectLayersMatch(image, seed().busybox);
  fetchAndVerify(pull, image);
}

TEST_F(RegistryTest, IndexWithoutThisPlatformNamesTheOffers) {
  startPlain();
  Error error = errorFrom([&] { client_->resolve(ref("test/otheronly:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::NOT_FOUND) << error.what();
  std::string message = error.what();
  EXPECT_NE(message.find(hostPlatform().text()), std::string::npos) << message;
  EXPECT_NE(message.find(seed().foreign.platform.text()), std::string::npos) << message;
  EXPECT_NE(message.find("linux/ppc64le"), std::string::npos) << message;
  EXPECT_NE(message.find("test/otheronly"), std::string::npos) << message;
}

TEST_F(RegistryTest, UnknownTagIsNotFound) {
  startPlain();
  Error error = errorFrom([&] { client_->resolve(ref("test/busybox:no-such-tag")); });
  EXPECT_EQ(error.category(), ErrorCategory::NOT_FOUND) << error.what();
  std::string message = error.what();
  EXPECT_NE(message.find(registry_->host() + "/test/busybox"), std::string::npos) << message;
  EXPECT_NE(message.find("no-such-tag"), std::string::npos) << message;
  EXPECT_NE(message.find("MANIFEST_UNKNOWN"), std::string::npos) << message;
}

// A registry that serves plain HTTP but is not configured as insecure: the error names the
// setting that fixes it.
TEST_F(RegistryTest, PlainHttpRegistryNotInsecureNamesTheFix) {
  storage_ = copySeedStorage(dir_.path());
  registry_ = std::make_unique<DockerRegistry>(dir_.path(), RegistryConfig{storage_});
  startImaged({});
  Error error = errorFrom([&] { client_->resolve(ref("test/busybox:1")); });
  EXPECT_EQ(error.category(), ErrorCategory::UNAVAILABLE) << error.what();
  std::string message = error.what();
  EXPECT_NE(message.find("insecure_registries"), std::string::npos) << message;
}

TEST_F(RegistryTest, BlobOutsideTheImageIsRejected) {
  startPlain();
  auto pull = client_->resolve(ref("test/busybox:latest"));
  Error error = errorFrom([&] { client_->fetch(pull, seed().multi.layers[1].digest); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
  error = errorFrom([&] { client_->fetch(pull, "sha256:../../etc/passwd"); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
}

TEST_F(RegistryTest, CachedBlobNeedsNoRegistry) {
  startPlain();
  auto pull = client_->resolve(ref("test/busybox:latest"));
  ImageView image = client_->image(pull);
  fetchAndVerify(pull, image);
  registry_->stop();
  kj::AutoCloseFd fd = client_->fetch(pull, image.layers[0].digest);
  EXPECT_EQ(sha256OfFd(fd.get()), image.layers[0].digest);
}

TEST_F(RegistryTest, CandidatesNeedNoNetwork) {
  startPlain();
  auto names = client_->candidates("127.0.0.1:1/some/app");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], "127.0.0.1:1/some/app:latest");
}

TEST_F(RegistryTest, CorruptBlobIsRejected) {
  startPlain();
  const Layer& layer = seed().busybox.layers[0];
  std::string damaged = layer.blob;
  damaged[damaged.size() / 2] ^= 0x55;
  writeFile(registryBlobPath(storage_, layer.digest), damaged);

  auto pull = client_->resolve(ref("test/busybox:latest"));
  Error error = errorFrom([&] { client_->fetch(pull, layer.digest); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
  std::string message = error.what();
  EXPECT_NE(message.find("does not match its digest"), std::string::npos) << message;
  EXPECT_NE(message.find(layer.digest), std::string::npos) << message;
  EXPECT_NE(message.find(registry_->host() + "/test/busybox"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(imaged_->cacheDir() + "/blobs/sha256/" + layer.digest.substr(7)));
  EXPECT_FALSE(fs::exists(imaged_->cacheDir() + "/partial/" + layer.digest + ".part"));
}

TEST_F(RegistryTest, TruncatedBlobIsRejected) {
  startPlain();
  const Layer& layer = seed().busybox.layers[0];
  writeFile(registryBlobPath(storage_, layer.digest), layer.blob.substr(0, layer.blob.size() / 2));

  auto pull = client_->resolve(ref("test/busybox:latest"));
  Error error = errorFrom([&] { client_->fetch(pull, layer.digest); });
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT) << error.what();
  std::string message = error.what();
  EXPECT_NE(message.find(std::to_string(layer.blob.size())), std::string::npos) << message;
  EXPECT_NE(message.find(layer.digest), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------
// TLS

class TlsTest : public RegistryTest {
 protected:
  // A CA, a server certificate for 127.0.0.1 signed by it, and a client pair.
  void makeCertificates() {
    auto run = [](const std::vector<std::string>& argv) { checkCommand(argv); };
    std::string d = dir_.path();
    run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key",
         "-out", d + "/ca.crt", "-days", "1", "-subj", "/CN=crio-imaged test CA"});
    writeFile(d + "/san.ext", "subjectAltName=IP:127.0.0.1\n");
    run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/server.key", "-out",
         d + "/server.csr", "-subj", "/CN=127.0.0.1"});
    run({"openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.crt", "-CAkey",
         d + "/ca.key", "-CAcreateserial", "-out", d + "/server.crt", "-days", "1", "-extfile",
         d + "/san.ext"});
    run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/client.key", "-out",
         d + "/client.csr", "-subj", "/CN=crio-imaged test client"});
    run({"openssl", "x509", "-req", "-in", d + "/client.csr", "-CA", d + "/ca.crt", "-CAkey",
         d + "/ca.key", "-CAcreateserial", "-out", d + "/client.crt", "-days", "1"});
  }

  void startTls(bool requireClientCertificate) {
    makeCertificates();
    storage_ = copySeedStorage(dir_.path());
    RegistryConfig config{storage_};
    config.tlsCert = dir_ / "server.crt";
    config.tlsKey = dir_ / "server.key";
    if (requireClientCertificate) config.clientCa = dir_ / "ca.crt";
    registry_ = std::make_unique<DockerRegistry>(dir_.path(), config);
    startImaged({});
    hostCerts_ = imaged_->certsDir() + "/" + registry_->host();
  }

  std::string hostCerts_;
};

TEST_F(TlsTest, TrustsCaFromCertsDir) {
  startTls(false);
  writeFile(hostCerts_ + "/ca.crt", readFile(dir_ / "ca.crt"));
  auto pull = client_->resolve(ref("test/busybox:latest"));
  ImageView image = client_->image(pull);
  expectLayersMatch(image, seed().busybox);
  fetchAndVerify(pull, image);
}

TEST_F(TlsTest, UnknownCaFailsClearly) {
  startTls(false);
  Error error = errorFrom([&] { client_->resolve(ref("test/busybox:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::UNAVAILABLE) << error.what();
  std::string message = error.what();
  EXPECT_NE(message.find("TLS"), std::string::npos) << message;
  EXPECT_NE(message.find("certificate"), std::string::npos) << message;
  EXPECT_NE(message.find(registry_->host()), std::string::npos) << message;
}

TEST_F(TlsTest, PresentsClientCertificate) {
  startTls(true);
  writeFile(hostCerts_ + "/ca.crt", readFile(dir_ / "ca.crt"));
  Error error = errorFrom([&] { client_->resolve(ref("test/busybox:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::UNAVAILABLE) << error.what();
  EXPECT_NE(std::string(error.what()).find("TLS"), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("bad certificate"), std::string::npos) << error.what();

  writeFile(hostCerts_ + "/client.cert", readFile(dir_ / "client.crt"));
  writeFile(hostCerts_ + "/client.key", readFile(dir_ / "client.key"));
  auto pull = client_->resolve(ref("test/busybox:latest"));
  fetchAndVerify(pull, client_->image(pull));
}

// ---------------------------------------------------------------------------------------------
// Authentication

TEST_F(RegistryTest, BasicAuthWithHtpasswd) {
  storage_ = copySeedStorage(dir_.path());
  std::string entry = checkCommand({"htpasswd", "-Bbn", "alice", "secret"});
  writeFile(dir_ / "htpasswd", entry);
  RegistryConfig config{storage_};
  config.htpasswd = dir_ / "htpasswd";
  registry_ = std::make_unique<DockerRegistry>(dir_.path(), config);
  startImaged({registry_->host()});
  std::string reference = ref("test/busybox:latest");

  Error error = errorFrom([&] { client_->resolve(reference); });
  EXPECT_EQ(error.category(), ErrorCategory::PERMISSION_DENIED) << error.what();
  EXPECT_NE(std::string(error.what()).find("requires credentials"), std::string::npos)
      << error.what();

  error = errorFrom([&] { client_->resolve(reference, {"alice", "wrong"}); });
  EXPECT_EQ(error.category(), ErrorCategory::PERMISSION_DENIED) << error.what();
  EXPECT_NE(std::string(error.what()).find("rejected the credentials"), std::string::npos)
      << error.what();
  EXPECT_EQ(std::string(error.what()).find("wrong"), std::string::npos) << error.what();

  auto pull = client_->resolve(reference, {"alice", "secret"});
  fetchAndVerify(pull, client_->image(pull));

  Credentials encoded;
  encoded.auth = base64Encode("alice:secret");
  auto again = client_->resolve(ref("test/multi:latest"), encoded);
  fetchAndVerify(again, client_->image(again));
  EXPECT_EQ(imaged_->log().find("secret"), std::string::npos);
}

class TokenAuthTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    tokens_ = std::make_unique<TokenServer>(dir_.path());
    storage_ = copySeedStorage(dir_.path());
    RegistryConfig config{storage_};
    config.tokenRealm = tokens_->realm();
    config.tokenCert = tokens_->certificate();
    registry_ = std::make_unique<DockerRegistry>(dir_.path(), config);
    // Insecure: the registry and the test's token realm are plain http.
    startImaged({registry_->host()});
  }

  std::unique_ptr<TokenServer> tokens_;
};

TEST_F(TokenAuthTest, AnonymousPullIsDenied) {
  Error error = errorFrom([&] { client_->resolve(ref("test/busybox:latest")); });
  EXPECT_EQ(error.category(), ErrorCategory::PERMISSION_DENIED) << error.what();
  EXPECT_NE(std::string(error.what()).find("has none"), std::string::npos) << error.what();
}

TEST_F(TokenAuthTest, WrongPasswordIsDenied) {
  Error error = errorFrom([&] { client_->resolve(ref("test/busybox:latest"), {"alice", "nope"}); });
  EXPECT_EQ(error.category(), ErrorCategory::PERMISSION_DENIED) << error.what();
  EXPECT_NE(std::string(error.what()).find("token service"), std::string::npos) << error.what();
}

TEST_F(TokenAuthTest, PasswordGetsOneTokenForTheWholePull) {
  auto pull = client_->resolve(ref("test/multi:latest"), {"alice", "secret"});
  fetchAndVerify(pull, client_->image(pull));
  auto requests = tokens_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["user"], "alice");

  // A second pull with the same credentials and scope uses the cached token.
  auto again = client_->resolve(ref("test/multi:latest"), {"alice", "secret"});
  client_->image(again);
  EXPECT_EQ(tokens_->requests().size(), 1u);
}

TEST_F(TokenAuthTest, IdentityTokenUsesRefreshGrant) {
  Credentials credentials;
  credentials.identityToken = "refresh-alice";
  auto pull = client_->resolve(ref("test/busybox:latest"), credentials);
  fetchAndVerify(pull, client_->image(pull));
  auto requests = tokens_->requests();
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests[0]["method"], "POST");
  EXPECT_EQ(requests[0]["result"], "issued");
}

TEST_F(TokenAuthTest, RegistryTokenIsSentAsIs) {
  std::string response = checkCommand(
      {"curl", "-sf", "-u", "alice:secret",
       tokens_->realm() + "?service=" + TOKEN_SERVICE + "&scope=repository:test/busybox:pull"});
  Credentials credentials;
  credentials.registryToken = nlohmann::json::parse(response)["token"];
  size_t before = tokens_->requests().size();
  auto pull = client_->resolve(ref("test/busybox:latest"), credentials);
  fetchAndVerify(pull, client_->image(pull));
  EXPECT_EQ(tokens_->requests().size(), before);
}

}  // namespace
}  // namespace crio::imaged::test
