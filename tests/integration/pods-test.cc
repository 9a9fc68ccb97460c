// Pod sandboxes through the CRI with the real daemons, the real CNI plugins of /usr/lib/cni and
// real namespaces. The tests cover run, status, list, stop and remove, and two pods reaching each
// other on the test bridge. They also cover hostname, DNS, host network, the PID holder,
// idempotent stop and remove, rollback of a failed run, restore after SIGKILL and NetworkReady.
//
// The network is the test-only one of network-support.h (bridge crt-br0 on 10.244.213.0/24). Each
// test removes its pods through the CRI, then unmounts whatever is left under its root, and
// HostNetworkGuard removes the bridge and iptables rules and restores ip_forward.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/integration/network-support.h"
#include "tests/integration/suite.h"

namespace crio::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using runtime::v1::PodSandboxConfig;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Regular files below `dir`, at any depth.
size_t countFiles(const std::string& dir) {
  std::error_code ec;
  size_t count = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) ++count;
  }
  return count;
}

size_t countEntries(const std::string& dir) {
  std::error_code ec;
  size_t count = 0;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
    ++count;
  return count;
}

// A pod config with the required metadata; `name` also becomes the hostname.
PodSandboxConfig podConfig(const std::string& name) {
  PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_namespace_("crt-pods");
  config.mutable_metadata()->set_uid("uid-" + name);
  config.set_hostname("crt-" + name);
  (*config.mutable_labels())["app"] = name;
  (*config.mutable_annotations())["crt/annotation"] = "value-" + name;
  return config;
}

class PodsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = missingNetworkTestTools();
    if (!missing.empty()) GTEST_SKIP() << missing;
    guard_ = std::make_unique<HostNetworkGuard>();
    suite_ = std::make_unique<Suite>();
    fs::create_directories(netDir());
    writeTestConflist(netDir(), suite_->root() + "/ipam");
    suite_->startAll();
  }

  void TearDown() override {
    if (!suite_) return;
    for (const auto& id : pods_) {
      grpc::Status status = remove(id);
      EXPECT_TRUE(status.ok()) << "RemovePodSandbox " << id
                               << " during cleanup: " << status.error_message();
    }
    std::string nsDir = suite_->root() + "/run/crio/ns";
    for (const char* kind : {"netns", "ipcns", "utsns", "pidns"}) {
      EXPECT_EQ(countEntries(nsDir + "/" + kind), 0u) << kind << " pins left behind";
    }
    EXPECT_EQ(countEntries(podsRunDir()), 0u) << "pod run dirs left behind";

    // Whatever is still mounted under the root, deepest first: the namespaces dir, and /dev/shm
    // mounts and pins that a failed test left.
    std::string root = suite_->root();
    std::ifstream mounts("/proc/self/mounts");
    std::vector<std::string> targets;
    std::string line;
    while (std::getline(mounts, line)) {
      std::istringstream fields(line);
      std::string source, target;
      fields >> source >> target;
      if (target.rfind(root + "/", 0) == 0) targets.push_back(target);
    }
    for (auto it = targets.rbegin(); it != targets.rend(); ++it)
      umount2(it->c_str(), MNT_DETACH);
    suite_.reset();  // stops the daemons and removes the root
    EXPECT_EQ(guard_->restore(), "");
  }

  std::string netDir() const { return suite_->root() + "/etc/cni/net.d"; }
  std::string podsRunDir() const { return suite_->root() + "/run/crio/pods"; }

  // Runs a pod and remembers it for cleanup; fails the test on error.
  std::string run(const PodSandboxConfig& config, const std::string& handler = "") {
    runtime::v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    request.set_runtime_handler(handler);
    runtime::v1::RunPodSandboxResponse response;
    auto context = rpcContext(30s);
    grpc::Status status = suite_->runtime().RunPodSandbox(context.get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) return "";
    pods_.push_back(response.pod_sandbox_id());
    return response.pod_sandbox_id();
  }

  grpc::Status tryRun(const PodSandboxConfig& config, const std::string& handler = "") {
    runtime::v1::RunPodSandboxRequest request;
    *request.mutable_config() = config;
    request.set_runtime_handler(handler);
    runtime::v1::RunPodSandboxResponse response;
    auto context = rpcContext(30s);
    grpc::Status status = suite_->runtime().RunPodSandbox(context.get(), request, &response);
    if (status.ok()) pods_.push_back(response.pod_sandbox_id());
    return status;
  }

  grpc::Status stop(const std::string& id) {
    runtime::v1::StopPodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    runtime::v1::StopPodSandboxResponse response;
    auto context = rpcContext(30s);
    return suite_->runtime().StopPodSandbox(context.get(), request, &response);
  }

  grpc::Status remove(const std::string& id) {
    runtime::v1::RemovePodSandboxRequest request;
    request.set_pod_sandbox_id(id);
    runtime::v1::RemovePodSandboxResponse response;
    auto context = rpcContext(30s);
    return suite_->runtime().RemovePodSandbox(context.get(), request, &response);
  }

  // Stops and removes a pod the test is done with.
  void removeNow(const std::string& id) {
    EXPECT_TRUE(stop(id).ok());
    EXPECT_TRUE(remove(id).ok());
    pods_.erase(std::remove(pods_.begin(), pods_.end(), id), pods_.end());
  }

  grpc::Status status(const std::string& id, runtime::v1::PodSandboxStatusResponse& response,
                      bool verbose = false) {
    runtime::v1::PodSandboxStatusRequest request;
    request.set_pod_sandbox_id(id);
    request.set_verbose(verbose);
    auto context = rpcContext();
    return suite_->runtime().PodSandboxStatus(context.get(), request, &response);
  }

  // The pod's record from the verbose status.
  nlohmann::json record(const std::string& id) {
    runtime::v1::PodSandboxStatusResponse response;
    grpc::Status s = status(id, response, true);
    EXPECT_TRUE(s.ok()) << s.error_message();
    auto it = response.info().find("info");
    if (it == response.info().end()) return nlohmann::json::object();
    return nlohmann::json::parse(it->second);
  }

  std::vector<runtime::v1::PodSandbox> list(const runtime::v1::PodSandboxFilter* filter = nullptr) {
    runtime::v1::ListPodSandboxRequest request;
    if (filter) *request.mutable_filter() = *filter;
    runtime::v1::ListPodSandboxResponse response;
    auto context = rpcContext();
    grpc::Status s = suite_->runtime().ListPodSandbox(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.items().begin(), response.items().end()};
  }

  // Polls ListPodSandbox until it succeeds: the first calls after a restart of crio-cri may fail
  // while the client's channel reconnects.
  bool waitServing(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      runtime::v1::ListPodSandboxRequest request;
      runtime::v1::ListPodSandboxResponse response;
      auto context = rpcContext(1s);
      if (suite_->runtime().ListPodSandbox(context.get(), request, &response).ok()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::unique_ptr<HostNetworkGuard> guard_;
  std::unique_ptr<Suite> suite_;
  std::vector<std::string> pods_;
};

TEST_F(PodsTest, RunStatusListStopRemove) {
  PodSandboxConfig config = podConfig("basic");
  config.mutable_linux()->set_cgroup_parent("/crt-pods");
  std::string id = run(config);
  ASSERT_EQ(id.size(), 64u);

  runtime::v1::PodSandboxStatusResponse response;
  ASSERT_TRUE(status(id, response).ok());
  const auto& s = response.status();
  EXPECT_EQ(s.id(), id);
  EXPECT_EQ(s.state(), runtime::v1::SANDBOX_READY);
  EXPECT_EQ(s.metadata().name(), "basic");
  EXPECT_EQ(s.metadata().uid(), "uid-basic");
  EXPECT_GT(s.created_at(), 0);
  EXPECT_EQ(s.network().ip().rfind(TEST_SUBNET_PREFIX, 0), 0u) << s.network().ip();
  EXPECT_EQ(s.labels().at("app"), "basic");
  EXPECT_EQ(s.annotations().at("crt/annotation"), "value-basic");
  EXPECT_EQ(s.linux().namespaces().options().network(), runtime::v1::POD);

  nlohmann::json info = record(id);
  EXPECT_EQ(info["cgroupParent"], "/crt-pods");
  std::string runDir = podsRunDir() + "/" + id;
  EXPECT_EQ(info["runDir"], runDir);
  EXPECT_EQ(readFile(runDir + "/hostname"), "crt-basic\n");
  std::string hosts = readFile(runDir + "/hosts");
  EXPECT_NE(hosts.find("127.0.0.1\tlocalhost"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find(s.network().ip() + "\tcrt-basic"), std::string::npos) << hosts;
  std::string mounts = readFile("/proc/self/mounts");
  EXPECT_NE(mounts.find(runDir + "/shm tmpfs"), std::string::npos);
  EXPECT_NE(mounts.find("size=65536k"), std::string::npos);
  EXPECT_TRUE(fs::exists(suite_->root() + "/var/lib/crio/cri/pods/" + id + ".json"));

  auto items = list();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id(), id);
  EXPECT_EQ(items[0].state(), runtime::v1::SANDBOX_READY);
  EXPECT_EQ(items[0].metadata().namespace_(), "crt-pods");

  ASSERT_TRUE(stop(id).ok());
  ASSERT_TRUE(status(id, response).ok());
  EXPECT_EQ(response.status().state(), runtime::v1::SANDBOX_NOTREADY);
  EXPECT_EQ(readFile("/proc/self/mounts").find(runDir + "/shm "), std::string::npos);
  EXPECT_TRUE(fs::exists(info["netnsPath"].get<std::string>())) << "pins stay until removal";

  ASSERT_TRUE(remove(id).ok());
  pods_.clear();
  grpc::Status gone = status(id, response);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(list().empty());
  EXPECT_FALSE(fs::exists(runDir));
  EXPECT_FALSE(fs::exists(info["netnsPath"].get<std::string>()));
  EXPECT_FALSE(fs::exists(suite_->root() + "/var/lib/crio/cri/pods/" + id + ".json"));
}

TEST_F(PodsTest, TwoPodsPingEachOther) {
  std::string a = run(podConfig("ping-a"));
  std::string b = run(podConfig("ping-b"));
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  runtime::v1::PodSandboxStatusResponse statusA, statusB;
  ASSERT_TRUE(status(a, statusA).ok());
  ASSERT_TRUE(status(b, statusB).ok());
  std::string ipA = statusA.status().network().ip();
  std::string ipB = statusB.status().network().ip();
  EXPECT_NE(ipA, ipB);
  EXPECT_EQ(ipB.rfind(TEST_SUBNET_PREFIX, 0), 0u) << ipB;

  std::string netnsA = record(a)["netnsPath"];
  std::string netnsB = record(b)["netnsPath"];
  ProcessResult ping = runCommand(
      {"/usr/bin/nsenter", "--net=" + netnsA, "--", "/bin/busybox", "ping", "-c1", "-W1", ipB});
  EXPECT_TRUE(ping.succeeded()) << ping.stdoutData << ping.stderrData;
  ping = runCommand(
      {"/usr/bin/nsenter", "--net=" + netnsB, "--", "/bin/busybox", "ping", "-c1", "-W1", ipA});
  EXPECT_TRUE(ping.succeeded()) << ping.stdoutData << ping.stderrData;
}

TEST_F(PodsTest, HostnameInUtsNamespace) {
  std::string id = run(podConfig("named"));
  ASSERT_FALSE(id.empty());
  std::string uts = record(id)["utsnsPath"];
  ASSERT_FALSE(uts.empty());
  ProcessResult result =
      runCommand({"/usr/bin/nsenter", "--uts=" + uts, "--", "/bin/busybox", "hostname"});
  ASSERT_TRUE(result.succeeded()) << result.stderrData;
  EXPECT_EQ(result.stdoutData, "crt-named\n");
}

TEST_F(PodsTest, SysctlsApplyInPodNamespace) {
  PodSandboxConfig config = podConfig("sysctl");
  (*config.mutable_linux()->mutable_sysctls())["net.ipv4.ip_unprivileged_port_start"] = "80";
  std::string id = run(config);
  ASSERT_FALSE(id.empty());
  std::string netns = record(id)["netnsPath"];
  ProcessResult result = runCommand({"/usr/bin/nsenter", "--net=" + netns, "--", "/bin/busybox",
                                     "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"});
  ASSERT_TRUE(result.succeeded()) << result.stderrData;
  EXPECT_EQ(result.stdoutData, "80\n");
}

TEST_F(PodsTest, ResolvConfFromDnsConfig) {
  PodSandboxConfig config = podConfig("dns");
  auto* dns = config.mutable_dns_config();
  dns->add_servers("10.244.213.53");
  dns->add_servers("10.244.213.54");
  dns->add_searches("crt-pods.svc.cluster.local");
  dns->add_searches("cluster.local");
  dns->add_options("ndots:5");
  std::string id = run(config);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(readFile(record(id)["resolvPath"]),
            "nameserver 10.244.213.53\nnameserver 10.244.213.54\n"
            "search crt-pods.svc.cluster.local cluster.local\noptions ndots:5\n");

  std::string plain = run(podConfig("no-dns"));
  ASSERT_FALSE(plain.empty());
  EXPECT_EQ(readFile(record(plain)["resolvPath"]), readFile("/etc/resolv.conf"));
}

TEST_F(PodsTest, HostNetworkPodHasNoNetnsOrCni) {
  PodSandboxConfig config = podConfig("hostnet");
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      runtime::v1::NODE);
  std::string id = run(config);
  ASSERT_FALSE(id.empty());

  runtime::v1::PodSandboxStatusResponse response;
  ASSERT_TRUE(status(id, response).ok());
  EXPECT_EQ(response.status().network().ip(), "");
  EXPECT_EQ(response.status().linux().namespaces().options().network(), runtime::v1::NODE);
  nlohmann::json info = record(id);
  EXPECT_EQ(info["netnsPath"], "");
  EXPECT_EQ(info["utsnsPath"], "") << "a host-network pod keeps the host's name";
  EXPECT_NE(info["ipcnsPath"], "");
  EXPECT_EQ(info["networkName"], "");
  EXPECT_EQ(info["hostsPath"], "/etc/hosts");
  EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/ns/netns/" + id));
  EXPECT_EQ(countFiles(suite_->root() + "/var/lib/crio/cri/cni-cache"), 0u);
  EXPECT_FALSE(fs::exists(std::string("/sys/class/net/") + TEST_BRIDGE))
      << "no CNI ADD ran, so no bridge exists";
}

TEST_F(PodsTest, PidHolderOnlyWithPodPid) {
  PodSandboxConfig shared = podConfig("shared-pid");
  shared.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      runtime::v1::POD);
  PodSandboxConfig own = podConfig("own-pid");
  own.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      runtime::v1::CONTAINER);
  std::string sharedId = run(shared);
  std::string ownId = run(own);
  ASSERT_FALSE(sharedId.empty());
  ASSERT_FALSE(ownId.empty());

  nlohmann::json sharedInfo = record(sharedId);
  std::string pidns = suite_->root() + "/run/crio/ns/pidns/" + sharedId;
  EXPECT_EQ(sharedInfo["pidnsPath"], pidns);
  int holder = sharedInfo["pidHolder"];
  ASSERT_GT(holder, 0);
  EXPECT_EQ(kill(holder, 0), 0);
  EXPECT_EQ(readFile(pidns + ".pid").find(std::to_string(holder)), 0u);

  EXPECT_EQ(record(ownId)["pidnsPath"], "");
  EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/ns/pidns/" + ownId));

  ASSERT_TRUE(stop(sharedId).ok());
  EXPECT_FALSE(fs::exists(pidns));
  EXPECT_FALSE(fs::exists(pidns + ".pid"));
}

TEST_F(PodsTest, PidHolderTakesPodCgroupAndUser) {
  // The pod's cgroup in each hierarchy, as the kubelet creates it before RunPodSandbox. Only
  // the hierarchies that exist take part. The unified one of a hybrid host has no controllers.
  std::string parent = "/crt-holder-" + std::to_string(getpid());
  std::vector<std::string> cgroups;
  for (const char* hierarchy : {"memory", "pids", "unified"}) {
    std::string dir = std::string("/sys/fs/cgroup/") + hierarchy + parent;
    if (fs::exists(std::string("/sys/fs/cgroup/") + hierarchy + "/cgroup.procs") &&
        fs::create_directory(dir)) {
      cgroups.push_back(dir);
    }
  }
  if (cgroups.empty()) GTEST_SKIP() << "no cgroup hierarchy at /sys/fs/cgroup to test with";

  PodSandboxConfig config = podConfig("holder-ids");
  config.mutable_linux()->set_cgroup_parent(parent);
  auto* security = config.mutable_linux()->mutable_security_context();
  security->mutable_namespace_options()->set_pid(runtime::v1::POD);
  security->mutable_run_as_user()->set_value(1234);
  security->mutable_run_as_group()->set_value(5678);
  security->add_supplemental_groups(5679);
  std::string id = run(config);
  ASSERT_FALSE(id.empty());
  int holder = record(id)["pidHolder"];
  ASSERT_GT(holder, 0);
  std::string proc = "/proc/" + std::to_string(holder);

  std::string membership = readFile(proc + "/cgroup");
  for (const auto& dir : cgroups) {
    std::string hierarchy = dir.substr(std::string("/sys/fs/cgroup/").size());
    hierarchy = hierarchy.substr(0, hierarchy.find('/'));
    std::string line = (hierarchy == "unified" ? "::" : ":" + hierarchy + ":") + parent + "\n";
    EXPECT_NE(membership.find(line), std::string::npos) << line << " not in " << membership;
  }
  std::string status = readFile(proc + "/status");
  EXPECT_NE(status.find("Uid:\t1234\t1234\t1234\t1234\n"), std::string::npos) << status;
  EXPECT_NE(status.find("Gid:\t5678\t5678\t5678\t5678\n"), std::string::npos) << status;
  EXPECT_NE(status.find("Groups:\t5679"), std::string::npos) << status;
  EXPECT_TRUE(fs::is_empty(proc + "/root")) << "the holder shows the host's files";

  removeNow(id);
  for (const auto& dir : cgroups)
    EXPECT_EQ(rmdir(dir.c_str()), 0) << dir << ": " << strerror(errno);
}

TEST_F(PodsTest, PidHolderRejectsInvalidUser) {
  PodSandboxConfig config = podConfig("holder-bad-user");
  auto* security = config.mutable_linux()->mutable_security_context();
  security->mutable_namespace_options()->set_pid(runtime::v1::POD);
  security->mutable_run_as_user()->set_value(-1);
  grpc::Status s = tryRun(config);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("run_as_user -1"), std::string::npos) << s.error_message();
  EXPECT_TRUE(list().empty());
  EXPECT_EQ(countEntries(suite_->root() + "/run/crio/ns/pidns"), 0u);
}

TEST_F(PodsTest, ListFiltersByLabelStateAndId) {
  PodSandboxConfig web = podConfig("web");
  (*web.mutable_labels())["tier"] = "front";
  PodSandboxConfig db = podConfig("db");
  (*db.mutable_labels())["tier"] = "back";
  std::string webId = run(web);
  std::string dbId = run(db);
  ASSERT_FALSE(webId.empty());
  ASSERT_FALSE(dbId.empty());
  ASSERT_TRUE(stop(dbId).ok());

  runtime::v1::PodSandboxFilter filter;
  (*filter.mutable_label_selector())["tier"] = "front";
  auto items = list(&filter);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id(), webId);

  (*filter.mutable_label_selector())["app"] = "db";
  EXPECT_TRUE(list(&filter).empty()) << "every selector label must match";

  filter.Clear();
  filter.mutable_state()->set_state(runtime::v1::SANDBOX_NOTREADY);
  items = list(&filter);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id(), dbId);

  filter.Clear();
  filter.mutable_state()->set_state(runtime::v1::SANDBOX_READY);
  items = list(&filter);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id(), webId);

  filter.Clear();
  filter.set_id(webId.substr(0, 12));
  items = list(&filter);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].id(), webId);

  filter.set_id(webId);
  EXPECT_EQ(list(&filter).size(), 1u);
  EXPECT_EQ(list().size(), 2u);
}

TEST_F(PodsTest, StopAndRemoveAreIdempotent) {
  std::string id = run(podConfig("twice"));
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(stop(id).ok());
  EXPECT_TRUE(stop(id).ok());
  EXPECT_TRUE(remove(id).ok());
  EXPECT_TRUE(remove(id).ok());
  EXPECT_TRUE(stop(id).ok());
  pods_.clear();

  std::string unknown(64, 'f');
  grpc::Status s = remove(unknown);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = stop(unknown);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(PodsTest, RemoveWithoutStop) {
  std::string id = run(podConfig("direct"));
  ASSERT_FALSE(id.empty());
  std::string netns = record(id)["netnsPath"];
  EXPECT_TRUE(remove(id).ok());
  pods_.clear();
  EXPECT_FALSE(fs::exists(netns));
  EXPECT_EQ(countFiles(suite_->root() + "/var/lib/crio/cri/cni-cache"), 0u);
}

TEST_F(PodsTest, DuplicateNameLeavesNothingBehind) {
  std::string first = run(podConfig("dup"));
  ASSERT_FALSE(first.empty());
  grpc::Status s = tryRun(podConfig("dup"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  EXPECT_NE(s.error_message().find(first), std::string::npos) << s.error_message();
  EXPECT_EQ(list().size(), 1u);
  EXPECT_EQ(countEntries(podsRunDir()), 1u);
  EXPECT_EQ(countEntries(suite_->root() + "/run/crio/ns/netns"), 1u);
  EXPECT_EQ(countEntries(suite_->root() + "/var/lib/crio/cri/pods"), 1u);

  // Another attempt of the same pod is a different full name.
  PodSandboxConfig retry = podConfig("dup");
  retry.mutable_metadata()->set_attempt(1);
  EXPECT_FALSE(run(retry).empty());
}

TEST_F(PodsTest, MalformedConfigIsInvalidArgument) {
  PodSandboxConfig noMetadata;
  grpc::Status s = tryRun(noMetadata);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  PodSandboxConfig noUid = podConfig("no-uid");
  noUid.mutable_metadata()->clear_uid();
  s = tryRun(noUid);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("uid"), std::string::npos) << s.error_message();
  auto expectInvalid = [&](PodSandboxConfig bad, const std::string& fragment) {
    grpc::Status result = tryRun(bad);
    EXPECT_EQ(result.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << result.error_message();
    EXPECT_NE(result.error_message().find(fragment), std::string::npos) << result.error_message();
  };
  PodSandboxConfig targetNetwork = podConfig("target-network");
  targetNetwork.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->set_network(runtime::v1::TARGET);
  expectInvalid(targetNetwork, "namespace_options.network TARGET");
  PodSandboxConfig unknownPid = podConfig("unknown-pid");
  unknownPid.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      static_cast<runtime::v1::NamespaceMode>(7));
  expectInvalid(unknownPid, "namespace_options.pid 7");
  PodSandboxConfig relativeLogs = podConfig("relative-logs");
  relativeLogs.set_log_directory("relative/dir");
  expectInvalid(relativeLogs, "log_directory");
  PodSandboxConfig badDns = podConfig("bad-dns");
  badDns.mutable_dns_config()->add_servers("not-an-ip");
  expectInvalid(badDns, "not an IPv4 or IPv6 address");
  PodSandboxConfig badProtocol = podConfig("bad-protocol");
  auto* mapping = badProtocol.add_port_mappings();
  mapping->set_container_port(80);
  mapping->set_protocol(static_cast<runtime::v1::Protocol>(7));
  expectInvalid(badProtocol, "protocol 7");
  PodSandboxConfig twice = podConfig("host-port-twice");
  for (int port : {80, 81}) {
    auto* same = twice.add_port_mappings();
    same->set_container_port(port);
    same->set_host_port(18090);
  }
  expectInvalid(twice, "host port 18090/TCP is mapped twice");

  PodSandboxConfig escapingCgroup = podConfig("escaping-cgroup");
  escapingCgroup.mutable_linux()->set_cgroup_parent("/../../x");
  s = tryRun(escapingCgroup);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("cgroup_parent"), std::string::npos) << s.error_message();
  EXPECT_TRUE(list().empty());
  EXPECT_EQ(countEntries(podsRunDir()), 0u);
}

TEST_F(PodsTest, UnknownRuntimeHandlerFails) {
  grpc::Status s = tryRun(podConfig("handler"), "crt-no-such-handler");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_NE(s.error_message().find("crt-no-such-handler"), std::string::npos);
  EXPECT_TRUE(list().empty());

  std::string id = run(podConfig("handler"), "runc");
  ASSERT_FALSE(id.empty());
  runtime::v1::PodSandboxStatusResponse response;
  ASSERT_TRUE(status(id, response).ok());
  EXPECT_EQ(response.status().runtime_handler(), "runc");
}

TEST_F(PodsTest, FailedNetworkRollsBack) {
  // A sysctl of a namespace the pod does not have fails after the run dir and shm exist.
  PodSandboxConfig badSysctl = podConfig("bad-sysctl");
  badSysctl.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_ipc(
      runtime::v1::NODE);
  (*badSysctl.mutable_linux()->mutable_sysctls())["kernel.shmmax"] = "1024";
  grpc::Status s = tryRun(badSysctl);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();

  // A plugin that is missing fails the CNI ADD after the pins and the record exist.
  writeTestConflist(netDir(), suite_->root() + "/ipam", "", R"(, {"type": "crt-missing"})");
  s = tryRun(podConfig("bad-network"));
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(list().empty());
  EXPECT_EQ(countEntries(podsRunDir()), 0u);
  EXPECT_EQ(countEntries(suite_->root() + "/var/lib/crio/cri/pods"), 0u);
  EXPECT_EQ(readFile("/proc/self/mounts").find(podsRunDir()), std::string::npos);

  // The name is free again once the network works.
  writeTestConflist(netDir(), suite_->root() + "/ipam");
  EXPECT_FALSE(run(podConfig("bad-network")).empty());
}

TEST_F(PodsTest, RestoreAfterCriKilled) {
  std::string a = run(podConfig("restore-a"));
  std::string b = run(podConfig("restore-b"));
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  ASSERT_TRUE(stop(b).ok());
  runtime::v1::PodSandboxStatusResponse before;
  ASSERT_TRUE(status(a, before).ok());

  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  suite_->startCri();
  ASSERT_TRUE(waitServing(10s)) << "crio-cri did not come back";

  auto items = list();
  ASSERT_EQ(items.size(), 2u);
  runtime::v1::PodSandboxStatusResponse after;
  ASSERT_TRUE(status(a, after).ok());
  EXPECT_EQ(after.status().state(), runtime::v1::SANDBOX_READY);
  EXPECT_EQ(after.status().network().ip(), before.status().network().ip());
  EXPECT_EQ(after.status().created_at(), before.status().created_at());
  ASSERT_TRUE(status(b, after).ok());
  EXPECT_EQ(after.status().state(), runtime::v1::SANDBOX_NOTREADY);

  // The name stays reserved across the restart.
  EXPECT_EQ(tryRun(podConfig("restore-a")).error_code(), grpc::StatusCode::ALREADY_EXISTS);

  removeNow(a);
  removeNow(b);
  EXPECT_TRUE(list().empty());
}

// A RunPodSandbox interrupted before its record was written leaves pins, a run dir and a PID
// holder without a record. The next start of crio-cri removes them.
TEST_F(PodsTest, InterruptedRunIsCleanedAtStart) {
  PodSandboxConfig shared = podConfig("interrupted");
  shared.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      runtime::v1::POD);
  std::string id = run(shared);
  ASSERT_FALSE(id.empty());
  int holder = record(id)["pidHolder"];
  ASSERT_GT(holder, 0);
  auto cacheFilesOf = [&](const std::string& podId) {
    size_t count = 0;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(suite_->root() + "/var/lib", ec)) {
      bool podRecord = entry.path().string().find("/cri/pods/") != std::string::npos;
      if (!podRecord && entry.path().filename().string().find(podId) != std::string::npos) {
        ++count;
      }
    }
    return count;
  };
  ASSERT_GT(cacheFilesOf(id), 0u) << "the test expects a CNI cache entry for the pod";

  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  ASSERT_TRUE(fs::remove(suite_->root() + "/var/lib/crio/cri/pods/" + id + ".json"));
  suite_->startCri();
  ASSERT_TRUE(waitServing(10s)) << "crio-cri did not come back";

  EXPECT_TRUE(list().empty());
  std::string stat = readFile("/proc/" + std::to_string(holder) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << "holder left: " << stat;
  EXPECT_FALSE(fs::exists(podsRunDir() + "/" + id));
  for (const char* kind : {"netns", "ipcns", "utsns", "pidns"}) {
    EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/ns/" + kind + "/" + id)) << kind;
  }
  EXPECT_EQ(cacheFilesOf(id), 0u) << "the CNI DEL did not run";
}

TEST_F(PodsTest, PodWithLostNamespacesIsNotReady) {
  std::string id = run(podConfig("lost"));
  ASSERT_FALSE(id.empty());
  std::string netns = record(id)["netnsPath"];

  // A reboot empties /run: here the network pin goes while crio-cri is down.
  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  ASSERT_EQ(umount2(netns.c_str(), MNT_DETACH), 0);
  suite_->startCri();
  ASSERT_TRUE(waitServing(10s)) << "crio-cri did not come back";

  runtime::v1::PodSandboxStatusResponse response;
  ASSERT_TRUE(status(id, response).ok());
  EXPECT_EQ(response.status().state(), runtime::v1::SANDBOX_NOTREADY);
  removeNow(id);
  EXPECT_EQ(countFiles(suite_->root() + "/var/lib/crio/cri/cni-cache"), 0u);
}

TEST_F(PodsTest, NetworkReadyFollowsConflist) {
  EXPECT_TRUE(suite_->conditions()["NetworkReady"].status());
  writeTestConflist(netDir(), suite_->root() + "/ipam", "", R"(, {"type": "crt-missing"})");
  auto condition = suite_->conditions()["NetworkReady"];
  EXPECT_FALSE(condition.status());
  EXPECT_EQ(condition.reason(), "NetworkPluginNotReady");
  EXPECT_NE(condition.message().find("crt-missing"), std::string::npos) << condition.message();
}

}  // namespace
}  // namespace crio::testing
