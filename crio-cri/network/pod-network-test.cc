// ADD, DEL and CHECK against fake plugins: shell scripts that record each call (environment and
// stdin) and respond with a result, an error, or a delay that the test chooses. Runs as root,
// because ADD needs a pinned network namespace.
#include "crio-cri/network/pod-network.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/namespace-pinning.h"
#include "crio-cri/network/cni-cache.h"

namespace crio::cri {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Records the call in calls.log and TYPE-COMMAND.{stdin,env}, then acts on TYPE.sleep,
// TYPE.result (printed on ADD) and TYPE-COMMAND.exit.
constexpr const char* FAKE_PLUGIN = R"SH(#!/bin/sh
dir=@DIR@
type=$(basename "$0")
cat > "$dir/$type-$CNI_COMMAND.stdin"
env | grep '^CNI_' | sort > "$dir/$type-$CNI_COMMAND.env"
echo "$type $CNI_COMMAND" >> "$dir/calls.log"
if [ -f "$dir/$type.sleep" ]; then sleep "$(cat "$dir/$type.sleep")"; fi
if [ "$CNI_COMMAND" = ADD ] && [ -f "$dir/$type.result" ]; then cat "$dir/$type.result"; fi
if [ -f "$dir/$type-$CNI_COMMAND.exit" ]; then exit "$(cat "$dir/$type-$CNI_COMMAND.exit")"; fi
exit 0
)SH";

constexpr const char* MAIN_RESULT = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"fake0"},{"name":"eth0","sandbox":"NETNS"}],
  "ips":[{"address":"10.244.213.9/24","gateway":"10.244.213.1","interface":1},
         {"address":"fd00:213::9/64","interface":1}]})";

constexpr const char* CHAIN_RESULT = R"({"cniVersion":"1.0.0",
  "interfaces":[{"name":"fake0"},{"name":"eth0","sandbox":"NETNS"}],
  "ips":[{"address":"10.244.213.9/24","gateway":"10.244.213.1","interface":1},
         {"address":"fd00:213::9/64","interface":1}],
  "routes":[{"dst":"0.0.0.0/0"}]})";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class PodNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to pin a network namespace";
    char pattern[] = "/tmp/crio-pod-network-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    for (const char* dir : {"/net.d", "/bin", "/calls", "/cache"})
      fs::create_directories(root_ + dir);
    for (const char* type : {"fake-main", "fake-chain", "fake-ipam"}) {
      std::string script = FAKE_PLUGIN;
      script.replace(script.find("@DIR@"), 5, root_ + "/calls");
      std::string path = root_ + "/bin/" + type;
      std::ofstream(path) << script;
      fs::permissions(path, fs::perms::owner_all);
    }
    settings_.networkDir = root_ + "/net.d";
    settings_.pluginDirs = {root_ + "/empty-dir", root_ + "/bin"};
    settings_.cacheDir = root_ + "/cache";
    writeConfig("1.0.0", "");

    PodNamespaceRequest pin;
    pin.namespacesDir = root_ + "/ns";
    pin.podId = "pod-a";
    pin.ipc = false;
    pin.uts = false;
    netns_ = pinPodNamespaces(pin).network;
    setResult("fake-main", MAIN_RESULT);
    setResult("fake-chain", CHAIN_RESULT);
  }

  void TearDown() override {
    if (root_.empty()) return;
    unpinPodNamespaces(root_ + "/ns", "pod-a");
    umount2((root_ + "/ns").c_str(), MNT_DETACH);
    fs::remove_all(root_);
  }

  void writeConfig(const std::string& version, const std::string& extra) {
    std::ofstream(root_ + "/net.d/10-fake.conflist")
        << R"({"cniVersion":")" << version << R"(","name":"fake-net",)" << extra
        << R"("plugins":[{"type":"fake-main","ipam":{"type":"fake-ipam"}},
            {"type":"fake-chain","capabilities":{"portMappings":true}}]})";
  }

  void setResult(const std::string& type, std::string result) {
    for (size_t at; (at = result.find("NETNS")) != std::string::npos;)
      result.replace(at, 5, netns_);
    std::ofstream(root_ + "/calls/" + type + ".result") << result;
  }

  void setFile(const std::string& name, const std::string& text) {
    std::ofstream(root_ + "/calls/" + name) << text;
  }

  std::string calls() { return readFile(root_ + "/calls/calls.log"); }
  json input(const std::string& type, const std::string& command) {
    return json::parse(readFile(root_ + "/calls/" + type + "-" + command + ".stdin"));
  }
  std::string env(const std::string& type, const std::string& command) {
    return readFile(root_ + "/calls/" + type + "-" + command + ".env");
  }

  PodNetworkRequest request() {
    PodNetworkRequest r;
    r.podId = "pod-a";
    r.netnsPath = netns_;
    r.podName = "web";
    r.podNamespace = "shop";
    r.podUid = "uid-1";
    r.portMappings = {{PortProtocol::TCP, 80, 8080, ""}};
    return r;
  }

  std::string root_;
  std::string netns_;
  CniSettings settings_;
};

TEST_F(PodNetworkTest, AddRunsPluginsInOrderWithChainedResults) {
  PodNetworkStatus status = setUpPodNetwork(settings_, request());

  EXPECT_EQ(calls(), "fake-main ADD\nfake-chain ADD\n");
  EXPECT_EQ(status.network, "fake-net");
  std::vector<std::string> ips = {"10.244.213.9", "fd00:213::9"};
  EXPECT_EQ(status.ips, ips);
  EXPECT_EQ(status.result.routes.size(), 1u);

  json first = input("fake-main", "ADD");
  EXPECT_EQ(first["name"], "fake-net");
  EXPECT_EQ(first["cniVersion"], "1.0.0");
  EXPECT_FALSE(first.contains("prevResult"));
  EXPECT_FALSE(first.contains("runtimeConfig"));
  json second = input("fake-chain", "ADD");
  EXPECT_EQ(second["prevResult"]["ips"][0]["address"], "10.244.213.9/24");
  EXPECT_FALSE(second.contains("capabilities"));
  EXPECT_EQ(second["runtimeConfig"]["portMappings"][0]["hostPort"], 8080);
  EXPECT_EQ(second["runtimeConfig"]["portMappings"][0]["protocol"], "tcp");

  std::string environment = env("fake-main", "ADD");
  EXPECT_NE(environment.find("CNI_COMMAND=ADD\n"), std::string::npos);
  EXPECT_NE(environment.find("CNI_CONTAINERID=pod-a\n"), std::string::npos);
  EXPECT_NE(environment.find("CNI_NETNS=" + netns_ + "\n"), std::string::npos);
  EXPECT_NE(environment.find("CNI_IFNAME=eth0\n"), std::string::npos);
  EXPECT_NE(environment.find("CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;"
                             "K8S_POD_INFRA_CONTAINER_ID=pod-a;K8S_POD_UID=uid-1\n"),
            std::string::npos)
      << environment;
  EXPECT_NE(environment.find("CNI_PATH=" + root_ + "/empty-dir:" + root_ + "/bin\n"),
            std::string::npos)
      << environment;

  auto cached = readCniCache(settings_.cacheDir, "fake-net", "pod-a");
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->result["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(cached->configFile, root_ + "/net.d/10-fake.conflist");
  auto restored = cachedPodNetwork(settings_, "pod-a");
  ASSERT_TRUE(restored.has_value());
  EXPECT_EQ(restored->ips, ips);
}

TEST_F(PodNetworkTest, SecondAddIsAlreadyExists) {
  setUpPodNetwork(settings_, request());
  try {
    setUpPodNetwork(settings_, request());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::ALREADY_EXISTS) << e.what();
  }
}

TEST_F(PodNetworkTest, DeleteUsesCacheAfterConfigIsGone) {
  setUpPodNetwork(settings_, request());
  fs::remove(root_ + "/net.d/10-fake.conflist");
  fs::remove(root_ + "/calls/calls.log");

  tearDownPodNetwork(settings_, request());
  EXPECT_EQ(calls(), "fake-chain DEL\nfake-main DEL\n");
  json del = input("fake-chain", "DEL");
  EXPECT_EQ(del["prevResult"]["routes"][0]["dst"], "0.0.0.0/0");
  EXPECT_EQ(del["runtimeConfig"]["portMappings"][0]["containerPort"], 80);
  EXPECT_NE(env("fake-main", "DEL").find("K8S_POD_UID=uid-1"), std::string::npos);
  EXPECT_FALSE(readCniCache(settings_.cacheDir, "fake-net", "pod-a").has_value());

  // Nothing recorded and no configuration: nothing to do.
  fs::remove(root_ + "/calls/calls.log");
  EXPECT_NO_THROW(tearDownPodNetwork(settings_, request()));
  EXPECT_EQ(calls(), "");
}

TEST_F(PodNetworkTest, DeleteOfGoneNamespaceLeavesNetnsEmpty) {
  setUpPodNetwork(settings_, request());
  unpinPodNamespaces(root_ + "/ns", "pod-a");
  tearDownPodNetwork(settings_, request());
  EXPECT_NE(env("fake-main", "DEL").find("CNI_NETNS=\n"), std::string::npos);
}

TEST_F(PodNetworkTest, DeleteWithoutCacheUsesCurrentConfig) {
  tearDownPodNetwork(settings_, request());
  EXPECT_EQ(calls(), "fake-chain DEL\nfake-main DEL\n");
  EXPECT_FALSE(input("fake-main", "DEL").contains("prevResult"));

  // Without a recorded ADD, a failing DEL does not block the pod's removal.
  setFile("fake-main-DEL.exit", "1");
  EXPECT_NO_THROW(tearDownPodNetwork(settings_, request()));
  fs::remove(root_ + "/bin/fake-chain");
  EXPECT_NO_THROW(tearDownPodNetwork(settings_, request()));
}

TEST_F(PodNetworkTest, FailedDeleteKeepsCacheForRetry) {
  setUpPodNetwork(settings_, request());
  setFile("fake-main-DEL.exit", "1");
  EXPECT_THROW(tearDownPodNetwork(settings_, request()), Error);
  EXPECT_TRUE(readCniCache(settings_.cacheDir, "fake-net", "pod-a").has_value());
  fs::remove(root_ + "/calls/fake-main-DEL.exit");
  tearDownPodNetwork(settings_, request());
  EXPECT_FALSE(readCniCache(settings_.cacheDir, "fake-net", "pod-a").has_value());
}

TEST_F(PodNetworkTest, Version031HasNoCheckNorDeletePrevResult) {
  writeConfig("0.3.1", "");
  setResult("fake-main",
            R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/8"}]})");
  setResult("fake-chain",
            R"({"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/8"}]})");
  setUpPodNetwork(settings_, request());
  checkPodNetwork(settings_, request());
  EXPECT_EQ(calls().find("CHECK"), std::string::npos);
  tearDownPodNetwork(settings_, request());
  EXPECT_FALSE(input("fake-main", "DEL").contains("prevResult"));
}

TEST_F(PodNetworkTest, PluginErrorNamesPluginAndRollsBack) {
  setFile("fake-chain-ADD.exit", "1");
  setResult("fake-chain",
            R"({"cniVersion":"1.0.0","code":7,"msg":"bad subnet","details":"10.0.0.0/31"})");
  try {
    setUpPodNetwork(settings_, request());
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("add pod pod-a to CNI network fake-net"), std::string::npos);
    EXPECT_NE(message.find("CNI plugin fake-chain ADD failed: code 7 (Invalid network config): "
                           "bad subnet: 10.0.0.0/31"),
              std::string::npos)
        << message;
  }
  EXPECT_EQ(calls(), "fake-main ADD\nfake-chain ADD\nfake-chain DEL\nfake-main DEL\n");
  EXPECT_FALSE(readCniCache(settings_.cacheDir, "fake-net", "pod-a").has_value());
}

TEST_F(PodNetworkTest, ErrorWithoutJsonQuotesStderr) {
  setFile("fake-main-ADD.exit", "3");
  setResult("fake-main", "not json");
  try {
    setUpPodNetwork(settings_, request());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fake-main ADD failed with exit status 3: not json"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(PodNetworkTest, InvalidResultFails) {
  setResult("fake-main", R"({"cniVersion":"1.0.0","ips":[{"address":"nonsense"}]})");
  try {
    setUpPodNetwork(settings_, request());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CNI plugin fake-main ADD: invalid CNI result"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(calls(), "fake-main ADD\nfake-chain DEL\nfake-main DEL\n");
}

TEST_F(PodNetworkTest, MissingPluginNamesDirsAndRunsNothing) {
  fs::remove(root_ + "/bin/fake-chain");
  try {
    setUpPodNetwork(settings_, request());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
    EXPECT_NE(std::string(e.what()).find("CNI plugin \"fake-chain\" not found in " + root_ +
                                         "/empty-dir, " + root_ + "/bin"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(calls(), "");
}

TEST_F(PodNetworkTest, HangingPluginIsKilledAtTimeout) {
  setFile("fake-main.sleep", "30");
  settings_.pluginTimeout = std::chrono::milliseconds(300);
  auto started = std::chrono::steady_clock::now();
  try {
    setUpPodNetwork(settings_, request());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::DEADLINE_EXCEEDED);
    EXPECT_NE(std::string(e.what()).find("CNI plugin fake-main ADD timed out after 300 ms"),
              std::string::npos)
        << e.what();
  }
  // The DEL of the rollback times out as well, so the cache entry stays for a later DEL.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(readCniCache(settings_.cacheDir, "fake-net", "pod-a").has_value());
}

TEST_F(PodNetworkTest, InterruptedAddIsUndoneBeforeRetry) {
  CniCacheEntry pending;
  pending.network = "fake-net";
  pending.cniVersion = "1.0.0";
  pending.config = json::parse(readFile(root_ + "/net.d/10-fake.conflist"));
  pending.containerId = "pod-a";
  pending.ifName = "eth0";
  pending.netns = netns_;
  writeCniCache(settings_.cacheDir, pending);
  setUpPodNetwork(settings_, request());
  EXPECT_EQ(calls(), "fake-chain DEL\nfake-main DEL\nfake-main ADD\nfake-chain ADD\n");
}

TEST_F(PodNetworkTest, CheckPassesCachedResult) {
  setUpPodNetwork(settings_, request());
  checkPodNetwork(settings_, request());
  EXPECT_NE(calls().find("fake-main CHECK\nfake-chain CHECK\n"), std::string::npos);
  EXPECT_EQ(input("fake-main", "CHECK")["prevResult"]["routes"][0]["dst"], "0.0.0.0/0");

  setFile("fake-chain-CHECK.exit", "1");
  EXPECT_THROW(checkPodNetwork(settings_, request()), Error);
}

TEST_F(PodNetworkTest, CheckIsSkippedWhenDisabled) {
  writeConfig("1.0.0", R"("disableCheck":true,)");
  setUpPodNetwork(settings_, request());
  checkPodNetwork(settings_, request());
  EXPECT_EQ(calls().find("CHECK"), std::string::npos);
}

TEST_F(PodNetworkTest, CheckWithoutAttachmentFails) {
  try {
    checkPodNetwork(settings_, request());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
  }
}

TEST_F(PodNetworkTest, AddNeedsPinnedNamespace) {
  PodNetworkRequest r = request();
  r.netnsPath = root_ + "/not-a-netns";
  try {
    setUpPodNetwork(settings_, r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
    EXPECT_NE(std::string(e.what()).find("is not a pinned network namespace"), std::string::npos);
  }
}

TEST_F(PodNetworkTest, ReadinessNamesWhatIsMissing) {
  NetworkReadiness ready = checkNetworkReadiness(settings_);
  EXPECT_TRUE(ready.ready) << ready.message;
  EXPECT_EQ(ready.network, "fake-net");

  fs::remove(root_ + "/bin/fake-ipam");
  NetworkReadiness noIpam = checkNetworkReadiness(settings_);
  EXPECT_FALSE(noIpam.ready);
  EXPECT_EQ(noIpam.reason, "NetworkPluginNotReady");
  EXPECT_NE(noIpam.message.find("CNI plugin \"fake-ipam\" not found in"), std::string::npos)
      << noIpam.message;
  EXPECT_NE(noIpam.message.find("network fake-net"), std::string::npos) << noIpam.message;

  writeConfig("0.2.0", "");
  NetworkReadiness old = checkNetworkReadiness(settings_);
  EXPECT_FALSE(old.ready);
  EXPECT_NE(old.message.find("0.2.0 is not supported"), std::string::npos) << old.message;

  fs::remove(root_ + "/net.d/10-fake.conflist");
  NetworkReadiness none = checkNetworkReadiness(settings_);
  EXPECT_FALSE(none.ready);
  EXPECT_NE(none.message.find("no valid CNI configuration in"), std::string::npos) << none.message;
}

TEST_F(PodNetworkTest, SettingsComeFromConfig) {
  Config config = Config::defaults(Paths("/tmp/root"));
  CniSettings settings = CniSettings::fromConfig(config);
  EXPECT_EQ(settings.networkDir, config.networkDir);
  EXPECT_EQ(settings.pluginDirs, config.pluginDirs);
  EXPECT_EQ(settings.cacheDir, config.stateDir + "/cni-cache");
  EXPECT_EQ(settings.pluginTimeout, CNI_PLUGIN_TIMEOUT);
}

}  // namespace
}  // namespace crio::cri
