#include "crio-stored/beneath.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/error.h"
#include "crio-stored/test-tarball.h"

namespace crio::stored {
namespace {

using Path = std::vector<std::string>;

TEST(BeneathTest, SplitsAndNormalises) {
  EXPECT_EQ(splitEntryPath("./a//b/"), (Path{"a", "b"}));
  EXPECT_EQ(splitEntryPath("a/./b"), (Path{"a", "b"}));
  EXPECT_EQ(splitEntryPath("./"), Path{});
  EXPECT_EQ(splitEntryPath("."), Path{});
  EXPECT_EQ(splitEntryPath("..."), Path{"..."});
}

TEST(BeneathTest, RefusesEscapes) {
  EXPECT_THROW(splitEntryPath("/etc/passwd"), Error);
  EXPECT_THROW(splitEntryPath("../x"), Error);
  EXPECT_THROW(splitEntryPath("a/../../x"), Error);
  EXPECT_THROW(splitEntryPath("a/.."), Error);
  EXPECT_THROW(splitEntryPath(std::string("a\0b", 3)), Error);
  EXPECT_THROW(splitEntryPath(std::string(256, 'n')), Error);
  EXPECT_THROW(splitEntryPath(std::string(5000, 'n')), Error);
  std::string deep;
  for (int i = 0; i < 300; ++i)
    deep += "d/";
  EXPECT_THROW(splitEntryPath(deep), Error);
}

TEST(BeneathTest, CreatesMissingDirectoriesButNeverFollowsSymlinks) {
  testing::TempDir dir;
  UniqueFd root(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  Path path{"a", "b", "c"};
  UniqueFd fd = openDirBeneath(root.get(), path, 3, true);
  struct stat st;
  ASSERT_EQ(stat((dir.path() + "/a/b/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));

  ASSERT_EQ(symlink("/tmp", (dir.path() + "/link").c_str()), 0);
  EXPECT_THROW(openDirBeneath(root.get(), {"link"}, 1, true), Error);
  EXPECT_THROW(openDirBeneath(root.get(), {"link", "x"}, 2, true), Error);
  ASSERT_EQ(symlink("a", (dir.path() + "/rel").c_str()), 0);
  EXPECT_THROW(openDirBeneath(root.get(), {"rel", "b"}, 2, false), Error);
}

TEST(BeneathTest, MissingWithoutCreateIsNotFound) {
  testing::TempDir dir;
  UniqueFd root(open(dir.path().c_str(), O_RDONLY | O_DIRECTORY));
  try {
    openDirBeneath(root.get(), {"nope"}, 1, false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
  }
}

}  // namespace
}  // namespace crio::stored
