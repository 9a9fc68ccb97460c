#include "crio-stored/layer-store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/sha256.h"
#include "crio-stored/digest.h"
#include "crio-stored/test-tarball.h"

namespace crio::stored {
namespace {

namespace fs = std::filesystem;
using testing::TarBuilder;

constexpr const char* GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
constexpr const char* PLAIN = "application/vnd.oci.image.layer.v1.tar";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class LayerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Layers keep owners and device nodes: that takes root (CAP_CHOWN, CAP_MKNOD).
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
  }

  LayerStoreTest() : images_(dir_.path() + "/stored.db"), layers_(dir_.path(), images_) {}

  LayerRecord import(const std::string& tar, const std::string& mediaType = GZIP,
                     const std::string& parent = "", std::string diffId = "") {
    std::string blob = mediaType == GZIP   ? testing::gzip(tar)
                       : mediaType == ZSTD ? testing::zstd(tar)
                                           : tar;
    UniqueFd fd(testing::blobFd(blob));
    if (diffId.empty()) diffId = testing::digestOf(tar);
    return layers_.importLayer({fd.get(), mediaType, diffId, parent});
  }

  std::string importFailure(const std::string& blob, const std::string& diffId) {
    UniqueFd fd(testing::blobFd(blob));
    try {
      layers_.importLayer({fd.get(), GZIP, diffId, ""});
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "the import succeeded";
    return "";
  }

  // Every path under the root but the database files, and every layer record.
  std::set<std::string> snapshot() {
    std::set<std::string> paths;
    for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
      std::string path = entry.path().string().substr(dir_.path().size());
      if (path.rfind("/stored.db", 0) != 0) paths.insert(path);
    }
    for (const auto& layer : images_.listLayers())
      paths.insert("record " + layer.chainId);
    return paths;
  }

  std::string layerDir(const std::string& chainId) {
    return dir_.path() + "/layers/" + digestHex(chainId);
  }

  testing::TempDir dir_;
  ImageStore images_;
  LayerStore layers_;
};

TEST_F(LayerStoreTest, ImportsGzipZstdAndPlainLayers) {
  int n = 0;
  for (const char* mediaType : {GZIP, ZSTD, PLAIN}) {
    std::string tar = TarBuilder().file("f", "layer " + std::to_string(++n)).bytes();
    LayerRecord layer = import(tar, mediaType);
    EXPECT_EQ(layer.chainId, testing::digestOf(tar));
    EXPECT_TRUE(layers_.hasLayer(layer.chainId));
    EXPECT_EQ(readFile(layers_.diffPath(layer.chainId) + "/f"), "layer " + std::to_string(n));
    EXPECT_EQ(layer.size, 7u);
  }
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/staging"));
}

TEST_F(LayerStoreTest, ChildLayersRecordTheirChain) {
  LayerRecord base = import(TarBuilder().file("a", "a").bytes());
  LayerRecord middle = import(TarBuilder().file("b", "b").bytes(), GZIP, base.chainId);
  LayerRecord top = import(TarBuilder().file("c", "c").bytes(), GZIP, middle.chainId);
  EXPECT_EQ(top.chainId, chainId(middle.chainId, top.diffId));
  EXPECT_EQ(top.parentChainId, middle.chainId);
  EXPECT_EQ(readFile(layerDir(top.chainId) + "/lower"),
            middle.chainId + "\n" + base.chainId + "\n");
}

TEST_F(LayerStoreTest, DiffIdMismatchKeepsNothing) {
  auto before = snapshot();
  std::string tar = TarBuilder().file("f", "content").bytes();
  std::string message = importFailure(testing::gzip(tar), "sha256:" + std::string(64, '0'));
  EXPECT_NE(message.find("not to its diff id"), std::string::npos) << message;
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(layers_.unpacks(), 1u);
}

TEST_F(LayerStoreTest, HostileLayersLeaveTheStoreUnchanged) {
  import(TarBuilder().file("base", "ok").bytes());
  testing::TempDir outside;
  auto before = snapshot();

  struct Case {
    std::string name;
    std::string blob;
    std::string expected;  // in the message
  };
  std::string good = TarBuilder().file("a", std::string(100000, 'a')).file("b", "b").bytes();
  std::string corrupt = testing::gzip(good);
  for (size_t i = corrupt.size() / 3; i < corrupt.size() / 3 + 64; ++i)
    corrupt[i] ^= 0x33;
  std::vector<Case> cases = {
      {"traversal", TarBuilder().file("ok", "1").file("../../x", "x").bytes(),
       "layer entry \"../../x\""},
      {"absolute", TarBuilder().file(outside.path() + "/abs", "x").bytes(), "is absolute"},
      {"symlink then write", TarBuilder().symlink("s", outside.path()).file("s/x", "x").bytes(),
       "layer entry \"s/x\""},
      {"hard link out", TarBuilder().hardlink("h", "../../../etc/shadow").bytes(),
       "layer entry \"h\""},
      {"truncated tar", good.substr(0, good.size() / 2), "runcated"},
      {"truncated gzip", "", "truncated gzip stream"},
      {"corrupt gzip", "", "corrupt gzip stream"},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string blob = testing::gzip(c.blob);
    std::string diffId = testing::digestOf(c.blob);
    if (c.name == "corrupt gzip" || c.name == "truncated gzip") {
      std::string whole = testing::gzip(good);
      blob = c.name == "corrupt gzip" ? corrupt : whole.substr(0, whole.size() / 2);
      diffId = testing::digestOf(good);
    }
    std::string message = importFailure(blob, diffId);
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    EXPECT_EQ(snapshot(), before);
  }
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST_F(LayerStoreTest, MissingParentIsAFailedPrecondition) {
  UniqueFd fd(testing::blobFd(testing::gzip(TarBuilder().bytes())));
  try {
    layers_.importLayer({fd.get(), GZIP, testing::digestOf(TarBuilder().bytes()),
                         "sha256:" + std::string(64, 'e')});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
  }
}

TEST_F(LayerStoreTest, ChainOfThreeSharedByTwoImages) {
  LayerRecord l0 = import(TarBuilder().file("0", "0").bytes());
  LayerRecord l1 = import(TarBuilder().file("1", "1").bytes(), GZIP, l0.chainId);
  LayerRecord l2 = import(TarBuilder().file("2", "2").bytes(), GZIP, l1.chainId);
  // The same three layers again: found, not unpacked.
  EXPECT_EQ(import(TarBuilder().file("1", "1").bytes(), GZIP, l0.chainId).chainId, l1.chainId);
  EXPECT_EQ(layers_.unpacks(), 3u);

  std::vector<std::string> chain = {l0.chainId, l1.chainId, l2.chainId};
  ImageRecord a, b;
  a.config = "{\"image\":\"a\"}";
  a.id = sha256Hex(a.config);
  a.layerChainIds = chain;
  a.names = {"a:1"};
  b = a;
  b.config = "{\"image\":\"b\"}";
  b.id = sha256Hex(b.config);
  b.names = {"b:1"};
  images_.commitImage(a);
  images_.commitImage(b);

  RemovedImage removed = images_.removeImage("a:1");
  EXPECT_TRUE(removed.freedLayers.empty());
  layers_.deleteLayers(removed.freedLayers);
  for (const auto& id : chain)
    EXPECT_TRUE(fs::exists(layerDir(id)));

  removed = images_.removeImage(b.id);
  EXPECT_EQ(removed.freedLayers.size(), 3u);
  layers_.deleteLayers(removed.freedLayers);
  for (const auto& id : chain) {
    EXPECT_FALSE(fs::exists(layerDir(id)));
    EXPECT_FALSE(layers_.hasLayer(id));
  }
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/layers"));
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/removing"));
}

TEST_F(LayerStoreTest, ConcurrentImportsOfOneLayerUnpackOnce) {
  TarBuilder builder;
  for (int i = 0; i < 200; ++i)
    builder.file("f" + std::to_string(i), std::string(20000, 'x'));
  std::string tar = builder.bytes();
  std::string blob = testing::gzip(tar);

  constexpr int THREADS = 4;
  std::vector<std::thread> threads;
  std::vector<LayerRecord> results(THREADS);
  std::vector<std::string> errors(THREADS);
  for (int i = 0; i < THREADS; ++i) {
    threads.emplace_back([&, i]() {
      try {
        UniqueFd fd(testing::blobFd(blob));
        results[i] = layers_.importLayer({fd.get(), GZIP, testing::digestOf(tar), ""});
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (int i = 0; i < THREADS; ++i) {
    EXPECT_EQ(errors[i], "");
    EXPECT_EQ(results[i].chainId, results[0].chainId);
    EXPECT_EQ(results[i].createdAt, results[0].createdAt);
  }
  EXPECT_EQ(layers_.unpacks(), 1u);
}

TEST_F(LayerStoreTest, RecoveryRemovesLeftoversOfInterruptedImports) {
  LayerRecord kept = import(TarBuilder().file("kept", "k").bytes());
  LayerRecord lost = import(TarBuilder().file("lost", "l").bytes());
  ImageRecord image;
  image.config = "{}";
  image.id = sha256Hex(image.config);
  image.layerChainIds = {lost.chainId};
  images_.commitImage(image);

  // A crash in the middle of an unpack, after the rename but before the commit, and in the
  // middle of a deletion; and a layer directory lost behind the store's back.
  fs::create_directories(dir_.path() + "/staging/0123456789abcdef/diff/usr/bin");
  std::ofstream(dir_.path() + "/staging/0123456789abcdef/diff/usr/bin/half") << "half";
  std::string uncommitted = dir_.path() + "/layers/" + std::string(64, 'c');
  fs::create_directories(uncommitted + "/diff");
  fs::create_directories(dir_.path() + "/removing/fedcba9876543210/diff/x");
  fs::remove_all(layerDir(lost.chainId));

  ImageStore images(dir_.path() + "/stored.db");
  LayerStore restarted(dir_.path(), images);
  RecoveryReport report = restarted.recover();
  EXPECT_EQ(report.staging, 1u);
  EXPECT_EQ(report.removing, 1u);
  EXPECT_EQ(report.uncommitted, 1u);
  EXPECT_EQ(report.lostLayers, std::vector<std::string>{lost.chainId});
  EXPECT_EQ(report.lostImages, std::vector<std::string>{image.id});

  EXPECT_TRUE(fs::is_empty(dir_.path() + "/staging"));
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/removing"));
  EXPECT_FALSE(fs::exists(uncommitted));
  EXPECT_TRUE(restarted.hasLayer(kept.chainId));
  EXPECT_FALSE(restarted.hasLayer(lost.chainId));
  EXPECT_FALSE(images.findImage(image.id));

  // And a retry of the lost layer works.
  UniqueFd fd(testing::blobFd(testing::gzip(TarBuilder().file("lost", "l").bytes())));
  EXPECT_EQ(restarted.importLayer({fd.get(), GZIP, lost.diffId, ""}).chainId, lost.chainId);
}

TEST_F(LayerStoreTest, ALeftoverDirectoryDoesNotBlockTheImport) {
  std::string tar = TarBuilder().file("f", "real").bytes();
  std::string leftover = layerDir(testing::digestOf(tar));
  fs::create_directories(leftover + "/diff");
  std::ofstream(leftover + "/diff/f") << "stale";
  LayerRecord layer = import(tar);
  EXPECT_EQ(readFile(layers_.diffPath(layer.chainId) + "/f"), "real");
}

TEST_F(LayerStoreTest, UsageCountsTheStore) {
  StoreUsage empty = layers_.usage();
  import(TarBuilder().file("big", std::string(1 << 20, 'x')).file("small", "s").bytes());
  StoreUsage used = layers_.usage();
  EXPECT_EQ(used.mountpoint, dir_.path());
  EXPECT_GE(used.bytes, empty.bytes + (1u << 20));
  EXPECT_GE(used.inodes, empty.inodes + 5);  // layer dir, diff, lower, two files
  EXPECT_GT(used.timestamp, 0);
}

TEST_F(LayerStoreTest, StoppedStoreRefusesImports) {
  layers_.stop();
  std::string tar = TarBuilder().file("f", "x").bytes();
  std::string message = importFailure(testing::gzip(tar), testing::digestOf(tar));
  EXPECT_NE(message.find("stopping"), std::string::npos) << message;
}

}  // namespace
}  // namespace crio::stored
