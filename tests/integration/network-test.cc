// Pod networking with the real CNI plugins of /usr/lib/cni and real namespaces: two pods on a
// test bridge, pinging each other, a hostPort, DEL cleanup, DEL after a restart, plugin errors.
//
// Everything the tests create has a test-only name or address (network-support.h): the bridge
// crt-br0, the network crt-net on 10.244.213.0/24, host-local state and pins under the test's
// temporary root. Each test removes what it created even when it fails: the pods' attachments
// and pins here, and the bridge, iptables rules and ip_forward through HostNetworkGuard.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/error.h"
#include "common/namespace-pinning.h"
#include "common/pod-pid-holder.h"
#include "crio-cri/network/pod-network.h"
#include "tests/integration/network-support.h"

namespace crio::testing {
namespace {

namespace fs = std::filesystem;
using cri::CniSettings;
using cri::PodNetworkRequest;
using cri::PodNetworkStatus;

constexpr int HOST_PORT = 31213;
constexpr int CONTAINER_PORT = 8080;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = missingNetworkTestTools();
    if (!missing.empty()) GTEST_SKIP() << missing;
    guard_ = std::make_unique<HostNetworkGuard>();

    char pattern[] = "/tmp/crio-network-it-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    fs::create_directories(root_ + "/net.d");
    fs::create_directories(root_ + "/cache");
    fs::create_directories(root_ + "/bin");

    settings_.networkDir = root_ + "/net.d";
    settings_.pluginDirs = {root_ + "/bin", TEST_PLUGIN_DIR};
    settings_.cacheDir = root_ + "/cache";
    writeConflist();
  }

  void TearDown() override {
    if (root_.empty()) return;
    for (const auto& pod : pods_) {
      try {
        PodNetworkRequest request;
        request.podId = pod;
        request.netnsPath = nsDir() + "/netns/" + pod;
        cri::tearDownPodNetwork(settings_, request);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "CNI DEL of " << pod << " during cleanup: " << e.what();
      }
      try {
        unpinPodNamespaces(nsDir(), pod);
        stopPodPidHolder(nsDir(), pod);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "unpin of " << pod << " during cleanup: " << e.what();
      }
    }
    EXPECT_EQ(guard_->restore(), "");
    umount2(nsDir().c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string nsDir() const { return root_ + "/ns"; }

  void writeConflist(const std::string& portmapOptions = "", const std::string& extra = "") {
    writeTestConflist(root_ + "/net.d", root_ + "/ipam", portmapOptions, extra);
  }

  // Pins the pod's namespaces (hostname crt-POD) and returns the network pin.
  std::string pin(const std::string& pod) {
    pods_.push_back(pod);
    PodNamespaceRequest request;
    request.namespacesDir = nsDir();
    request.podId = pod;
    request.hostname = "crt-" + pod;
    request.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
    return pinPodNamespaces(request).network;
  }

  PodNetworkRequest request(const std::string& pod, const std::string& netns) {
    PodNetworkRequest r;
    r.podId = pod;
    r.netnsPath = netns;
    r.podName = pod;
    r.podNamespace = "crt-test";
    r.podUid = "uid-" + pod;
    return r;
  }

  // The host end of the pod's veth, from the result: the interface outside the sandbox that is
  // not the bridge.
  static std::string hostVeth(const PodNetworkStatus& status) {
    for (const auto& interface : status.result.interfaces) {
      if (interface.sandbox.empty() && interface.name != TEST_BRIDGE) return interface.name;
    }
    return "";
  }

  std::string inPod(const std::string& netns, std::vector<std::string> command) {
    std::vector<std::string> argv = {"/usr/bin/nsenter", "--net=" + netns, "--"};
    argv.insert(argv.end(), command.begin(), command.end());
    ProcessResult result = runCommand(argv);
    return result.succeeded() ? result.stdoutData : "FAILED: " + result.stderrData;
  }

  std::string reservation(const std::string& ip) const {
    return root_ + "/ipam/" + TEST_NETWORK + "/" + ip;
  }

  std::unique_ptr<HostNetworkGuard> guard_;
  std::string root_;
  std::vector<std::string> pods_;
  CniSettings settings_;
};

TEST_F(NetworkTest, TwoPodsReachEachOtherAndHostPort) {
  std::string netnsA = pin("pod-a");
  std::string netnsB = pin("pod-b");
  PodNetworkRequest requestA = request("pod-a", netnsA);
  requestA.portMappings = {{cri::PortProtocol::TCP, CONTAINER_PORT, HOST_PORT, ""}};
  PodNetworkStatus a = cri::setUpPodNetwork(settings_, requestA);
  PodNetworkStatus b = cri::setUpPodNetwork(settings_, request("pod-b", netnsB));

  ASSERT_EQ(a.ips.size(), 1u);
  ASSERT_EQ(b.ips.size(), 1u);
  EXPECT_EQ(a.ips[0].rfind(TEST_SUBNET_PREFIX, 0), 0u) << a.ips[0];
  EXPECT_EQ(b.ips[0].rfind(TEST_SUBNET_PREFIX, 0), 0u) << b.ips[0];
  EXPECT_NE(a.ips[0], b.ips[0]);
  EXPECT_EQ(a.network, TEST_NETWORK);

  std::string eth0 = inPod(netnsA, {"ip", "-o", "-4", "addr", "show", "dev", "eth0"});
  EXPECT_NE(eth0.find(" " + a.ips[0] + "/24 "), std::string::npos) << eth0;
  std::string lo = inPod(netnsA, {"ip", "-o", "addr", "show", "dev", "lo"});
  EXPECT_NE(lo.find("127.0.0.1/8"), std::string::npos) << lo;
  std::string loLink = inPod(netnsA, {"ip", "-o", "link", "show", "dev", "lo"});
  EXPECT_NE(loLink.find(",UP"), std::string::npos) << loLink;

  ProcessResult ping = runCommand({"/usr/bin/nsenter", "--net=" + netnsA, "--", "/bin/busybox",
                                   "ping", "-c1", "-W1", b.ips[0]});
  EXPECT_TRUE(ping.succeeded()) << ping.stdoutData << ping.stderrData;

  // A hostPort is reachable from the host through the bridge gateway and through 127.0.0.1.
  int listener = listenInNamespace(netnsA, CONTAINER_PORT);
  ASSERT_GE(listener, 0);
  GreetingServer server(listener, "hello from pod-a\n");
  EXPECT_EQ(fetchGreeting(a.ips[0], CONTAINER_PORT), "hello from pod-a\n")
      << "pod IP, container port";
  EXPECT_EQ(fetchGreeting(TEST_GATEWAY, HOST_PORT), "hello from pod-a\n")
      << "bridge gateway, host port";
  EXPECT_EQ(fetchGreeting("127.0.0.1", HOST_PORT), "hello from pod-a\n") << "127.0.0.1, host port";
  EXPECT_EQ(readFile(std::string("/proc/sys/net/ipv4/conf/") + TEST_BRIDGE + "/route_localnet"),
            "1\n");

  // UTS: the pod's hostname. IPC: a namespace of its own.
  std::string hostname = inPod(netnsA, {"/usr/bin/nsenter", "--uts=" + nsDir() + "/utsns/pod-a",
                                        "--", "/bin/busybox", "hostname"});
  EXPECT_EQ(hostname, "crt-pod-a\n");
  EXPECT_FALSE(sameNamespace(nsDir() + "/ipcns/pod-a", "/proc/self/ns/ipc"));
  EXPECT_FALSE(sameNamespace(nsDir() + "/ipcns/pod-a", nsDir() + "/ipcns/pod-b"));

  // DEL: the veth is gone, the address is released, the port mapping chain is gone.
  std::string vethA = hostVeth(a);
  ASSERT_FALSE(vethA.empty());
  EXPECT_TRUE(fs::exists("/sys/class/net/" + vethA));
  std::string reserved = reservation(a.ips[0]);
  EXPECT_TRUE(fs::exists(reserved));
  std::string natBefore = runCommand({"iptables", "-w", "-t", "nat", "-S"}).stdoutData;
  EXPECT_NE(natBefore.find("--dport " + std::to_string(HOST_PORT)), std::string::npos);

  cri::tearDownPodNetwork(settings_, requestA);
  EXPECT_FALSE(fs::exists("/sys/class/net/" + vethA));
  EXPECT_FALSE(fs::exists(reserved));
  std::string natAfter = runCommand({"iptables", "-w", "-t", "nat", "-S"}).stdoutData;
  EXPECT_EQ(natAfter.find("--dport " + std::to_string(HOST_PORT)), std::string::npos) << natAfter;
  EXPECT_FALSE(cri::cachedPodNetwork(settings_, "pod-a").has_value());
  EXPECT_EQ(fetchGreeting("127.0.0.1", HOST_PORT), "");

  // A second DEL and a second unpin succeed.
  EXPECT_NO_THROW(cri::tearDownPodNetwork(settings_, requestA));
  unpinPodNamespaces(nsDir(), "pod-a");
  EXPECT_NO_THROW(unpinPodNamespaces(nsDir(), "pod-a"));
  EXPECT_FALSE(fs::exists(netnsA));
}

TEST_F(NetworkTest, CheckPassesAfterAdd) {
  std::string netns = pin("pod-check");
  cri::setUpPodNetwork(settings_, request("pod-check", netns));
  EXPECT_NO_THROW(cri::checkPodNetwork(settings_, request("pod-check", netns)));
}

TEST_F(NetworkTest, DeleteAfterRestartUsesCacheWithoutConfig) {
  pods_.push_back("pod-restart");
  PodNetworkRequest r = request("pod-restart", nsDir() + "/netns/pod-restart");
  r.portMappings = {{cri::PortProtocol::TCP, CONTAINER_PORT, HOST_PORT, ""}};
  prepareNamespacesDir(nsDir());

  // The "daemon" pins and adds, under crio-cri's privileges, then exits.
  std::string error = runAsCrioCri([&]() {
    PodNamespaceRequest pinRequest;
    pinRequest.namespacesDir = nsDir();
    pinRequest.podId = "pod-restart";
    pinRequest.hostname = "crt-restart";
    pinPodNamespaces(pinRequest);
    startPodPidHolder(nsDir(), "pod-restart", PodPidHolderOptions{CRIO_POD_INIT});
    cri::setUpPodNetwork(settings_, r);
  });
  ASSERT_EQ(error, "");

  // Pins, holder and attachment outlive the process that made them.
  EXPECT_TRUE(isNamespacePinned(r.netnsPath, NamespaceKind::NET));
  EXPECT_TRUE(findPodPidHolder(nsDir(), "pod-restart").has_value());
  auto cached = cri::cachedPodNetwork(settings_, "pod-restart");
  ASSERT_TRUE(cached.has_value());
  ASSERT_EQ(cached->ips.size(), 1u);
  std::string veth = hostVeth(*cached);
  std::string reserved = reservation(cached->ips[0]);
  EXPECT_TRUE(fs::exists("/sys/class/net/" + veth));
  EXPECT_TRUE(fs::exists(reserved));

  // The configuration is removed before the "restarted daemon" deletes the pod.
  fs::remove(root_ + "/net.d/10-crt.conflist");
  EXPECT_FALSE(cri::checkNetworkReadiness(settings_).ready);
  error = runAsCrioCri([&]() {
    PodNetworkRequest del;
    del.podId = "pod-restart";
    del.netnsPath = r.netnsPath;
    cri::tearDownPodNetwork(settings_, del);
    stopPodPidHolder(nsDir(), "pod-restart");
    unpinPodNamespaces(nsDir(), "pod-restart");
  });
  ASSERT_EQ(error, "");
  EXPECT_FALSE(fs::exists("/sys/class/net/" + veth));
  EXPECT_FALSE(fs::exists(reserved));
  std::string nat = runCommand({"iptables", "-w", "-t", "nat", "-S"}).stdoutData;
  EXPECT_EQ(nat.find("--dport " + std::to_string(HOST_PORT)), std::string::npos) << nat;
  EXPECT_FALSE(fs::exists(r.netnsPath));
}

TEST_F(NetworkTest, DeleteAfterRebootWithoutNamespace) {
  std::string netns = pin("pod-reboot");
  PodNetworkStatus status = cri::setUpPodNetwork(settings_, request("pod-reboot", netns));
  std::string reserved = reservation(status.ips[0]);
  // A reboot empties /run: the pin is gone, the cache and the IPAM state on disk are not.
  unpinPodNamespaces(nsDir(), "pod-reboot");
  EXPECT_TRUE(fs::exists(reserved));
  cri::tearDownPodNetwork(settings_, request("pod-reboot", netns));
  EXPECT_FALSE(fs::exists(reserved));
  EXPECT_FALSE(cri::cachedPodNetwork(settings_, "pod-reboot").has_value());
}

TEST_F(NetworkTest, MissingPluginIsNamedWithDirs) {
  writeConflist("", R"(, {"type": "crt-no-such-plugin"})");
  cri::NetworkReadiness readiness = cri::checkNetworkReadiness(settings_);
  EXPECT_FALSE(readiness.ready);
  EXPECT_EQ(readiness.reason, "NetworkPluginNotReady");
  std::string expected =
      "CNI plugin \"crt-no-such-plugin\" not found in " + root_ + "/bin, " + TEST_PLUGIN_DIR;
  EXPECT_NE(readiness.message.find(expected), std::string::npos) << readiness.message;

  std::string netns = pin("pod-missing");
  try {
    cri::setUpPodNetwork(settings_, request("pod-missing", netns));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
  // Nothing ran, so the bridge was never created.
  EXPECT_FALSE(fs::exists(std::string("/sys/class/net/") + TEST_BRIDGE));
}

TEST_F(NetworkTest, ReadyWithRealConfig) {
  cri::NetworkReadiness readiness = cri::checkNetworkReadiness(settings_);
  EXPECT_TRUE(readiness.ready) << readiness.message;
  EXPECT_EQ(readiness.network, TEST_NETWORK);
  EXPECT_EQ(readiness.configFile, root_ + "/net.d/10-crt.conflist");
}

// Without portmap's SNAT, the host reaches a hostPort through the bridge gateway but not through
// 127.0.0.1: nothing sets route_localnet on the bridge or masquerades 127.0.0.1, so the pod has
// no way to reply to a packet from 127.0.0.1.
TEST_F(NetworkTest, HostPortOnLoopbackNeedsPortmapSnat) {
  writeConflist(R"(, "snat": false)");
  std::string netns = pin("pod-nosnat");
  PodNetworkRequest r = request("pod-nosnat", netns);
  r.portMappings = {{cri::PortProtocol::TCP, CONTAINER_PORT, HOST_PORT, ""}};
  cri::setUpPodNetwork(settings_, r);
  int listener = listenInNamespace(netns, CONTAINER_PORT);
  ASSERT_GE(listener, 0);
  GreetingServer server(listener, "hello\n");
  EXPECT_EQ(fetchGreeting(TEST_GATEWAY, HOST_PORT), "hello\n");
  EXPECT_EQ(fetchGreeting("127.0.0.1", HOST_PORT), "");
}

TEST_F(NetworkTest, HangingPluginIsKilledAfterTimeout) {
  // A chained plugin whose ADD never ends; its pid file shows whether it was killed. Its DEL
  // succeeds at once, so the rollback after the timeout completes.
  std::string script = root_ + "/bin/crt-hang";
  std::ofstream(script) << "#!/bin/sh\n[ \"$CNI_COMMAND\" = ADD ] || exit 0\necho $$ > " << root_
                        << "/hang.pid\nexec sleep 600\n";
  fs::permissions(script, fs::perms::owner_all);
  writeConflist("", R"(, {"type": "crt-hang"})");
  settings_.pluginTimeout = std::chrono::milliseconds(1500);

  std::string netns = pin("pod-hang");
  auto started = std::chrono::steady_clock::now();
  try {
    cri::setUpPodNetwork(settings_, request("pod-hang", netns));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::DEADLINE_EXCEEDED);
    EXPECT_NE(std::string(e.what()).find("CNI plugin crt-hang ADD timed out after 1500 ms"),
              std::string::npos)
        << e.what();
  }
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_FALSE(cri::cachedPodNetwork(settings_, "pod-hang").has_value());
  pid_t hung = std::stoi(readFile(root_ + "/hang.pid"));
  std::string stat = readFile("/proc/" + std::to_string(hung) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
}

}  // namespace
}  // namespace crio::testing
