#include "crio-cri/oci/process-user.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using testing::TempDir;

constexpr const char* PASSWD =
    "# comment\n"
    "root:x:0:0:root:/root:/bin/sh\n"
    "+nis\n"
    "broken:x:notanumber:0::/:/bin/sh\n"
    "app:x:1000:1001:App:/home/app:/bin/sh\n"
    "web:x:33:33::/var/www:/bin/false\r\n";

constexpr const char* GROUP =
    "root:x:0:\n"
    "wheel:x:10:root,app\n"
    "app:x:1001:\n"
    "audio:x:29:app,web\n"
    "www-data:x:33:\n";

class OciProcessUser : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("rootfs/etc/passwd", PASSWD);
    dir_.write("rootfs/etc/group", GROUP);
  }

  ProcessUser resolve(const UserRequest& request) {
    RootfsDirectory rootfs(dir_.path() + "/rootfs");
    return resolveProcessUser(request, rootfs);
  }

  static UserRequest image(const std::string& user) {
    UserRequest request;
    request.imageUser = user;
    return request;
  }

  TempDir dir_;
};

TEST(OciAccountFiles, ParsePasswdSkipsInvalidLines) {
  auto entries = parsePasswd(PASSWD);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].name, "app");
  EXPECT_EQ(entries[1].uid, 1000u);
  EXPECT_EQ(entries[1].gid, 1001u);
  EXPECT_EQ(entries[1].home, "/home/app");
  EXPECT_EQ(entries[2].home, "/var/www");
}

TEST(OciAccountFiles, ParseGroupMembers) {
  auto entries = parseGroup(GROUP);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[1].name, "wheel");
  EXPECT_EQ(entries[1].members, (std::vector<std::string>{"root", "app"}));
  EXPECT_TRUE(entries[0].members.empty());
}

struct ImageUserCase {
  const char* user;
  uint32_t uid;
  uint32_t gid;
  std::vector<uint32_t> additionalGids;
};

TEST_F(OciProcessUser, ImageUserForms) {
  const ImageUserCase cases[] = {
      {"", 0, 0, {0, 10}},
      {"app", 1000, 1001, {1001, 10, 29}},
      {"1000", 1000, 1001, {1001, 10, 29}},
      {"app:audio", 1000, 29, {29, 10}},
      {"app:33", 1000, 33, {33, 10, 29}},
      {"1000:1000", 1000, 1000, {1000, 10, 29}},
      {"4242", 4242, 0, {0}},
      {"4242:7", 4242, 7, {7}},
      {"web", 33, 33, {33, 29}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.user);
    ProcessUser user = resolve(image(c.user));
    EXPECT_EQ(user.uid, c.uid);
    EXPECT_EQ(user.gid, c.gid);
    EXPECT_EQ(user.additionalGids, c.additionalGids);
  }
}

TEST_F(OciProcessUser, UnknownUserNameIsNamed) {
  EXPECT_CRIO_ERROR(resolve(image("nobody")), ErrorCategory::INVALID_ARGUMENT,
                    "user \"nobody\" is not in the image's /etc/passwd");
}

TEST_F(OciProcessUser, UnknownGroupNameIsNamed) {
  EXPECT_CRIO_ERROR(resolve(image("app:video")), ErrorCategory::INVALID_ARGUMENT,
                    "group \"video\" is not in the image's /etc/group");
}

TEST_F(OciProcessUser, RunAsUserOverridesImageUser) {
  UserRequest request = image("app");
  request.runAsUser = 33;
  ProcessUser user = resolve(request);
  EXPECT_EQ(user.uid, 33u);
  EXPECT_EQ(user.gid, 33u);
}

TEST_F(OciProcessUser, RunAsGroupOverridesGid) {
  UserRequest request = image("app");
  request.runAsUser = 1000;
  request.runAsGroup = 2000;
  ProcessUser user = resolve(request);
  EXPECT_EQ(user.uid, 1000u);
  EXPECT_EQ(user.gid, 2000u);
  EXPECT_EQ(user.additionalGids.front(), 2000u);
}

TEST_F(OciProcessUser, RunAsGroupNeedsAUser) {
  UserRequest request = image("app");
  request.runAsGroup = 2000;
  EXPECT_CRIO_ERROR(resolve(request), ErrorCategory::INVALID_ARGUMENT,
                    "run_as_group is set without run_as_user or run_as_username");
  request.runAsUsername = "app";
  EXPECT_EQ(resolve(request).gid, 2000u);
}

TEST_F(OciProcessUser, RunAsUsernameLooksUpPasswd) {
  UserRequest request;
  request.runAsUsername = "app";
  EXPECT_EQ(resolve(request).uid, 1000u);
  request.runAsUsername = "ghost";
  EXPECT_CRIO_ERROR(resolve(request), ErrorCategory::INVALID_ARGUMENT,
                    "security_context.run_as_username: user \"ghost\"");
}

TEST_F(OciProcessUser, NegativeRunAsUserIsRejected) {
  UserRequest request;
  request.runAsUser = -1;
  EXPECT_CRIO_ERROR(resolve(request), ErrorCategory::INVALID_ARGUMENT,
                    "security_context.run_as_user -1 is out of range");
}

TEST_F(OciProcessUser, SupplementalGroupsMergeAndStrict) {
  UserRequest request = image("app");
  request.supplementalGroups = {5000, 10};
  EXPECT_EQ(resolve(request).additionalGids, (std::vector<uint32_t>{1001, 10, 29, 5000}));

  request.strictSupplementalGroups = true;
  EXPECT_EQ(resolve(request).additionalGids, (std::vector<uint32_t>{1001, 5000, 10}));
}

TEST_F(OciProcessUser, MissingAccountFilesMeanNumericOnly) {
  TempDir empty;
  RootfsDirectory rootfs(empty.mkdir("rootfs"));
  ProcessUser user = resolveProcessUser(image("1000"), rootfs);
  EXPECT_EQ(user.uid, 1000u);
  EXPECT_EQ(user.gid, 0u);
  EXPECT_THROW(resolveProcessUser(image("app"), rootfs), crio::Error);
}

TEST_F(OciProcessUser, PasswdLinkOutsideRootIsNotFollowed) {
  std::string outside = dir_.write("outside/passwd", "intruder:x:4000:4000::/:/bin/sh\n");
  std::filesystem::remove(dir_.path() + "/rootfs/etc/passwd");
  std::filesystem::create_symlink(outside, dir_.path() + "/rootfs/etc/passwd");
  EXPECT_CRIO_ERROR(resolve(image("intruder")), ErrorCategory::INVALID_ARGUMENT,
                    "user \"intruder\" is not in the image's /etc/passwd");
}

}  // namespace
}  // namespace crio::cri::oci
