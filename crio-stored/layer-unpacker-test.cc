#include "crio-stored/layer-unpacker.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "crio-stored/layer-stream.h"
#include "crio-stored/test-tarball.h"
#include "crio-stored/unique-fd.h"

namespace crio::stored {
namespace {

using testing::Spec;
using testing::TarBuilder;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string xattr(const std::string& path, const char* name) {
  char value[256];
  ssize_t n = lgetxattr(path.c_str(), name, value, sizeof(value));
  return n < 0 ? "<none>" : std::string(value, static_cast<size_t>(n));
}

// A v2 file capability granting CAP_NET_BIND_SERVICE, effective.
std::string fileCapability() {
  vfs_cap_data cap{};
  cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
  cap.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
  return std::string(reinterpret_cast<const char*>(&cap), sizeof(cap));
}

class LayerUnpackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Layers keep owners and device nodes: that takes root (CAP_CHOWN, CAP_MKNOD).
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
  }

  std::string path(const std::string& relative) { return dir_.path() + "/" + relative; }

  UnpackStats unpack(const std::string& tar, UnpackOptions options = {}) {
    UniqueFd root(open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    UniqueFd blob(testing::blobFd(tar));
    LayerStream stream(blob.get(), "");
    TarReader reader(stream);
    return unpackLayer(reader, root.get(), options);
  }

  // The error message of an unpack that must fail.
  std::string failure(const std::string& tar, UnpackOptions options = {}) {
    try {
      unpack(tar, options);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "the unpack succeeded";
    return "";
  }

  testing::TempDir dir_;
  testing::TempDir outside_;
};

TEST_F(LayerUnpackerTest, WritesEveryKindOfEntry) {
  TarBuilder tar;
  tar.dir("etc", 0755)
      .file("etc/hostname", "box\n", 0644)
      .add({.path = "home/user/notes", .content = "mine", .mode = 0600, .uid = 1000, .gid = 1001})
      .symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
      .symlink("etc/relative", "../home/user/notes")
      .hardlink("etc/hostname.link", "etc/hostname")
      .add({.path = "dev/null",
            .type = EntryType::CHAR_DEVICE,
            .mode = 0666,
            .devMajor = 1,
            .devMinor = 3})
      .add({.path = "dev/loop0", .type = EntryType::BLOCK_DEVICE, .mode = 0660, .devMajor = 7})
      .add({.path = "run/fifo", .type = EntryType::FIFO, .mode = 0600})
      .add({.path = "usr/bin/su", .content = "#!", .mode = 04755})
      .add({.path = "usr/bin/wall", .content = "#!", .mode = 02755, .gid = 5})
      .add({.path = "tmp", .type = EntryType::DIRECTORY, .mode = 01777})
      .add({.path = "usr/bin/ping",
            .content = "#!",
            .mode = 0755,
            .xattrs = {{"security.capability", fileCapability()}}})
      .add({.path = "data", .content = "x", .xattrs = {{"user.origin", "test"}}})
      .add({.path = "etc/passwd", .content = "root:x:0:0::/root:/bin/sh\n", .mtime = 1234567});
  UnpackStats stats = unpack(tar.bytes());
  EXPECT_EQ(stats.entries, 15u);

  EXPECT_EQ(readFile(path("etc/hostname")), "box\n");
  struct stat st;
  ASSERT_EQ(lstat(path("home/user/notes").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(lstat(path("home").c_str(), &st), 0);  // made implicitly
  EXPECT_EQ(st.st_mode & 07777, 0755u);

  char target[256];
  ssize_t n = readlink(path("etc/localtime").c_str(), target, sizeof(target));
  EXPECT_EQ(std::string(target, static_cast<size_t>(n)), "/usr/share/zoneinfo/UTC");

  struct stat a, b;
  ASSERT_EQ(lstat(path("etc/hostname").c_str(), &a), 0);
  ASSERT_EQ(lstat(path("etc/hostname.link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);

  ASSERT_EQ(lstat(path("dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  ASSERT_EQ(lstat(path("dev/loop0").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  ASSERT_EQ(lstat(path("run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));

  ASSERT_EQ(lstat(path("usr/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  ASSERT_EQ(lstat(path("usr/bin/wall").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02755u);
  EXPECT_EQ(st.st_gid, 5u);
  ASSERT_EQ(lstat(path("tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);

  EXPECT_EQ(xattr(path("usr/bin/ping"), "security.capability"), fileCapability());
  EXPECT_EQ(xattr(path("data"), "user.origin"), "test");

  ASSERT_EQ(lstat(path("etc/passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1234567);
  ASSERT_EQ(lstat(path("etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1700000000);  // set after its children were written
}

TEST_F(LayerUnpackerTest, KeepsNamesAsBytes) {
  std::string name = "caf\xc3\xa9/na\xc3\xafve \xe2\x9c\x93.txt";
  std::string latin1 = "latin1-\xe9";
  unpack(TarBuilder().file(name, "utf-8").file(latin1, "raw").bytes());
  EXPECT_EQ(readFile(path(name)), "utf-8");
  EXPECT_EQ(readFile(path(latin1)), "raw");
}

TEST_F(LayerUnpackerTest, ConvertsWhiteoutsForOverlayfs) {
  TarBuilder tar;
  tar.dir("etc").file("etc/.wh.motd", "").dir("var/cache").file("var/cache/.wh..wh..opq", "");
  tar.file(".wh..wh.plnk", "").file("keep", "k");
  UnpackStats stats = unpack(tar.bytes());
  EXPECT_EQ(stats.whiteouts, 1u);
  EXPECT_EQ(stats.opaqueDirectories, 1u);

  struct stat st;
  ASSERT_EQ(lstat(path("etc/motd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_NE(lstat(path("etc/.wh.motd").c_str(), &st), 0);
  EXPECT_EQ(xattr(path("var/cache"), "user.overlay.opaque"), "y");
  EXPECT_NE(lstat(path("var/cache/.wh..wh..opq").c_str(), &st), 0);
  EXPECT_NE(lstat(path(".wh..wh.plnk").c_str(), &st), 0);
}

TEST_F(LayerUnpackerTest, LaterEntriesReplaceEarlierOnes) {
  TarBuilder tar;
  tar.file("a", "old").symlink("a", "target").dir("d").file("d/x", "x").file("d", "now a file");
  tar.file("f", "one").file("f", "two");
  unpack(tar.bytes());
  struct stat st;
  ASSERT_EQ(lstat(path("a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(readFile(path("d")), "now a file");
  EXPECT_EQ(readFile(path("f")), "two");
}

TEST_F(LayerUnpackerTest, DropsOverlayXattrsFromTheTarball) {
  TarBuilder tar;
  tar.add({.path = "dir",
           .type = EntryType::DIRECTORY,
           .mode = 0755,
           .xattrs = {{"trusted.overlay.opaque", "y"},
                      {"user.overlay.redirect", "/etc"},
                      {"user.kept", "1"}}});
  tar.add({.path = "file", .content = "x", .xattrs = {{"trusted.overlay.metacopy", ""}}});
  UnpackStats stats = unpack(tar.bytes());
  EXPECT_EQ(stats.droppedXattrs, 3u);
  EXPECT_EQ(xattr(path("dir"), "user.overlay.redirect"), "<none>");
  EXPECT_EQ(xattr(path("dir"), "trusted.overlay.opaque"), "<none>");
  EXPECT_EQ(xattr(path("dir"), "user.kept"), "1");
  EXPECT_EQ(xattr(path("file"), "trusted.overlay.metacopy"), "<none>");
}

TEST_F(LayerUnpackerTest, RefusesPathsOutOfTheLayer) {
  std::string message = failure(TarBuilder().file("../escape", "x").bytes());
  EXPECT_NE(message.find("layer entry \"../escape\""), std::string::npos) << message;
  EXPECT_NE(message.find("\"..\" component"), std::string::npos) << message;

  message = failure(TarBuilder().file("a/../../escape", "x").bytes());
  EXPECT_NE(message.find("\"..\" component"), std::string::npos) << message;

  message = failure(TarBuilder().file(outside_.path() + "/absolute", "x").bytes());
  EXPECT_NE(message.find("is absolute"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(outside_.path() + "/absolute"));
}

TEST_F(LayerUnpackerTest, NeverWritesThroughASymlink) {
  for (const std::string& target :
       {outside_.path(), std::string("../../../../../../tmp"), std::string(".")}) {
    testing::TempDir fresh;
    TarBuilder tar;
    tar.symlink("evil", target).file("evil/pwned", "gotcha");
    std::string message = failure(tar.bytes());
    EXPECT_NE(message.find("layer entry \"evil/pwned\""), std::string::npos) << message;
    EXPECT_NE(message.find("symbolic link"), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(outside_.path() + "/pwned"));

  TarBuilder deeper;
  deeper.dir("a").symlink("a/b", outside_.path()).file("a/b/c/d", "x");
  EXPECT_NE(failure(deeper.bytes()).find("symbolic link"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(outside_.path()));
}

TEST_F(LayerUnpackerTest, HardLinksStayInsideTheLayer) {
  std::string message = failure(TarBuilder().hardlink("h", "../../etc/passwd").bytes());
  EXPECT_NE(message.find("\"..\" component"), std::string::npos) << message;

  message = failure(TarBuilder().hardlink("h", "/etc/passwd").bytes());
  EXPECT_NE(message.find("is absolute"), std::string::npos) << message;

  message = failure(TarBuilder().hardlink("h", "etc/passwd").bytes());
  EXPECT_NE(message.find("not an earlier entry of this layer"), std::string::npos) << message;

  TarBuilder through;
  through.symlink("etc", "/etc").hardlink("h", "etc/passwd");
  message = failure(through.bytes());
  EXPECT_NE(message.find("symbolic link"), std::string::npos) << message;

  message = failure(TarBuilder().dir("d").hardlink("h", "d").bytes());
  EXPECT_NE(message.find("hard link to directory"), std::string::npos) << message;
}

TEST_F(LayerUnpackerTest, ALinkToASymlinkIsTheSymlinkItself) {
  TarBuilder tar;
  tar.symlink("s", outside_.path()).hardlink("h", "s");
  unpack(tar.bytes());
  struct stat st;
  ASSERT_EQ(lstat(path("h").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(LayerUnpackerTest, ReplacingALinkNeverWritesThroughIt) {
  std::string victim = outside_.path() + "/victim";
  std::ofstream(victim) << "safe";
  TarBuilder tar;
  tar.file("f", "inside").hardlink("h", "f").file("h", "new content");
  tar.symlink("s", victim).file("s", "new content");
  unpack(tar.bytes());
  EXPECT_EQ(readFile(path("f")), "inside");
  EXPECT_EQ(readFile(path("h")), "new content");
  EXPECT_EQ(readFile(victim), "safe");
}

TEST_F(LayerUnpackerTest, DevicePolicyIsExplicit) {
  TarBuilder tar;
  tar.add({.path = "dev/sda", .type = EntryType::BLOCK_DEVICE, .devMajor = 8});
  UnpackOptions reject;
  reject.devices = DevicePolicy::REJECT;
  EXPECT_NE(failure(tar.bytes(), reject).find("device nodes are not allowed"), std::string::npos);
}

TEST_F(LayerUnpackerTest, EntryCountIsBounded) {
  TarBuilder tar;
  for (int i = 0; i < 5; ++i)
    tar.file("f" + std::to_string(i), "");
  UnpackOptions small;
  small.maxEntries = 4;
  EXPECT_NE(failure(tar.bytes(), small).find("more than 4 entries"), std::string::npos);
}

TEST_F(LayerUnpackerTest, DamagedTarFails) {
  std::string tar = TarBuilder().file("a", std::string(5000, 'a')).file("b", "b").bytes();
  std::string message = failure(tar.substr(0, 2048));
  EXPECT_FALSE(message.empty());
  EXPECT_FALSE(failure("this is not a tar archive at all, not even close.....").empty());
}

TEST_F(LayerUnpackerTest, AnEmptyLayerIsFine) {
  EXPECT_EQ(unpack(TarBuilder().bytes()).entries, 0u);
  EXPECT_EQ(unpack(std::string(1024, '\0')).entries, 0u);
}

// The converted whiteouts do what they should in a real overlay mount with `userxattr`.
TEST_F(LayerUnpackerTest, OverlayfsHonoursTheConvertedWhiteouts) {
  testing::TempDir lower, upper, merged;
  {
    UniqueFd root(open(lower.path().c_str(), O_RDONLY | O_DIRECTORY));
    TarBuilder base;
    base.file("gone", "x").dir("opaque").file("opaque/old", "x").file("kept", "x");
    UniqueFd blob(testing::blobFd(base.bytes()));
    LayerStream stream(blob.get(), "");
    TarReader reader(stream);
    unpackLayer(reader, root.get(), {});
  }
  {
    UniqueFd root(open(upper.path().c_str(), O_RDONLY | O_DIRECTORY));
    TarBuilder top;
    top.file(".wh.gone", "").dir("opaque").file("opaque/.wh..wh..opq", "").file("opaque/new", "");
    UniqueFd blob(testing::blobFd(top.bytes()));
    LayerStream stream(blob.get(), "");
    TarReader reader(stream);
    unpackLayer(reader, root.get(), {});
  }
  std::string options = "userxattr,lowerdir=" + upper.path() + ":" + lower.path();
  if (mount("overlay", merged.path().c_str(), "overlay", MS_RDONLY, options.c_str()) != 0) {
    GTEST_SKIP() << "cannot mount overlayfs here: " << strerror(errno);
  }
  EXPECT_FALSE(std::filesystem::exists(merged.path() + "/gone"));
  EXPECT_TRUE(std::filesystem::exists(merged.path() + "/kept"));
  EXPECT_TRUE(std::filesystem::exists(merged.path() + "/opaque/new"));
  EXPECT_FALSE(std::filesystem::exists(merged.path() + "/opaque/old"));
  umount2(merged.path().c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace crio::stored
