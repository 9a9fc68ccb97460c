#include "crio-cri/network/cni-config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace crio::cri {
namespace {

class CniConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-cni-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  std::string dir_;
};

TEST_F(CniConfigTest, MissingFolderIsNotReadyWithAReason) {
  CniDiscovery d = findCniNetwork(dir_ + "/absent", "");
  EXPECT_FALSE(d.found);
  EXPECT_NE(d.reason.find("absent"), std::string::npos);
}

TEST_F(CniConfigTest, LexicallyFirstValidListWins) {
  write("05-broken.conflist", "{not json");
  write("20-b.conflist", R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"bridge"}]})");
  write("10-a.conflist",
        R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"},{"type":"portmap"}]})");
  CniDiscovery d = findCniNetwork(dir_, "");
  ASSERT_TRUE(d.found);
  EXPECT_EQ(d.network.name, "a");
  ASSERT_EQ(d.skipped.size(), 1u);
  EXPECT_NE(d.skipped[0].find("05-broken"), std::string::npos);
}

TEST_F(CniConfigTest, SinglePluginConfIsWrappedIntoAList) {
  write("10-one.conf", R"({"cniVersion":"0.4.0","name":"one","type":"bridge"})");
  CniDiscovery d = findCniNetwork(dir_, "");
  ASSERT_TRUE(d.found);
  EXPECT_NE(d.network.json.find("\"plugins\""), std::string::npos);
}

TEST_F(CniConfigTest, DefaultNetworkNameIsHonoured) {
  write("10-a.conflist", R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]})");
  write("20-b.conflist", R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"bridge"}]})");
  EXPECT_EQ(findCniNetwork(dir_, "b").network.name, "b");
  EXPECT_FALSE(findCniNetwork(dir_, "c").found);
}

TEST_F(CniConfigTest, ListWithoutPluginsOrTypeIsSkipped) {
  write("10-a.conflist", R"({"cniVersion":"1.0.0","name":"a","plugins":[]})");
  write("20-b.conflist", R"({"cniVersion":"1.0.0","name":"b","plugins":[{"x":1}]})");
  CniDiscovery d = findCniNetwork(dir_, "");
  EXPECT_FALSE(d.found);
  EXPECT_EQ(d.skipped.size(), 2u);
}

}  // namespace
}  // namespace crio::cri
