#include "crio-cri/oci/mount-info.h"

#include <gtest/gtest.h>

namespace crio::cri::oci {
namespace {

constexpr const char* TABLE =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "40 27 0:40 / /mnt/private rw - tmpfs tmpfs rw\n"
    "41 27 0:41 / /mnt/slave rw master:7 - tmpfs tmpfs rw\n"
    "42 27 0:42 / /mnt/both rw shared:9 master:7 - tmpfs tmpfs rw\n"
    "43 27 0:43 / /mnt/with\\040space rw shared:3 - tmpfs tmpfs rw\n"
    "garbage line\n"
    "44 40 0:44 / /mnt/private rw shared:11 - tmpfs tmpfs rw\n";

TEST(OciMountInfo, ParsesOptionalFieldsAndEscapes) {
  auto entries = parseMountInfo(TABLE);
  ASSERT_EQ(entries.size(), 7u);
  EXPECT_EQ(entries[0].mountPoint, "/proc");
  EXPECT_TRUE(entries[0].optional.empty());
  EXPECT_TRUE(entries[1].isShared());
  EXPECT_TRUE(entries[3].isSlave());
  EXPECT_FALSE(entries[3].isShared());
  EXPECT_EQ(entries[5].mountPoint, "/mnt/with space");
}

TEST(OciMountInfo, ParsesRootAndType) {
  auto entries = parseMountInfo(
      "30 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
      "31 25 0:27 /kubepods /mnt/bound\\040pods rw shared:4 - cgroup2 cgroup2 rw\n"
      "32 25 0:28 / /mnt/cut rw -\n");
  ASSERT_EQ(entries.size(), 2u) << "a line without a type is skipped";
  EXPECT_EQ(entries[0].root, "/");
  EXPECT_EQ(entries[0].fsType, "cgroup");
  EXPECT_EQ(entries[1].root, "/kubepods");
  EXPECT_EQ(entries[1].mountPoint, "/mnt/bound pods");
  EXPECT_EQ(entries[1].fsType, "cgroup2");
}

TEST(OciMountInfo, FindsLongestAndLastMount) {
  auto entries = parseMountInfo(TABLE);
  EXPECT_EQ(findContainingMount(entries, "/var/lib/x")->mountPoint, "/");
  EXPECT_EQ(findContainingMount(entries, "/mnt/slave/data")->mountPoint, "/mnt/slave");
  EXPECT_EQ(findContainingMount(entries, "/mnt/slavery")->mountPoint, "/");
  // /mnt/private is mounted twice; the later (stacked) mount is the one in effect.
  EXPECT_TRUE(findContainingMount(entries, "/mnt/private/a")->isShared());
}

TEST(OciMountInfo, NoRootMeansNoMatch) {
  auto entries = parseMountInfo("22 27 0:21 / /proc rw - proc proc rw\n");
  EXPECT_EQ(findContainingMount(entries, "/data"), nullptr);
}

}  // namespace
}  // namespace crio::cri::oci
