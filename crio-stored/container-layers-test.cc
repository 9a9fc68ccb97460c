#include "crio-stored/container-layers.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/sha256.h"
#include "crio-stored/digest.h"
#include "crio-stored/test-tarball.h"

namespace crio::stored {
namespace {

namespace fs = std::filesystem;

ErrorCategory categoryOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.category();
  }
  ADD_FAILURE() << "no error";
  return ErrorCategory::INTERNAL;
}

class ContainerLayersTest : public ::testing::Test {
 protected:
  ContainerLayersTest()
      : images_(dir_.path() + "/stored.db"),
        layers_(dir_.path(), images_),
        containers_(dir_.path(), images_, layers_) {}

  // Records a chain of layers (no files needed: container layers only name their paths) and
  // an image on them; returns the image id.
  std::string addImage(const std::string& config, const std::string& diffIds,
                       const std::string& name) {
    std::string parent;
    ImageRecord image;
    for (char c : diffIds) {
      std::string diff = "sha256:" + std::string(64, c);
      std::string id = chainId(parent, diff);
      if (!images_.findLayer(id)) images_.addLayer({id, diff, parent, 1, nowNanos()});
      image.layerChainIds.push_back(id);
      parent = id;
    }
    image.id = sha256Hex(config);
    image.config = config;
    image.manifest = "{}";
    image.manifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    image.names = {name};
    return images_.commitImage(image).id;
  }

  testing::TempDir dir_;
  ImageStore images_;
  LayerStore layers_;
  ContainerLayers containers_;
};

TEST_F(ContainerLayersTest, CreatesFindsAndRemovesALayer) {
  std::string image = addImage("{\"a\":1}", "ab", "busybox:1");
  ContainerLayer layer = containers_.create("c1", "busybox:1");
  EXPECT_EQ(layer.imageId, image);
  ASSERT_EQ(layer.lowerDirs.size(), 2u);
  auto chains = images_.findImage(image)->layerChainIds;
  EXPECT_EQ(layer.lowerDirs[0], layers_.diffPath(chains[1]));  // topmost first
  EXPECT_EQ(layer.lowerDirs[1], layers_.diffPath(chains[0]));
  EXPECT_EQ(layer.upperDir, dir_.path() + "/containers/c1/upper");
  struct stat st;
  ASSERT_EQ(stat(layer.upperDir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(stat(layer.workDir.c_str(), &st), 0);

  // Again on the same image: the same layer. On another image: rejected.
  EXPECT_EQ(containers_.create("c1", image).upperDir, layer.upperDir);
  addImage("{\"b\":1}", "c", "other:1");
  EXPECT_EQ(categoryOf([&] { containers_.create("c1", "other:1"); }),
            ErrorCategory::ALREADY_EXISTS);

  auto found = containers_.find("c1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->lowerDirs, layer.lowerDirs);
  EXPECT_EQ(images_.holders(chains[0]), std::vector<std::string>{"c1"});

  std::ofstream(layer.upperDir + "/written") << "data";
  EXPECT_TRUE(containers_.remove("c1"));
  EXPECT_FALSE(fs::exists(dir_.path() + "/containers/c1"));
  EXPECT_FALSE(containers_.find("c1"));
  EXPECT_TRUE(images_.holders(chains[0]).empty());
  EXPECT_FALSE(containers_.remove("c1"));
}

TEST_F(ContainerLayersTest, AnImageInUseCannotBeRemoved) {
  addImage("{\"a\":1}", "ab", "used:1");
  addImage("{\"b\":1}", "ac", "shares-base:1");
  containers_.create("c1", "used:1");
  EXPECT_EQ(categoryOf([&] { images_.removeImage("used:1"); }), ErrorCategory::FAILED_PRECONDITION);

  // An image that only shares a base layer goes; the shared layer stays.
  RemovedImage other = images_.removeImage("shares-base:1");
  EXPECT_TRUE(other.removed);
  EXPECT_EQ(other.freedLayers.size(), 1u);

  containers_.remove("c1");
  EXPECT_TRUE(images_.removeImage("used:1").removed);
}

TEST_F(ContainerLayersTest, RejectsBadIdsAndUnknownImages) {
  addImage("{\"a\":1}", "a", "x:1");
  EXPECT_EQ(categoryOf([&] { containers_.create("../evil", "x:1"); }),
            ErrorCategory::INVALID_ARGUMENT);
  EXPECT_EQ(categoryOf([&] { containers_.create("", "x:1"); }), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_EQ(categoryOf([&] { containers_.create(std::string(129, 'a'), "x:1"); }),
            ErrorCategory::INVALID_ARGUMENT);
  EXPECT_EQ(categoryOf([&] { containers_.create("c1", "missing:1"); }), ErrorCategory::NOT_FOUND);
  EXPECT_FALSE(fs::exists(dir_.path() + "/containers/c1"));
}

TEST_F(ContainerLayersTest, RecoveryDeletesUnrecordedDirectoriesAndRemakesLostOnes) {
  addImage("{\"a\":1}", "a", "x:1");
  ContainerLayer kept = containers_.create("kept", "x:1");
  fs::create_directories(dir_.path() + "/containers/leftover/upper");
  fs::remove_all(dir_.path() + "/containers/kept");

  ContainerLayers reopened(dir_.path(), images_, layers_);
  EXPECT_EQ(reopened.recover(), 1u);
  EXPECT_FALSE(fs::exists(dir_.path() + "/containers/leftover"));
  EXPECT_TRUE(fs::is_directory(kept.upperDir));
  EXPECT_TRUE(fs::is_directory(kept.workDir));
}

}  // namespace
}  // namespace crio::stored
