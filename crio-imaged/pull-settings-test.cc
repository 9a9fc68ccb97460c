#include "crio-imaged/pull-settings.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace crio::imaged {
namespace {

namespace fs = std::filesystem;

constexpr const char* ACCEPT = R"({"default": [{"type": "insecureAcceptAnything"}]})";
constexpr const char* REJECT = R"({"default": [{"type": "reject"}]})";

class PullSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-pull-settings-test-XXXXXX";
    root_ = mkdtemp(pattern);
    fs::create_directories(root_ + "/etc/containers");
    config_ = Config::defaults(Paths(root_));
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(root_ + path).parent_path());
    std::ofstream(root_ + path) << text;
  }

  std::shared_ptr<const PullSettings> load(const PullSettings* previous = nullptr) {
    return loadPullSettings(config_, Paths(root_), previous);
  }

  std::string root_;
  Config config_;
};

Reference name(const std::string& text) {
  return parseReference(text);
}

TEST_F(PullSettingsTest, MissingPolicyFailsPulls) {
  auto settings = load();
  try {
    settings->requirePolicy();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
    EXPECT_NE(std::string(e.what()).find(root_ + "/etc/containers/policy.json"), std::string::npos)
        << e.what();
  }
}

TEST_F(PullSettingsTest, ReadsAllThreeFiles) {
  write("/etc/containers/policy.json", ACCEPT);
  write("/etc/containers/registries.conf", "unqualified-search-registries = [\"quay.io\"]\n");
  write("/root/.config/containers/auth.json",
        R"({"auths": {"quay.io": {"auth": "YWxpY2U6c2VjcmV0"}}})");
  auto settings = load();

  EXPECT_NO_THROW(settings->requirePolicy().precheck(name("quay.io/app:1")));
  ASSERT_EQ(settings->registries.unqualifiedSearchRegistries.size(), 1u);
  auto credentials = settings->storedCredentials("quay.io/app");
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->username, "alice");
  EXPECT_EQ(credentials->password, "secret");
  EXPECT_FALSE(settings->storedCredentials("docker.io/library/app").has_value());
}

TEST_F(PullSettingsTest, ReloadKeepsPartsThatFail) {
  write("/etc/containers/policy.json", REJECT);
  write("/etc/containers/registries.conf", "unqualified-search-registries = [\"quay.io\"]\n");
  write("/run/containers/0/auth.json", R"({"auths": {"quay.io": {"auth": "YWxpY2U6c2VjcmV0"}}})");
  auto first = load();

  write("/etc/containers/policy.json", "{not json");
  write("/etc/containers/registries.conf", "unqualified-search-registries = 7\n");
  write("/run/containers/0/auth.json", "{not json");
  auto second = load(first.get());

  EXPECT_THROW(second->requirePolicy().precheck(name("quay.io/app:1")), Error);
  ASSERT_EQ(second->registries.unqualifiedSearchRegistries.size(), 1u);
  EXPECT_EQ(second->registries.unqualifiedSearchRegistries[0], "quay.io");
  auto credentials = second->storedCredentials("quay.io/app");
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->username, "alice");
}

TEST_F(PullSettingsTest, InvalidRegistriesConfFailsFirstLoad) {
  write("/etc/containers/registries.conf", "unqualified-search-registries = 7\n");
  EXPECT_THROW(load(), Error);
}

TEST_F(PullSettingsTest, InvalidAuthFileFailsLookup) {
  write("/run/containers/0/auth.json", "{not json");
  auto settings = load();
  try {
    settings->storedCredentials("quay.io/app");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("auth.json"), std::string::npos) << e.what();
  }
}

TEST_F(PullSettingsTest, HolderReloadsNewPolicy) {
  write("/etc/containers/policy.json", REJECT);
  PullSettingsHolder holder(config_, Paths(root_));
  auto before = holder.current();
  EXPECT_THROW(before->requirePolicy().precheck(name("quay.io/app:1")), Error);

  write("/etc/containers/policy.json", ACCEPT);
  holder.reload(config_);
  EXPECT_NO_THROW(holder.current()->requirePolicy().precheck(name("quay.io/app:1")));
  // A pull that started before the reload keeps its snapshot.
  EXPECT_THROW(before->requirePolicy().precheck(name("quay.io/app:1")), Error);
}

}  // namespace
}  // namespace crio::imaged
