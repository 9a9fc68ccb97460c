// crio-stored as its own process (privileges dropped, seccomp filter on), driven over its unix
// socket the way crio-cri drives it: layer blobs go over as file descriptors behind FileHandle
// capabilities, never as bytes in messages.
#include <capnp/rpc-twoparty.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/sha256.h"
#include "crio-stored/digest.h"
#include "crio-stored/test-tarball.h"
#include "crio-stored/unique-fd.h"
#include "ipc/errors.h"
#include "ipc/stored.capnp.h"
#include "ipc/unix-socket.h"

namespace crio::stored {
namespace {

namespace fs = std::filesystem;
namespace schema = ipc::schema;
using testing::Spec;
using testing::TarBuilder;

constexpr const char* GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

// Serves one open file as a FileHandle: the descriptor travels with the capability.
class BlobFile final : public schema::FileHandle::Server {
 public:
  explicit BlobFile(const std::string& path) : fd_(open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (!fd_) throw std::runtime_error("open " + path);
  }
  kj::Maybe<int> getFd() override { return fd_.get(); }
  kj::Promise<void> size(SizeContext context) override {
    struct stat st;
    fstat(fd_.get(), &st);
    context.getResults().setSize(static_cast<uint64_t>(st.st_size));
    return kj::READY_NOW;
  }

 private:
  UniqueFd fd_;
};

// One running crio-stored.
class Daemon {
 public:
  explicit Daemon(const std::string& root) : root_(root) {
    std::string binary = std::string(CRIO_BUILD_DIR) + "/crio-stored/crio-stored";
    pid_ = fork();
    if (pid_ == 0) {
      int log = open((root + "/daemon.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(log, 1);
      dup2(log, 2);
      execl(binary.c_str(), binary.c_str(), "--root", root.c_str(), "--log-level", "debug",
            nullptr);
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        close(ipc::connectUnixSocket(socket(), {0}));
        return;
      } catch (const Error&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
    }
    throw std::runtime_error("crio-stored did not start; see " + root + "/daemon.log");
  }
  ~Daemon() { stop(SIGTERM); }

  void stop(int signal) {
    if (pid_ <= 0) return;
    kill(pid_, signal);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string socket() const { return root_ + "/run/crio/stored.sock"; }
  pid_t pid() const { return pid_; }

 private:
  std::string root_;
  pid_t pid_ = -1;
};

// A Cap'n Proto client of the daemon, with fd passing as crio-cri connects.
struct Client {
  explicit Client(kj::AsyncIoContext& io, const std::string& socket)
      : stream(io.lowLevelProvider->wrapUnixSocketFd(ipc::connectUnixSocket(socket, {0}),
                                                     kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP)),
        rpc(*stream, 4),
        stored(rpc.bootstrap().castAs<schema::Stored>()) {}

  kj::Own<kj::AsyncCapabilityStream> stream;
  capnp::TwoPartyClient rpc;
  schema::Stored::Client stored;
};

class StoredIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (the daemon keeps owner capabilities)";
  }

  std::string storage() { return dir_.path() + "/var/lib/crio/storage"; }

  // Writes `tar` gzipped to a real file and returns its path.
  std::string writeBlob(const std::string& tar, const std::string& name) {
    std::string path = dir_.path() + "/" + name + ".tar.gz";
    std::ofstream(path, std::ios::binary) << testing::gzip(tar);
    return path;
  }

  kj::Promise<capnp::Response<schema::Stored::ImportLayerResults>> importLayer(
      Client& client, const std::string& blobPath, const std::string& diffId,
      const std::string& parent) {
    auto request = client.stored.importLayerRequest();
    request.setFile(kj::heap<BlobFile>(blobPath));
    request.setMediaType(GZIP);
    request.setDiffId(diffId);
    request.setParentChainId(parent);
    return request.send();
  }

  testing::TempDir dir_;
  // Behind a pointer: the fixture's destructor must stay noexcept.
  std::unique_ptr<kj::AsyncIoContext> ioHolder_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::AsyncIoContext& io_ = *ioHolder_;
};

TEST_F(StoredIntegrationTest, ImportsCommitsFindsAndRemovesOverTheSocket) {
  Daemon daemon(dir_.path());
  Client client(io_, daemon.socket());
  auto& ws = io_.waitScope;

  auto info = client.stored.castAs<schema::Daemon>().infoRequest().send().wait(ws);
  EXPECT_EQ(std::string(info.getInfo().getSeccomp().cStr()), "filter");
  std::ifstream status("/proc/" + std::to_string(daemon.pid()) + "/status");
  std::string line, seccompLine;
  while (std::getline(status, line)) {
    if (line.rfind("Seccomp:", 0) == 0) seccompLine = line;
  }
  EXPECT_EQ(seccompLine, "Seccomp:\t2");

  // What only the daemon's capabilities can write: owners, setuid and setgid of a group the
  // daemon is not in, file capabilities, device nodes, whiteouts, opaque directories.
  std::string cap(20, '\0');
  cap[0] = 0x01;  // VFS_CAP_FLAGS_EFFECTIVE
  cap[3] = 0x02;  // VFS_CAP_REVISION_2
  cap[5] = 0x04;  // permitted: CAP_NET_BIND_SERVICE (bit 10)
  TarBuilder base;
  base.dir("usr/bin")
      .add({.path = "usr/bin/tool", .content = "#!", .mode = 02755, .uid = 7, .gid = 42})
      .add({.path = "usr/bin/su", .content = "#!", .mode = 04755})
      .add({.path = "usr/bin/ping",
            .content = "#!",
            .mode = 0755,
            .xattrs = {{"security.capability", cap}, {"trusted.overlay.opaque", "y"}}})
      .add({.path = "dev/tty", .type = EntryType::CHAR_DEVICE, .mode = 0666, .devMajor = 5})
      .file("etc/motd", "hello")
      .dir("var/cache")
      .file("var/cache/old", "x");
  std::string baseTar = base.bytes();
  TarBuilder top;
  top.file("etc/.wh.motd", "").dir("var/cache").file("var/cache/.wh..wh..opq", "");
  std::string topTar = top.bytes();

  auto l0 =
      importLayer(client, writeBlob(baseTar, "base"), testing::digestOf(baseTar), "").wait(ws);
  std::string l0Chain = l0.getLayer().getChainId();
  EXPECT_EQ(l0Chain, testing::digestOf(baseTar));
  auto l1 =
      importLayer(client, writeBlob(topTar, "top"), testing::digestOf(topTar), l0Chain).wait(ws);
  std::string l1Chain = l1.getLayer().getChainId();
  EXPECT_EQ(std::string(l1.getLayer().getParentChainId().cStr()), l0Chain);

  std::string diff0 = storage() + "/layers/" + digestHex(l0Chain) + "/diff";
  std::string diff1 = storage() + "/layers/" + digestHex(l1Chain) + "/diff";
  struct stat st;
  ASSERT_EQ(lstat((diff0 + "/usr/bin/tool").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02755u) << "setgid lost";
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_EQ(st.st_gid, 42u);
  ASSERT_EQ(lstat((diff0 + "/usr/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  char value[64];
  EXPECT_EQ(lgetxattr((diff0 + "/usr/bin/ping").c_str(), "security.capability", value, 64), 20);
  EXPECT_LT(lgetxattr((diff0 + "/usr/bin/ping").c_str(), "trusted.overlay.opaque", value, 64), 0);
  ASSERT_EQ(lstat((diff0 + "/dev/tty").c_str(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(5, 0));
  ASSERT_EQ(lstat((diff1 + "/etc/motd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
  EXPECT_EQ(lgetxattr((diff1 + "/var/cache").c_str(), "user.overlay.opaque", value, 64), 1);

  auto hasLayer = [&](const std::string& chain) {
    auto request = client.stored.hasLayerRequest();
    request.setChainId(chain);
    return request.send().wait(ws).getPresent();
  };
  EXPECT_TRUE(hasLayer(l1Chain));

  std::string config = "{\"architecture\":\"amd64\"}";
  auto commit = client.stored.commitImageRequest();
  auto record = commit.initImage();
  record.setId(sha256Hex(config));
  record.initNames(1).set(0, "localhost/test:latest");
  record.initRepoDigests(1).set(0, "localhost/test@sha256:" + std::string(64, 'd'));
  auto chain = record.initLayerChainIds(2);
  chain.set(0, l0Chain);
  chain.set(1, l1Chain);
  record.setConfig(
      capnp::Data::Reader(reinterpret_cast<const kj::byte*>(config.data()), config.size()));
  auto committed = commit.send().wait(ws);
  EXPECT_EQ(std::string(committed.getImage().getTopChainId().cStr()), l1Chain);

  auto find = client.stored.findImageRequest();
  find.setReference(sha256Hex(config).substr(0, 6));
  auto found = find.send().wait(ws);
  ASSERT_TRUE(found.getFound());
  EXPECT_EQ(std::string(found.getImage().getNames()[0].cStr()), "localhost/test:latest");
  EXPECT_EQ(client.stored.listImagesRequest().send().wait(ws).getImages().size(), 1u);

  auto usage = client.stored.imageFsUsageRequest().send().wait(ws);
  EXPECT_EQ(std::string(usage.getUsage().getMountpoint().cStr()), storage());
  EXPECT_GT(usage.getUsage().getUsedBytes(), 0u);
  EXPECT_GT(usage.getUsage().getInodesUsed(), 10u);

  auto remove = client.stored.removeImageRequest();
  remove.setReference("localhost/test:latest");
  EXPECT_TRUE(remove.send().wait(ws).getRemoved());
  EXPECT_FALSE(hasLayer(l1Chain));
  EXPECT_FALSE(hasLayer(l0Chain));
  EXPECT_FALSE(fs::exists(diff0));
  EXPECT_FALSE(fs::exists(diff1));
  auto again = client.stored.removeImageRequest();
  again.setReference("localhost/test:latest");
  EXPECT_FALSE(again.send().wait(ws).getRemoved());
}

TEST_F(StoredIntegrationTest, ContainerLayersHoldTheirImageAndSurviveARestart) {
  auto daemon = std::make_unique<Daemon>(dir_.path());
  auto client = std::make_unique<Client>(io_, daemon->socket());
  auto& ws = io_.waitScope;

  std::string tar = TarBuilder().dir("etc").file("etc/motd", "from the image").bytes();
  auto layer = importLayer(*client, writeBlob(tar, "base"), testing::digestOf(tar), "").wait(ws);
  std::string chain = layer.getLayer().getChainId();
  std::string config = "{\"architecture\":\"amd64\"}";
  auto commit = client->stored.commitImageRequest();
  auto record = commit.initImage();
  record.setId(sha256Hex(config));
  record.initNames(1).set(0, "localhost/held:1");
  record.initLayerChainIds(1).set(0, chain);
  record.setConfig(
      capnp::Data::Reader(reinterpret_cast<const kj::byte*>(config.data()), config.size()));
  commit.send().wait(ws);

  auto create = client->stored.createContainerLayerRequest();
  create.setContainerId("c0ffee");
  create.setImageId("localhost/held:1");
  auto created = create.send().wait(ws).getLayer();
  std::string upper = created.getUpperDir();
  ASSERT_EQ(created.getLowerDirs().size(), 1u);
  EXPECT_EQ(std::string(created.getLowerDirs()[0].cStr()),
            storage() + "/layers/" + digestHex(chain) + "/diff");
  EXPECT_EQ(std::string(created.getImageId().cStr()), sha256Hex(config));
  EXPECT_TRUE(fs::is_directory(upper));
  EXPECT_TRUE(fs::is_directory(std::string(created.getWorkDir())));

  auto remove = client->stored.removeImageRequest();
  remove.setReference("localhost/held:1");
  try {
    remove.send().wait(ws);
    FAIL() << "an image in use was removed";
  } catch (const kj::Exception& e) {
    Error error = ipc::fromKjException(e, "crio-stored");
    EXPECT_EQ(error.category(), ErrorCategory::FAILED_PRECONDITION);
    EXPECT_NE(std::string(error.what()).find("c0ffee"), std::string::npos) << error.what();
  }

  auto badId = client->stored.createContainerLayerRequest();
  badId.setContainerId("../escape");
  badId.setImageId("localhost/held:1");
  try {
    badId.send().wait(ws);
    FAIL();
  } catch (const kj::Exception& e) {
    EXPECT_EQ(ipc::fromKjException(e, "crio-stored").category(), ErrorCategory::INVALID_ARGUMENT);
  }

  // After a restart the layer is found again, with the same paths.
  client.reset();
  daemon.reset();
  daemon = std::make_unique<Daemon>(dir_.path());
  client = std::make_unique<Client>(io_, daemon->socket());
  auto find = client->stored.containerLayerRequest();
  find.setContainerId("c0ffee");
  auto found = find.send().wait(ws);
  ASSERT_TRUE(found.getFound());
  EXPECT_EQ(std::string(found.getLayer().getUpperDir().cStr()), upper);

  for (bool expected : {true, false}) {
    auto drop = client->stored.removeContainerLayerRequest();
    drop.setContainerId("c0ffee");
    EXPECT_EQ(drop.send().wait(ws).getRemoved(), expected);
  }
  EXPECT_FALSE(fs::exists(upper));
  auto again = client->stored.removeImageRequest();
  again.setReference("localhost/held:1");
  EXPECT_TRUE(again.send().wait(ws).getRemoved());
}

TEST_F(StoredIntegrationTest, ErrorsKeepTheirCategoryAndNameTheEntry) {
  Daemon daemon(dir_.path());
  Client client(io_, daemon.socket());
  auto& ws = io_.waitScope;

  std::string hostile = TarBuilder().symlink("evil", "/etc").file("evil/passwd", "x").bytes();
  try {
    importLayer(client, writeBlob(hostile, "hostile"), testing::digestOf(hostile), "").wait(ws);
    FAIL() << "hostile layer imported";
  } catch (const kj::Exception& e) {
    Error error = ipc::fromKjException(e, "crio-stored");
    EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(std::string(error.what()).find("layer entry \"evil/passwd\""), std::string::npos)
        << error.what();
  }
  EXPECT_TRUE(fs::is_empty(storage() + "/layers"));
  EXPECT_TRUE(fs::is_empty(storage() + "/staging"));

  auto commit = client.stored.commitImageRequest();
  auto record = commit.initImage();
  record.setId(std::string(64, 'a'));
  record.initLayerChainIds(1).set(0, "sha256:" + std::string(64, 'b'));
  try {
    commit.send().wait(ws);
    FAIL();
  } catch (const kj::Exception& e) {
    EXPECT_EQ(ipc::fromKjException(e, "crio-stored").category(),
              ErrorCategory::FAILED_PRECONDITION);
  }
}

TEST_F(StoredIntegrationTest, KilledMidImportLeavesNothingAndARetrySucceeds) {
  TarBuilder big;
  std::string chunk(64 * 1024, 'z');
  for (int i = 0; i < 1000; ++i) {
    chunk[0] = static_cast<char>(i);
    big.file("data/f" + std::to_string(i), chunk);
  }
  std::string tar = big.bytes();
  std::string blob = writeBlob(tar, "big");
  std::string diffId = testing::digestOf(tar);

  {
    Daemon daemon(dir_.path());
    Client client(io_, daemon.socket());
    auto pending = importLayer(client, blob, diffId, "");
    // Let the unpack get going, then kill -9 the daemon in the middle of it.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto staging = storage() + "/staging";
    while (std::chrono::steady_clock::now() < deadline &&
           (!fs::exists(staging) || fs::is_empty(staging))) {
      io_.provider->getTimer().afterDelay(5 * kj::MILLISECONDS).wait(io_.waitScope);
    }
    io_.provider->getTimer().afterDelay(50 * kj::MILLISECONDS).wait(io_.waitScope);
    daemon.stop(SIGKILL);
  }
  EXPECT_FALSE(fs::is_empty(storage() + "/staging")) << "the kill came too late to test much";

  Daemon restarted(dir_.path());
  Client client(io_, restarted.socket());
  auto hasLayer = [&]() {
    auto request = client.stored.hasLayerRequest();
    request.setChainId(diffId);
    return request.send().wait(io_.waitScope).getPresent();
  };
  // Answered only once the daemon has recovered (connections queue until then).
  EXPECT_FALSE(hasLayer());
  EXPECT_TRUE(fs::is_empty(storage() + "/staging"));
  EXPECT_TRUE(fs::is_empty(storage() + "/layers"));

  auto layer = importLayer(client, blob, diffId, "").wait(io_.waitScope);
  EXPECT_EQ(std::string(layer.getLayer().getChainId().cStr()), diffId);
  EXPECT_TRUE(hasLayer());
}

TEST_F(StoredIntegrationTest, AClientGoneMidImportDoesNotHurtTheDaemon) {
  TarBuilder big;
  for (int i = 0; i < 300; ++i)
    big.file("f" + std::to_string(i), std::string(64 * 1024, 'q'));
  std::string tar = big.bytes();
  std::string blob = writeBlob(tar, "big");
  std::string diffId = testing::digestOf(tar);
  Daemon daemon(dir_.path());
  {
    Client client(io_, daemon.socket());
    auto pending = importLayer(client, blob, diffId, "");
    io_.provider->getTimer().afterDelay(20 * kj::MILLISECONDS).wait(io_.waitScope);
  }  // the request and the connection go away

  Client client(io_, daemon.socket());
  auto layer = importLayer(client, blob, diffId, "").wait(io_.waitScope);
  EXPECT_EQ(std::string(layer.getLayer().getChainId().cStr()), diffId);
  EXPECT_TRUE(fs::is_empty(storage() + "/staging"));
}

}  // namespace
}  // namespace crio::stored
