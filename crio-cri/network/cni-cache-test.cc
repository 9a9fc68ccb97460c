#include "crio-cri/network/cni-cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::cri {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class CniCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-cni-cache-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  CniCacheEntry entry(const std::string& network, const std::string& pod) {
    CniCacheEntry e;
    e.network = network;
    e.cniVersion = "1.0.0";
    e.configFile = "/etc/cni/net.d/10-" + network + ".conflist";
    e.config = json::parse(R"({"cniVersion":"1.0.0","name":")" + network +
                           R"(","plugins":[{"type":"bridge"},{"type":"portmap",
                           "capabilities":{"portMappings":true}}]})");
    e.containerId = pod;
    e.ifName = "eth0";
    e.netns = "/run/crio/ns/netns/" + pod;
    e.cniArgs = "IgnoreUnknown=1;K8S_POD_NAME=web";
    e.capabilityArgs = json::parse(R"({"portMappings":[{"hostPort":8080,"containerPort":80,
                                   "protocol":"tcp"}]})");
    e.result = json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"10.0.0.5/24"}]})");
    return e;
  }

  std::string dir_;
};

TEST_F(CniCacheTest, RoundTripKeepsEveryField) {
  CniCacheEntry written = entry("crt-net", "pod-a");
  writeCniCache(dir_, written);
  EXPECT_TRUE(fs::exists(dir_ + "/crt-net/pod-a.json"));

  auto read = readCniCache(dir_, "crt-net", "pod-a");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->network, written.network);
  EXPECT_EQ(read->cniVersion, written.cniVersion);
  EXPECT_EQ(read->configFile, written.configFile);
  EXPECT_EQ(read->config, written.config);
  EXPECT_EQ(read->containerId, written.containerId);
  EXPECT_EQ(read->ifName, written.ifName);
  EXPECT_EQ(read->netns, written.netns);
  EXPECT_EQ(read->cniArgs, written.cniArgs);
  EXPECT_EQ(read->capabilityArgs, written.capabilityArgs);
  EXPECT_EQ(read->result, written.result);
}

TEST_F(CniCacheTest, PendingEntryHasNullResult) {
  CniCacheEntry pending = entry("crt-net", "pod-a");
  pending.result = json();
  writeCniCache(dir_, pending);
  auto read = readCniCache(dir_, "crt-net", "pod-a");
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(read->result.is_null());
}

TEST_F(CniCacheTest, RewriteReplacesAndLeavesNoTemporaryFiles) {
  CniCacheEntry first = entry("crt-net", "pod-a");
  first.result = json();
  writeCniCache(dir_, first);
  writeCniCache(dir_, entry("crt-net", "pod-a"));
  int files = 0;
  for (const auto& item : fs::directory_iterator(dir_ + "/crt-net")) {
    EXPECT_EQ(item.path().filename(), "pod-a.json");
    ++files;
  }
  EXPECT_EQ(files, 1);
  EXPECT_FALSE(readCniCache(dir_, "crt-net", "pod-a")->result.is_null());
  EXPECT_EQ(fs::status(dir_ + "/crt-net").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(CniCacheTest, MissingEntryIsNullopt) {
  EXPECT_FALSE(readCniCache(dir_, "crt-net", "pod-none").has_value());
  EXPECT_TRUE(findCniCache(dir_, "pod-none").empty());
  EXPECT_TRUE(findCniCache(dir_ + "/absent", "pod-none").empty());
}

TEST_F(CniCacheTest, CorruptOrForeignFilesAreRejected) {
  fs::create_directories(dir_ + "/crt-net");
  const char* bad[] = {"{not json", R"({"kind":"other","version":1})",
                       R"({"kind":"crio-cni-cache","version":2})",
                       R"({"kind":"crio-cni-cache","version":"1"})",
                       R"({"kind":"crio-cni-cache","version":1,"network":"crt-net"})"};
  for (const char* text : bad) {
    std::ofstream(dir_ + "/crt-net/pod-a.json") << text;
    EXPECT_THROW(readCniCache(dir_, "crt-net", "pod-a"), Error) << text;
  }
  EXPECT_TRUE(findCniCache(dir_, "pod-a").empty());
}

TEST_F(CniCacheTest, OversizedFileIsRejected) {
  fs::create_directories(dir_ + "/crt-net");
  std::ofstream(dir_ + "/crt-net/pod-a.json") << std::string(MAX_CNI_CACHE_BYTES + 1, ' ');
  try {
    readCniCache(dir_, "crt-net", "pod-a");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("larger than"), std::string::npos) << e.what();
  }
}

TEST_F(CniCacheTest, EntryNamingAnotherPodIsRejected) {
  writeCniCache(dir_, entry("crt-net", "pod-a"));
  fs::copy_file(dir_ + "/crt-net/pod-a.json", dir_ + "/crt-net/pod-b.json");
  EXPECT_THROW(readCniCache(dir_, "crt-net", "pod-b"), Error);
}

TEST_F(CniCacheTest, FindCoversEveryNetwork) {
  writeCniCache(dir_, entry("net-b", "pod-a"));
  writeCniCache(dir_, entry("net-a", "pod-a"));
  writeCniCache(dir_, entry("net-a", "pod-other"));
  auto found = findCniCache(dir_, "pod-a");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].network, "net-a");
  EXPECT_EQ(found[1].network, "net-b");
}

TEST_F(CniCacheTest, RemoveIsIdempotent) {
  writeCniCache(dir_, entry("crt-net", "pod-a"));
  removeCniCache(dir_, "crt-net", "pod-a");
  EXPECT_FALSE(readCniCache(dir_, "crt-net", "pod-a").has_value());
  EXPECT_NO_THROW(removeCniCache(dir_, "crt-net", "pod-a"));
}

TEST_F(CniCacheTest, NamesThatAreNotFileNamesAreRejected) {
  EXPECT_THROW(cniCachePath(dir_, "../etc", "pod-a"), Error);
  EXPECT_THROW(cniCachePath(dir_, "crt-net", "../pod"), Error);
  EXPECT_THROW(cniCachePath(dir_, "", "pod-a"), Error);
  EXPECT_EQ(cniCachePath(dir_, "crt.net_1", "pod-a"), dir_ + "/crt.net_1/pod-a.json");
}

}  // namespace
}  // namespace crio::cri
