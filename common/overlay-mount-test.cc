#include "common/overlay-mount.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace crio {
namespace {

namespace fs = std::filesystem;

class OverlayMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting needs root";
    char pattern[] = "/tmp/crio-overlay-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    fs::create_directories(dir_ + "/upper");
    fs::create_directories(dir_ + "/work");
    fs::create_directories(dir_ + "/merged");
  }
  void TearDown() override {
    if (dir_.empty()) return;
    unmountOverlay(dir_ + "/merged");
    fs::remove_all(dir_);
  }
  std::string layer(const std::string& name) {
    std::string path = dir_ + "/layers/" + name;
    fs::create_directories(path);
    return path;
  }
  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::string dir_;
};

TEST_F(OverlayMountTest, UpperLayersWinAndWhiteoutsHide) {
  std::string base = layer("base");
  std::string top = layer("top");
  std::ofstream(base + "/a") << "base-a";
  std::ofstream(base + "/b") << "base-b";
  fs::create_directories(base + "/d");
  std::ofstream(base + "/d/old") << "old";
  std::ofstream(top + "/a") << "top-a";
  ASSERT_EQ(mknod((top + "/b").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0);  // whiteout
  fs::create_directories(top + "/d");
  ASSERT_EQ(setxattr((top + "/d").c_str(), "user.overlay.opaque", "y", 1, 0), 0);
  std::ofstream(top + "/d/new") << "new";

  std::string merged = dir_ + "/merged";
  mountOverlay({{top, base}, dir_ + "/upper", dir_ + "/work"}, merged);
  EXPECT_TRUE(isMountPoint(merged));
  EXPECT_EQ(read(merged + "/a"), "top-a");
  EXPECT_FALSE(fs::exists(merged + "/b"));
  EXPECT_FALSE(fs::exists(merged + "/d/old"));
  EXPECT_TRUE(fs::exists(merged + "/d/new"));

  std::ofstream(merged + "/written") << "w";
  EXPECT_TRUE(fs::exists(dir_ + "/upper/written"));

  unmountOverlay(merged);
  EXPECT_FALSE(isMountPoint(merged));
  unmountOverlay(merged);  // a second unmount is fine
}

TEST_F(OverlayMountTest, StacksOneHundredFiftyLayers) {
  std::vector<std::string> lowers;
  for (int i = 149; i >= 0; --i) {
    // Long names, as storage paths are, so that the option string would not fit one page.
    std::string path = layer(std::string(60, 'l') + std::to_string(i));
    std::ofstream(path + "/file" + std::to_string(i)) << i;
    lowers.push_back(path);
  }
  std::string merged = dir_ + "/merged";
  mountOverlay({lowers, dir_ + "/upper", dir_ + "/work"}, merged);
  EXPECT_EQ(read(merged + "/file0"), "0");
  EXPECT_EQ(read(merged + "/file149"), "149");
}

TEST_F(OverlayMountTest, InvalidLayerListsAreRejected) {
  EXPECT_THROW(mountOverlay({{}, dir_ + "/upper", dir_ + "/work"}, dir_ + "/merged"), Error);
  EXPECT_THROW(mountOverlay({{layer("x")}, dir_ + "/upper", ""}, dir_ + "/merged"), Error);
  EXPECT_THROW(mountOverlay({{dir_ + "/a:b"}, "", ""}, dir_ + "/merged"), Error);
}

}  // namespace
}  // namespace crio
