// Traffic to and from containers through the CRI, on the test-only CNI network of
// network-support.h (bridge crt-br0 on 10.244.213.0/24). A container of one pod fetches a page
// from a web server in another pod, at the IP that PodSandboxStatus reports. The host fetches it
// through a hostPort. A container of a host-network pod has the host's interfaces.
//
// HostNetworkGuard serializes the tests that use the bridge and removes the bridge, the iptables
// rules and the ip_forward change once the suite has removed its pods.
#include <unistd.h>

#include <set>
#include <sstream>
#include <thread>

#include "cri-fixture.h"
#include "tests/integration/network-support.h"

namespace crio::testing {
namespace {

namespace test = crio::imaged::test;
using namespace std::chrono_literals;

constexpr int WEB_PORT = 8080;
constexpr int WEB_HOST_PORT = 31215;
constexpr const char* PAGE = "hello from the web pod\n";

// The interface names of a /proc/net/dev text.
std::set<std::string> interfaceNames(const std::string& procNetDev) {
  std::set<std::string> names;
  std::istringstream in(procNetDev);
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    size_t start = line.find_first_not_of(' ');
    names.insert(line.substr(start, colon - start));
  }
  return names;
}

class ContainerNetworkTest : public CriFixture {
 protected:
  void SetUp() override {
    std::string missing = missingNetworkTestTools();
    if (!missing.empty()) GTEST_SKIP() << missing;
    guard_ = std::make_unique<HostNetworkGuard>();
    writeTestConflist(netDir_.path(), netDir_ / "ipam");
    startSuite("[crio.network]\nnetwork_dir = \"" + netDir_.path() + "\"\n");
    if (IsSkipped() || HasFatalFailure()) return;
    image_ = testRegistry().appImage();
    pull(image_);
  }

  void TearDown() override {
    // The pods go first, so that their CNI DEL runs before the guard looks at the host.
    CriFixture::TearDown();
    if (guard_) {
      EXPECT_EQ(guard_->restore(), "");
    }
  }

  // A container running as root, because the app image's user is not root.
  runtime::v1::ContainerConfig rootContainer(const std::string& name,
                                             std::vector<std::string> command) {
    auto config = containerConfig(name, image_, std::move(command));
    config.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
    return config;
  }

  // GETs `url` from inside the container, retrying for up to 10 s while the server comes up.
  // busybox 1.35's wget crashes (SIGSEGV) with -T, so the exec's timeout bounds each try.
  std::string fetchFrom(const std::string& id, const std::string& url) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    std::string error;
    do {
      grpc::Status status;
      auto response = exec(id, {"/bin/busybox", "wget", "-q", "-O", "-", url}, 3, &status);
      if (status.ok() && response.exit_code() == 0) return response.stdout();
      error = status.ok() ? response.stderr() : status.error_message();
      std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return "FAILED: " + error;
  }

  // GETs `url` from the host, with busybox's wget (killed after 5 s).
  static std::string fetchFromHost(const std::string& url) {
    ProcessResult result = runCommand({"/bin/busybox", "wget", "-q", "-O", "-", url}, 5s);
    return result.succeeded() ? result.stdoutData : "FAILED: " + result.stderrData;
  }

  test::TempDir netDir_{"crio-container-net"};
  std::unique_ptr<HostNetworkGuard> guard_;
  std::string image_;
};

TEST_F(ContainerNetworkTest, PodToPodAndHostPort) {
  auto webConfig = podConfig("web", false);
  auto* mapping = webConfig.add_port_mappings();
  mapping->set_protocol(runtime::v1::TCP);
  mapping->set_container_port(WEB_PORT);
  mapping->set_host_port(WEB_HOST_PORT);
  std::string web = runPod(webConfig);
  std::string client = runPod(podConfig("client", false));
  ASSERT_FALSE(web.empty());
  ASSERT_FALSE(client.empty());
  std::string webIp = podStatus(web).network().ip();
  std::string clientIp = podStatus(client).network().ip();
  ASSERT_EQ(webIp.rfind(TEST_SUBNET_PREFIX, 0), 0u) << webIp;
  ASSERT_EQ(clientIp.rfind(TEST_SUBNET_PREFIX, 0), 0u) << clientIp;

  std::string server = createAndStart(
      web,
      rootContainer("httpd", {"/bin/sh", "-c",
                              "/bin/busybox mkdir -p /tmp/www && printf '" + std::string(PAGE) +
                                  "' > /tmp/www/index.html && exec /bin/busybox httpd -f "
                                  "-p " +
                                  std::to_string(WEB_PORT) + " -h /tmp/www"}));
  std::string fetcher =
      createAndStart(client, rootContainer("fetcher", {"/bin/busybox", "sleep", "1000"}));
  ASSERT_FALSE(server.empty());
  ASSERT_FALSE(fetcher.empty());

  // Each container has its pod's address on eth0.
  auto address = exec(fetcher, {"/bin/busybox", "ip", "-o", "-4", "addr", "show", "dev", "eth0"});
  EXPECT_NE(address.stdout().find(" " + clientIp + "/24 "), std::string::npos) << address.stdout();

  std::string url = "http://" + webIp + ":" + std::to_string(WEB_PORT) + "/index.html";
  EXPECT_EQ(fetchFrom(fetcher, url), PAGE) << "pod to pod, at the web pod's IP";

  std::string hostPort = ":" + std::to_string(WEB_HOST_PORT) + "/index.html";
  EXPECT_EQ(fetchFromHost("http://127.0.0.1" + hostPort), PAGE) << "hostPort on 127.0.0.1";
  EXPECT_EQ(fetchFromHost(std::string("http://") + TEST_GATEWAY + hostPort), PAGE)
      << "hostPort on the bridge gateway";

  // Removing the web pod takes its port mapping away.
  ASSERT_TRUE(remove(server).ok());
  ASSERT_TRUE(removePod(web).ok());
  EXPECT_EQ(fetchFromHost("http://127.0.0.1" + hostPort).rfind("FAILED", 0), 0u);
}

TEST_F(ContainerNetworkTest, HostNetworkSeesHostInterfaces) {
  // A pod on the bridge first, so that the host has an interface no fresh namespace has.
  ASSERT_FALSE(runPod(podConfig("bridged", false)).empty());
  std::string pod = runPod(podConfig("host-net", true));
  ASSERT_FALSE(pod.empty());
  EXPECT_EQ(podStatus(pod).network().ip(), "");
  std::string id = createAndStart(pod, rootContainer("probe", {"/bin/busybox", "sleep", "1000"}));
  ASSERT_FALSE(id.empty());

  char hostNetns[64] = {};
  ASSERT_GT(readlink("/proc/self/ns/net", hostNetns, sizeof hostNetns - 1), 0);
  EXPECT_EQ(exec(id, {"/bin/busybox", "readlink", "/proc/self/ns/net"}).stdout(),
            std::string(hostNetns) + "\n");
  // The container has the host's interfaces. The host's list is read before and after, in case
  // an interface comes or goes meanwhile.
  std::set<std::string> before = interfaceNames(readText("/proc/net/dev"));
  std::set<std::string> seen =
      interfaceNames(exec(id, {"/bin/busybox", "cat", "/proc/net/dev"}).stdout());
  std::set<std::string> after = interfaceNames(readText("/proc/net/dev"));
  EXPECT_TRUE(seen.count(TEST_BRIDGE));
  for (const auto& name : before) {
    if (after.count(name)) {
      EXPECT_TRUE(seen.count(name)) << name << " is missing in the container";
    }
  }
  for (const auto& name : seen) {
    EXPECT_TRUE(before.count(name) || after.count(name)) << name << " is not the host's";
  }
}

}  // namespace
}  // namespace crio::testing
