#include "crio-stored/image-store.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/sha256.h"
#include "crio-stored/digest.h"
#include "crio-stored/test-tarball.h"

namespace crio::stored {
namespace {

std::string diff(char c) {
  return "sha256:" + std::string(64, c);
}

ErrorCategory categoryOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.category();
  }
  ADD_FAILURE() << "no error";
  return ErrorCategory::INTERNAL;
}

class ImageStoreTest : public ::testing::Test {
 protected:
  ImageStoreTest() : store_(dir_.path() + "/stored.db") {}

  // Records layers with the given diff ids as one chain; returns their chain ids.
  std::vector<std::string> addChain(const std::string& diffIds, std::string parent = "") {
    std::vector<std::string> chain;
    for (char c : diffIds) {
      std::string id = chainId(parent, diff(c));
      if (!store_.findLayer(id)) store_.addLayer({id, diff(c), parent, 100, nowNanos()});
      chain.push_back(id);
      parent = id;
    }
    return chain;
  }

  ImageRecord image(const std::string& config, std::vector<std::string> layers,
                    std::vector<std::string> names) {
    ImageRecord record;
    record.id = sha256Hex(config);
    record.config = config;
    record.manifest = "{\"manifest\":1}";
    record.manifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    record.layerChainIds = std::move(layers);
    record.names = std::move(names);
    return record;
  }

  testing::TempDir dir_;
  ImageStore store_;
};

TEST_F(ImageStoreTest, CommitsAndFindsAnImageEveryWay) {
  auto layers = addChain("abc");
  ImageRecord in = image("{\"config\":1}", layers, {"docker.io/library/busybox:latest"});
  in.repoDigests = {"docker.io/library/busybox@sha256:" + std::string(64, 'f')};
  ImageRecord out = store_.commitImage(in);
  EXPECT_EQ(out.topChainId, layers.back());
  EXPECT_EQ(out.size, 300 + in.config.size() + in.manifest.size());
  EXPECT_GT(out.createdAt, 0);

  for (const std::string& ref :
       {out.id, "sha256:" + out.id, out.id.substr(0, 3), out.id.substr(0, 12),
        std::string("docker.io/library/busybox:latest"), in.repoDigests[0]}) {
    auto found = store_.findImage(ref);
    ASSERT_TRUE(found) << ref;
    EXPECT_EQ(found->id, out.id);
    EXPECT_EQ(found->layerChainIds, layers);
    EXPECT_EQ(found->config, in.config);
  }
  EXPECT_FALSE(store_.findImage(out.id.substr(0, 2)));
  EXPECT_FALSE(store_.findImage("docker.io/library/other:latest"));
}

TEST_F(ImageStoreTest, MissingLayerIsAFailedPrecondition) {
  auto layers = addChain("a");
  layers.push_back(chainId(layers[0], diff('b')));
  EXPECT_EQ(categoryOf([&] { store_.commitImage(image("{}", layers, {})); }),
            ErrorCategory::FAILED_PRECONDITION);
  EXPECT_TRUE(store_.listImages().empty());
}

TEST_F(ImageStoreTest, MalformedRecordsAreRefused) {
  auto layers = addChain("ab");
  ImageRecord wrongId = image("{}", layers, {});
  wrongId.id = std::string(64, '0');
  EXPECT_EQ(categoryOf([&] { store_.commitImage(wrongId); }), ErrorCategory::INVALID_ARGUMENT);

  ImageRecord outOfOrder = image("{}", {layers[1], layers[0]}, {});
  EXPECT_EQ(categoryOf([&] { store_.commitImage(outOfOrder); }), ErrorCategory::INVALID_ARGUMENT);

  ImageRecord badTop = image("{}", layers, {});
  badTop.topChainId = layers[0];
  EXPECT_EQ(categoryOf([&] { store_.commitImage(badTop); }), ErrorCategory::INVALID_ARGUMENT);
}

TEST_F(ImageStoreTest, NamesMoveAndTheOldImageStays) {
  auto layers = addChain("a");
  ImageRecord first = store_.commitImage(image("{\"v\":1}", layers, {"app:latest", "app:1"}));
  ImageRecord second = store_.commitImage(image("{\"v\":2}", layers, {"app:latest"}));
  EXPECT_EQ(store_.findImage("app:latest")->id, second.id);
  EXPECT_EQ(store_.findImage(first.id)->names, std::vector<std::string>{"app:1"});

  store_.commitImage(image("{\"v\":2}", layers, {"app:1"}));
  auto orphan = store_.findImage(first.id);
  ASSERT_TRUE(orphan);
  EXPECT_TRUE(orphan->names.empty());
  EXPECT_EQ(store_.findImage(second.id)->names, (std::vector<std::string>{"app:latest", "app:1"}));
  EXPECT_EQ(store_.listImages().size(), 2u);
}

TEST_F(ImageStoreTest, AmbiguousPrefixIsAnError) {
  // Find two configs whose ids share the first 3 hex digits.
  std::map<std::string, std::string> byPrefix;
  std::string a, b;
  for (int i = 0; a.empty(); ++i) {
    std::string config = "{\"n\":" + std::to_string(i) + "}";
    std::string prefix = sha256Hex(config).substr(0, 3);
    auto [it, fresh] = byPrefix.emplace(prefix, config);
    if (!fresh) {
      a = it->second;
      b = config;
    }
  }
  store_.commitImage(image(a, {}, {}));
  store_.commitImage(image(b, {}, {}));
  EXPECT_EQ(categoryOf([&] { store_.findImage(sha256Hex(a).substr(0, 3)); }),
            ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(store_.findImage(sha256Hex(a).substr(0, 20)));
}

TEST_F(ImageStoreTest, RemovalFreesOnlyUnsharedLayers) {
  auto shared = addChain("ab");
  auto onlyA = addChain("c", shared.back());
  auto onlyB = addChain("d", shared.back());
  std::vector<std::string> layersA = shared, layersB = shared;
  layersA.push_back(onlyA[0]);
  layersB.push_back(onlyB[0]);
  store_.commitImage(image("{\"a\":1}", layersA, {"a:1"}));
  store_.commitImage(image("{\"b\":1}", layersB, {"b:1"}));

  RemovedImage removedA = store_.removeImage("a:1");
  EXPECT_TRUE(removedA.removed);
  EXPECT_EQ(removedA.freedLayers, std::vector<std::string>{onlyA[0]});
  EXPECT_FALSE(store_.findImage("a:1"));
  EXPECT_TRUE(store_.findLayer(shared[1]));

  RemovedImage removedB = store_.removeImage("b:1");
  EXPECT_EQ(removedB.freedLayers, (std::vector<std::string>{onlyB[0], shared[1], shared[0]}));
  EXPECT_TRUE(store_.listLayers().empty());
  EXPECT_FALSE(store_.removeImage("b:1").removed);
}

TEST_F(ImageStoreTest, HeldLayersKeepTheirImage) {
  auto layers = addChain("ab");
  store_.commitImage(image("{}", layers, {"held:1"}));
  store_.addHolder(layers[1], "container-1234");
  EXPECT_EQ(store_.holders(layers[1]), std::vector<std::string>{"container-1234"});
  EXPECT_EQ(categoryOf([&] { store_.removeImage("held:1"); }), ErrorCategory::FAILED_PRECONDITION);
  EXPECT_TRUE(store_.findImage("held:1"));

  store_.removeHolder(layers[1], "container-1234");
  EXPECT_EQ(store_.removeImage("held:1").freedLayers.size(), 2u);
}

TEST_F(ImageStoreTest, ForgettingALayerForgetsWhatStandsOnIt) {
  auto layers = addChain("abc");
  ImageRecord stored = store_.commitImage(image("{}", layers, {"x:1"}));
  auto images = store_.forgetLayers({layers[1]});
  EXPECT_EQ(images, std::vector<std::string>{stored.id});
  EXPECT_TRUE(store_.findLayer(layers[0]));
  EXPECT_FALSE(store_.findLayer(layers[1]));
  EXPECT_FALSE(store_.findLayer(layers[2]));
  EXPECT_FALSE(store_.findImage("x:1"));
}

TEST_F(ImageStoreTest, SurvivesReopeningInWalMode) {
  auto layers = addChain("a");
  store_.commitImage(image("{}", layers, {"persist:1"}));
  ImageStore reopened(dir_.path() + "/stored.db");
  EXPECT_TRUE(reopened.findImage("persist:1"));
  sqlite::Database db(dir_.path() + "/stored.db");
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
}

}  // namespace
}  // namespace crio::stored
