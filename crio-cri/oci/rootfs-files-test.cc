#include "crio-cri/oci/rootfs-files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using testing::TempDir;

class OciRootfsFiles : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string root_ = dir_.mkdir("rootfs");
};

TEST_F(OciRootfsFiles, ReadsRegularFile) {
  dir_.write("rootfs/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  RootfsDirectory rootfs(root_);
  auto text = rootfs.readFile("/etc/passwd", 1024);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "root:x:0:0::/root:/bin/sh\n");
}

TEST_F(OciRootfsFiles, MissingFileOrFolderIsNullopt) {
  RootfsDirectory rootfs(root_);
  EXPECT_FALSE(rootfs.readFile("/etc/passwd", 1024).has_value());
  dir_.write("rootfs/etc", "a file where a folder is expected");
  EXPECT_FALSE(rootfs.readFile("/etc/passwd", 1024).has_value());
}

TEST_F(OciRootfsFiles, AbsoluteLinkOutsideIsNotFollowed) {
  std::string outside = dir_.write("outside/passwd", "intruder:x:7:7::/:/bin/sh\n");
  dir_.mkdir("rootfs/etc");
  std::filesystem::create_symlink(outside, root_ + "/etc/passwd");
  RootfsDirectory rootfs(root_);
  // The link resolves to ROOT/<outside path>, which does not exist inside the root.
  EXPECT_FALSE(rootfs.readFile("/etc/passwd", 1024).has_value());
}

TEST_F(OciRootfsFiles, DotDotLinkStopsAtRoot) {
  dir_.write("outside/passwd", "intruder:x:7:7::/:/bin/sh\n");
  dir_.write("rootfs/passwd", "inside:x:8:8::/:/bin/sh\n");
  dir_.mkdir("rootfs/etc");
  std::filesystem::create_symlink("../../../../outside/passwd", root_ + "/etc/passwd");
  RootfsDirectory rootfs(root_);
  EXPECT_FALSE(rootfs.readFile("/etc/passwd", 1024).has_value());

  std::filesystem::remove(root_ + "/etc/passwd");
  std::filesystem::create_symlink("../../../../passwd", root_ + "/etc/passwd");
  auto text = rootfs.readFile("/etc/passwd", 1024);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "inside:x:8:8::/:/bin/sh\n");
}

TEST_F(OciRootfsFiles, LinkInsideRootIsFollowed) {
  dir_.write("rootfs/usr/lib/passwd", "lib:x:9:9::/:/bin/sh\n");
  dir_.mkdir("rootfs/etc");
  std::filesystem::create_symlink("/usr/lib/passwd", root_ + "/etc/passwd");
  RootfsDirectory rootfs(root_);
  auto text = rootfs.readFile("/etc/passwd", 1024);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "lib:x:9:9::/:/bin/sh\n");
}

TEST_F(OciRootfsFiles, ManualResolutionKeepsLinksInside) {
  dir_.write("rootfs/usr/lib/passwd", "lib:x:9:9::/:/bin/sh\n");
  std::string outside = dir_.write("outside/passwd", "intruder:x:7:7::/:/bin/sh\n");
  dir_.mkdir("rootfs/etc");
  std::filesystem::create_symlink("../usr/./lib/passwd", root_ + "/etc/passwd");
  std::filesystem::create_symlink(outside, root_ + "/etc/shadow");
  std::filesystem::create_symlink("../../../../../../outside/passwd", root_ + "/etc/group");
  std::filesystem::create_symlink("loop", root_ + "/etc/loop");
  RootfsDirectory rootfs(root_);
  rootfs.setManualResolution(true);

  auto text = rootfs.readFile("/etc/passwd", 1024);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "lib:x:9:9::/:/bin/sh\n");
  EXPECT_FALSE(rootfs.readFile("/etc/shadow", 1024).has_value());
  EXPECT_FALSE(rootfs.readFile("/etc/group", 1024).has_value());
  EXPECT_FALSE(rootfs.readFile("/usr/lib/passwd/below", 1024).has_value());
  EXPECT_CRIO_ERROR(rootfs.readFile("/etc/loop", 1024), ErrorCategory::FAILED_PRECONDITION,
                    "levels of symbolic links");
}

TEST_F(OciRootfsFiles, FifoIsNotOpened) {
  dir_.mkdir("rootfs/etc");
  ASSERT_EQ(mkfifo((root_ + "/etc/passwd").c_str(), 0644), 0);
  RootfsDirectory rootfs(root_);
  EXPECT_CRIO_ERROR(rootfs.readFile("/etc/passwd", 1024), ErrorCategory::FAILED_PRECONDITION,
                    "not a regular file");
}

TEST_F(OciRootfsFiles, FileOverBoundIsRejected) {
  dir_.write("rootfs/etc/group", std::string(2000, 'x'));
  RootfsDirectory rootfs(root_);
  EXPECT_CRIO_ERROR(rootfs.readFile("/etc/group", 1024), ErrorCategory::FAILED_PRECONDITION,
                    "bound of 1024");
}

TEST_F(OciRootfsFiles, MakeDirectoriesSetsOwnerOfNewFoldersOnly) {
  dir_.mkdir("rootfs/var");
  RootfsDirectory rootfs(root_);
  rootfs.makeDirectories("/var/lib/data", 1234, 5678);

  struct stat st {};
  ASSERT_EQ(stat((root_ + "/var/lib/data").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  ASSERT_EQ(stat((root_ + "/var").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(OciRootfsFiles, MakeDirectoriesThroughLinkStaysInside) {
  std::string outside = dir_.mkdir("outside");
  std::filesystem::create_symlink(outside, root_ + "/data");
  RootfsDirectory rootfs(root_);
  rootfs.makeDirectories("/data/volume", 0, 0);
  EXPECT_FALSE(std::filesystem::exists(outside + "/volume"));
  EXPECT_TRUE(std::filesystem::is_directory(root_ + outside + "/volume"));
}

TEST_F(OciRootfsFiles, MakeDirectoriesOverFileFails) {
  dir_.write("rootfs/data", "a file");
  RootfsDirectory rootfs(root_);
  EXPECT_CRIO_ERROR(rootfs.makeDirectories("/data/volume", 0, 0),
                    ErrorCategory::FAILED_PRECONDITION, "/data exists and is not a folder");
}

}  // namespace
}  // namespace crio::cri::oci
