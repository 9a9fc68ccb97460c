// The CRI container calls against the real daemons, runc and a registry on 127.0.0.1: an image
// built here from busybox-static is pulled through crio-cri, and pods run in the host's network.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "cri-fixture.h"
#include "imaged-test-support.h"
#include "suite.h"

namespace crio::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using runtime::v1::ContainerConfig;
using runtime::v1::PodSandboxConfig;

class ContainersTest : public CriFixture {
 protected:
  void SetUp() override {
    startSuite("[crio.runtime]\ndefault_ulimits = [\"nofile=4000:5000\"]\n");
    if (IsSkipped() || HasFatalFailure()) return;
    imageRef_ = pull(testRegistry().appImage());
    ASSERT_FALSE(imageRef_.empty());
    // The CRI's defaults otherwise: one PID namespace for the pod, the node's hostname.
    podConfig_ = podConfig("pod");
    podConfig_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        runtime::v1::POD);
    podConfig_.clear_hostname();
    podId_ = CriFixture::runPod(podConfig_);
    ASSERT_FALSE(podId_.empty());
  }

  // A container of the app image; its log is NAME.log in the pod's log folder.
  ContainerConfig config(const std::string& name, std::vector<std::string> command = {}) {
    return containerConfig(name, testRegistry().appImage(), std::move(command));
  }

  // Creates `c` in the fixture's pod, or in `podId`.
  grpc::Status create(const ContainerConfig& c, std::string* id, const std::string& podId = "") {
    return CriFixture::create(podId.empty() ? podId_ : podId, c, id);
  }

  // Runs one more pod from podConfig_ under `name`; returns its id, "" on failure.
  std::string runPod(const std::string& name) {
    PodSandboxConfig config = podConfig_;
    config.mutable_metadata()->set_name(name);
    return CriFixture::runPod(config);
  }

  // Creates and starts `c` in the fixture's pod, or in `podId`.
  std::string createAndStart(const ContainerConfig& c, const std::string& podId = "") {
    return CriFixture::createAndStart(podId.empty() ? podId_ : podId, c);
  }

  // The output of a container that ran to its end (its CRI log, stdout lines only).
  std::string output(const std::string& name) {
    std::string log = readText(podConfig_.log_directory() + "/" + name + ".log");
    std::string out;
    std::regex line(R"((\S+) (stdout|stderr) (P|F) (.*))");
    std::istringstream in(log);
    std::string text;
    while (std::getline(in, text)) {
      std::smatch m;
      if (!std::regex_match(text, m, line)) {
        ADD_FAILURE() << "not a CRI log line: " << text;
        continue;
      }
      out += m[4].str();
      if (m[3] == "F") out += "\n";
    }
    return out;
  }

  // Waits until the client's channel reaches a restarted crio-cri (its first calls fail with the
  // old connection's error).
  bool waitReconnected() {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (suite_->waitRuntimeReady(true, 2s)) return true;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(100ms);
      }
    }
    return false;
  }

  // Mounts below the run folder of containers (the pod's own mounts are elsewhere).
  std::vector<std::string> mountsBelowRoot() {
    std::vector<std::string> found;
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string skip, mountPoint;
      fields >> skip >> skip >> skip >> skip >> mountPoint;
      if (mountPoint.rfind(suite_->root() + "/run/crio/containers", 0) == 0)
        found.push_back(mountPoint);
    }
    return found;
  }

  PodSandboxConfig podConfig_;
  std::string podId_;
  std::string imageRef_;
};

TEST_F(ContainersTest, LifecycleStatusLogAndRemove) {
  auto c = config("hello", {"/bin/sh", "-c", "echo hello from the container; exit 0"});
  (*c.mutable_labels())["app"] = "hello";
  (*c.mutable_annotations())["note"] = "kept";
  std::string id = createAndStart(c);
  auto s = waitExited(id);
  EXPECT_EQ(s.state(), runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(s.exit_code(), 0);
  EXPECT_EQ(s.reason(), "Completed");
  EXPECT_GT(s.started_at(), 0);
  EXPECT_GE(s.finished_at(), s.started_at());
  EXPECT_EQ(s.image().image(), testRegistry().appImage());
  EXPECT_EQ(s.image_ref(), imageRef_);
  EXPECT_EQ(s.labels().at("app"), "hello");
  EXPECT_EQ(s.annotations().at("note"), "kept");
  EXPECT_EQ(s.log_path(), podConfig_.log_directory() + "/hello.log");
  EXPECT_EQ(output("hello"), "hello from the container\n");
  std::string log = readText(s.log_path());
  EXPECT_TRUE(std::regex_search(
      log, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello from)")))
      << log;

  runtime::v1::ListContainersRequest list;
  list.mutable_filter()->set_pod_sandbox_id(podId_);
  (*list.mutable_filter()->mutable_label_selector())["app"] = "hello";
  runtime::v1::ListContainersResponse listed;
  ASSERT_TRUE(suite_->runtime().ListContainers(rpcContext().get(), list, &listed).ok());
  ASSERT_EQ(listed.containers_size(), 1);
  EXPECT_EQ(listed.containers(0).id(), id);
  (*list.mutable_filter()->mutable_label_selector())["app"] = "other";
  listed.Clear();
  ASSERT_TRUE(suite_->runtime().ListContainers(rpcContext().get(), list, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);

  EXPECT_TRUE(stop(id, 5).ok()) << "stop of an exited container";
  EXPECT_TRUE(remove(id).ok());
  EXPECT_TRUE(remove(id).ok()) << "remove is idempotent";
  EXPECT_TRUE(mountsBelowRoot().empty());
  EXPECT_FALSE(fs::exists(suite_->root() + "/var/lib/crio/cri/containers/" + id + ".json"));
}

TEST_F(ContainersTest, ExitCodes) {
  for (auto [name, script, code] : {std::tuple{"zero", "exit 0", 0}, std::tuple{"one", "exit 1", 1},
                                    std::tuple{"killed", "kill -9 $$", 137}}) {
    std::string id = createAndStart(config(name, {"/bin/sh", "-c", script}));
    auto s = waitExited(id);
    EXPECT_EQ(s.state(), runtime::v1::CONTAINER_EXITED) << name;
    EXPECT_EQ(s.exit_code(), code) << name;
    EXPECT_EQ(s.reason(), code == 0 ? "Completed" : "Error") << name;
    EXPECT_TRUE(remove(id).ok());
  }
}

TEST_F(ContainersTest, ImageDefaultsAndRequestOverrides) {
  // No command: the image's Entrypoint and Cmd, Env, WorkingDir and User.
  std::string id = createAndStart(config("defaults"));
  auto probe = exec(
      id, {"/bin/sh", "-c", "echo $FROM_IMAGE $(pwd) $(/bin/busybox id -u):$(/bin/busybox id -g)"});
  EXPECT_EQ(probe.stdout(), "yes /work 1234:5678\n");
  EXPECT_TRUE(stop(id, 0).ok());
  EXPECT_EQ(output("defaults"), "from-image-cmd\n");

  // args replace Cmd only; command replaces Entrypoint; env adds; working_dir overrides.
  auto c = config("overrides");
  c.add_args("echo args-replace-cmd");
  auto* env = c.add_envs();
  env->set_key("EXTRA");
  env->set_value("added");
  c.set_working_dir("/tmp");
  std::string second = createAndStart(c);
  waitExited(second);
  EXPECT_EQ(output("overrides"), "args-replace-cmd\n");

  auto c3 = config("command", {"/bin/sh", "-c", "echo $EXTRA $FROM_IMAGE $(pwd)"});
  *c3.add_envs() = *env;
  c3.set_working_dir("/tmp");
  std::string third = createAndStart(c3);
  waitExited(third);
  EXPECT_EQ(output("command"), "added yes /tmp\n");
}

TEST_F(ContainersTest, ExecSyncOutputExitCodeAndTimeout) {
  std::string id = createAndStart(config("exec", {"/bin/busybox", "sleep", "1000"}));
  auto result = exec(id, {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(result.stdout(), "out\n");
  EXPECT_EQ(result.stderr(), "err\n");
  EXPECT_EQ(result.exit_code(), 3);

  // Returns when the command exits, even though a background child keeps stdout open.
  auto start = std::chrono::steady_clock::now();
  auto background = exec(id, {"/bin/sh", "-c", "/bin/busybox sleep 30 & echo started"});
  EXPECT_EQ(background.stdout(), "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);

  grpc::Status timedOut;
  start = std::chrono::steady_clock::now();
  exec(id, {"/bin/busybox", "sleep", "30"}, 1, &timedOut);
  EXPECT_FALSE(timedOut.ok());
  EXPECT_EQ(timedOut.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << timedOut.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
  EXPECT_TRUE(remove(id).ok()) << "remove kills a running container";
}

TEST_F(ContainersTest, SecurityContext) {
  auto c = config("secure", {"/bin/busybox", "sleep", "1000"});
  auto* security = c.mutable_linux()->mutable_security_context();
  security->set_readonly_rootfs(true);
  security->mutable_capabilities()->add_drop_capabilities("CHOWN");
  security->mutable_seccomp()->set_profile_type(runtime::v1::SecurityProfile::RuntimeDefault);
  security->mutable_run_as_user()->set_value(0);
  std::string id = createAndStart(c);

  auto touch = exec(id, {"/bin/busybox", "touch", "/written"});
  EXPECT_NE(touch.exit_code(), 0) << "the root filesystem is writable";
  auto status = exec(id, {"/bin/busybox", "cat", "/proc/self/status"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(status.stdout(), m, std::regex(R"(CapEff:\s+([0-9a-f]+))")));
  uint64_t effective = std::stoull(m[1].str(), nullptr, 16);
  EXPECT_EQ(effective & 1u, 0u) << "CAP_CHOWN (bit 0) is still effective";
  EXPECT_NE(status.stdout().find("Seccomp:\t2"), std::string::npos) << status.stdout();
  EXPECT_TRUE(remove(id).ok());
}

// The capabilities a container can get are those of crio-cri's bounding set as started (here
// the test's own): ALL and privileged leave out the rest instead of failing in runc.
TEST_F(ContainersTest, CapabilitiesStayInBoundingSet) {
  std::smatch m;
  std::string own = readText("/proc/self/status");
  ASSERT_TRUE(std::regex_search(own, m, std::regex(R"(CapBnd:\s+([0-9a-f]+))")));
  uint64_t bounding = std::stoull(m[1].str(), nullptr, 16);

  auto effectiveOf = [&](const std::string& id) {
    auto status = exec(id, {"/bin/busybox", "cat", "/proc/self/status"});
    std::smatch found;
    EXPECT_TRUE(std::regex_search(status.stdout(), found, std::regex(R"(CapEff:\s+([0-9a-f]+))")))
        << status.stdout();
    return found.empty() ? 0 : std::stoull(found[1].str(), nullptr, 16);
  };

  auto all = config("all-caps", {"/bin/busybox", "sleep", "1000"});
  all.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities(
      "ALL");
  all.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
  std::string allId = createAndStart(all);
  EXPECT_EQ(effectiveOf(allId), bounding);
  EXPECT_TRUE(remove(allId).ok());

  // A privileged container needs a privileged pod.
  podConfig_.mutable_linux()->mutable_security_context()->set_privileged(true);
  std::string privilegedPod = runPod("privileged-pod");
  ASSERT_FALSE(privilegedPod.empty());
  auto privileged = config("privileged", {"/bin/busybox", "sleep", "1000"});
  privileged.mutable_linux()->mutable_security_context()->set_privileged(true);
  privileged.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
  std::string privilegedId = createAndStart(privileged, privilegedPod);
  EXPECT_EQ(effectiveOf(privilegedId), bounding);
  EXPECT_TRUE(remove(privilegedId).ok());

  constexpr uint64_t SYS_RESOURCE = uint64_t{1} << 24;
  if ((bounding & SYS_RESOURCE) != 0) return;  // this host can grant every capability
  auto named = config("sys-resource", {"/bin/busybox", "sleep", "1000"});
  named.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities(
      "SYS_RESOURCE");
  std::string namedId;
  auto created = create(named, &namedId);
  EXPECT_EQ(created.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(created.error_message().find("CAP_SYS_RESOURCE is not in crio-cri's"),
            std::string::npos)
      << created.error_message();
}

// The container's cgroup sits below the pod's cgroup_parent and carries the requested limits.
// runc removes it with the container. The parent belongs to the kubelet and stays.
TEST_F(ContainersTest, CgroupBelowParentWithLimits) {
  const std::string memoryRoot = "/sys/fs/cgroup/memory";
  if (access((memoryRoot + "/memory.limit_in_bytes").c_str(), F_OK) != 0) {
    GTEST_SKIP() << "needs the cgroup v1 memory controller at " << memoryRoot;
  }
  std::string parent = "/crio-test-" + std::to_string(getpid());
  podConfig_.mutable_linux()->set_cgroup_parent(parent);
  std::string limitedPod = runPod("limited-pod");
  ASSERT_FALSE(limitedPod.empty());

  auto c = config("limited", {"/bin/busybox", "sleep", "1000"});
  auto* resources = c.mutable_linux()->mutable_resources();
  resources->set_memory_limit_in_bytes(64 << 20);
  resources->set_cpu_shares(512);
  std::string id = createAndStart(c, limitedPod);

  std::string cgroup = parent + "/crio-" + id;
  EXPECT_EQ(readText(memoryRoot + cgroup + "/memory.limit_in_bytes"), "67108864\n");
  EXPECT_EQ(readText("/sys/fs/cgroup/cpu" + cgroup + "/cpu.shares"), "512\n");
  auto self = exec(id, {"/bin/busybox", "cat", "/proc/self/cgroup"});
  EXPECT_NE(self.stdout().find("memory:" + cgroup), std::string::npos) << self.stdout();

  EXPECT_TRUE(remove(id).ok());
  EXPECT_FALSE(fs::exists(memoryRoot + cgroup)) << "the container's cgroup outlived it";
  EXPECT_TRUE(fs::exists(memoryRoot + parent)) << "the kubelet's parent cgroup was removed";
  for (const char* controller : {"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "devices",
                                 "freezer", "systemd", "unified"}) {
    rmdir(("/sys/fs/cgroup/" + std::string(controller) + parent).c_str());
  }
}

// A device from the request appears at its container path with the requested access, and
// [crio.runtime] default_ulimits sets the process's limits.
TEST_F(ContainersTest, DevicesAndDefaultUlimits) {
  auto c = config("devices", {"/bin/sh", "-c",
                              "/bin/busybox cat /proc/self/limits > /limits; "
                              "exec /bin/busybox sleep 1000"});
  // /dev/loop-control is not among the devices every container may use, so the cgroup rule
  // made from `permissions` decides.
  auto* device = c.add_devices();
  device->set_container_path("/dev/extra-loop-control");
  device->set_host_path("/dev/loop-control");
  device->set_permissions("r");
  c.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
  std::string id = createAndStart(c);

  auto present = exec(id, {"/bin/sh", "-c", "test -c /dev/extra-loop-control"});
  EXPECT_EQ(present.exit_code(), 0) << present.stderr();
  auto read = exec(id, {"/bin/sh", "-c", "exec 3< /dev/extra-loop-control"});
  EXPECT_EQ(read.exit_code(), 0) << read.stderr();
  auto write = exec(id, {"/bin/sh", "-c", "exec 3> /dev/extra-loop-control"});
  EXPECT_NE(write.exit_code(), 0) << "a read-only device was opened for writing";

  // The container's own process, not an exec: runc 1.1's exec raises the soft limit to the hard.
  auto limits = exec(id, {"/bin/sh", "-c",
                          "while [ ! -s /limits ]; do /bin/busybox sleep 0.1; done; "
                          "/bin/busybox cat /limits"});
  EXPECT_TRUE(std::regex_search(limits.stdout(), std::regex(R"(Max open files\s+4000\s+5000)")))
      << limits.stdout();
  EXPECT_TRUE(remove(id).ok());
}

TEST_F(ContainersTest, StopEscalatesToKillAfterTimeout) {
  std::string id = createAndStart(config(
      "stubborn",
      {"/bin/sh", "-c", "trap '' TERM; /bin/busybox sleep 1000 & wait; /bin/busybox sleep 1000"}));
  std::this_thread::sleep_for(500ms);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(stop(id, 2).ok());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 2s);
  EXPECT_LT(took, 20s);
  auto s = status(id);
  EXPECT_EQ(s.state(), runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(s.exit_code(), 137);
  EXPECT_TRUE(stop(id, 2).ok()) << "stop is idempotent";
}

// Two pods, each with a running container, outlive a SIGKILL of crio-cri: after the restart
// both are listed in the same state and can be used, stopped and removed.
TEST_F(ContainersTest, SurvivesCriRestartWhileRunning) {
  std::string id = createAndStart(config("long", {"/bin/busybox", "sleep", "1000"}));
  std::string secondPod = runPod("second-pod");
  ASSERT_FALSE(secondPod.empty());
  std::string secondId =
      createAndStart(config("other", {"/bin/busybox", "sleep", "1000"}), secondPod);

  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  suite_->startCri();
  ASSERT_TRUE(waitReconnected());

  EXPECT_EQ(status(id).state(), runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(status(secondId).state(), runtime::v1::CONTAINER_RUNNING);
  runtime::v1::ListContainersRequest list;
  list.mutable_filter()->mutable_state()->set_state(runtime::v1::CONTAINER_RUNNING);
  runtime::v1::ListContainersResponse listed;
  ASSERT_TRUE(suite_->runtime().ListContainers(rpcContext().get(), list, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 2);
  runtime::v1::ListPodSandboxRequest listPods;
  listPods.mutable_filter()->mutable_state()->set_state(runtime::v1::SANDBOX_READY);
  runtime::v1::ListPodSandboxResponse pods;
  ASSERT_TRUE(suite_->runtime().ListPodSandbox(rpcContext().get(), listPods, &pods).ok());
  EXPECT_EQ(pods.items_size(), 2);
  EXPECT_EQ(exec(id, {"/bin/sh", "-c", "echo alive"}).stdout(), "alive\n");
  EXPECT_EQ(exec(secondId, {"/bin/sh", "-c", "echo alive"}).stdout(), "alive\n");

  ASSERT_TRUE(stop(id, 1).ok());
  EXPECT_EQ(status(id).state(), runtime::v1::CONTAINER_EXITED);
  EXPECT_TRUE(remove(id).ok());
  for (const std::string& pod : {podId_, secondPod}) {
    runtime::v1::StopPodSandboxRequest stopPod;
    stopPod.set_pod_sandbox_id(pod);
    runtime::v1::StopPodSandboxResponse stopped;
    EXPECT_TRUE(suite_->runtime().StopPodSandbox(rpcContext(60s).get(), stopPod, &stopped).ok());
    runtime::v1::RemovePodSandboxRequest removePod;
    removePod.set_pod_sandbox_id(pod);
    runtime::v1::RemovePodSandboxResponse removed;
    EXPECT_TRUE(
        suite_->runtime().RemovePodSandbox(rpcContext(60s).get(), removePod, &removed).ok());
  }
  runtime::v1::ListContainersResponse remaining;
  ASSERT_TRUE(
      suite_->runtime()
          .ListContainers(rpcContext().get(), runtime::v1::ListContainersRequest(), &remaining)
          .ok());
  EXPECT_EQ(remaining.containers_size(), 0);
  EXPECT_TRUE(mountsBelowRoot().empty());
}

TEST_F(ContainersTest, ExitWhileCriIsDownIsReported) {
  std::string id =
      createAndStart(config("brief", {"/bin/sh", "-c", "/bin/busybox sleep 2; exit 7"}));
  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  std::this_thread::sleep_for(4s);
  suite_->startCri();
  ASSERT_TRUE(waitReconnected());
  auto s = status(id);
  EXPECT_EQ(s.state(), runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(s.exit_code(), 7);
  EXPECT_TRUE(remove(id).ok());
}

TEST_F(ContainersTest, LogReopenImageHoldAndPodRemoval) {
  std::string id = createAndStart(config(
      "ticker", {"/bin/sh", "-c", "while true; do echo tick; /bin/busybox sleep 0.2; done"}));
  std::string log = podConfig_.log_directory() + "/ticker.log";
  std::this_thread::sleep_for(500ms);
  fs::rename(log, log + ".1");
  runtime::v1::ReopenContainerLogRequest reopen;
  reopen.set_container_id(id);
  runtime::v1::ReopenContainerLogResponse reopened;
  auto result = suite_->runtime().ReopenContainerLog(rpcContext().get(), reopen, &reopened);
  ASSERT_TRUE(result.ok()) << result.error_message();
  std::this_thread::sleep_for(700ms);
  EXPECT_NE(readText(log).find("stdout F tick"), std::string::npos) << "nothing in the new log";

  // The image stays while a container uses it.
  runtime::v1::RemoveImageRequest removeImage;
  removeImage.mutable_image()->set_image(testRegistry().appImage());
  runtime::v1::RemoveImageResponse removed;
  result = suite_->images().RemoveImage(rpcContext().get(), removeImage, &removed);
  EXPECT_EQ(result.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << result.error_message();

  runtime::v1::StopPodSandboxRequest stopPod;
  stopPod.set_pod_sandbox_id(podId_);
  runtime::v1::StopPodSandboxResponse stopped;
  result = suite_->runtime().StopPodSandbox(rpcContext(60s).get(), stopPod, &stopped);
  ASSERT_TRUE(result.ok()) << result.error_message();
  EXPECT_EQ(status(id).state(), runtime::v1::CONTAINER_EXITED);

  runtime::v1::RemovePodSandboxRequest removePod;
  removePod.set_pod_sandbox_id(podId_);
  runtime::v1::RemovePodSandboxResponse podRemoved;
  result = suite_->runtime().RemovePodSandbox(rpcContext(60s).get(), removePod, &podRemoved);
  ASSERT_TRUE(result.ok()) << result.error_message();
  runtime::v1::ListContainersRequest list;
  runtime::v1::ListContainersResponse listed;
  ASSERT_TRUE(suite_->runtime().ListContainers(rpcContext().get(), list, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
  EXPECT_TRUE(mountsBelowRoot().empty());

  result = suite_->images().RemoveImage(rpcContext().get(), removeImage, &removed);
  EXPECT_TRUE(result.ok()) << result.error_message();
}

TEST_F(ContainersTest, LostMonitorIsReportedUnknown) {
  std::string id = createAndStart(config("orphan", {"/bin/busybox", "sleep", "1000"}));
  runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  runtime::v1::ContainerStatusResponse response;
  ASSERT_TRUE(suite_->runtime().ContainerStatus(rpcContext().get(), request, &response).ok());
  auto info = nlohmann::json::parse(response.info().at("info"));
  EXPECT_GT(info["pid"].get<int>(), 0);
  int monitorPid = info["record"]["monitorPid"].get<int>();
  ASSERT_GT(monitorPid, 0);
  int containerPid = info["pid"].get<int>();

  ASSERT_EQ(kill(monitorPid, SIGKILL), 0);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  runtime::v1::ContainerStatus s;
  do {
    std::this_thread::sleep_for(100ms);
    s = status(id);
  } while (s.state() != runtime::v1::CONTAINER_UNKNOWN &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(s.state(), runtime::v1::CONTAINER_UNKNOWN);
  EXPECT_EQ(s.reason(), "MonitorLost");

  // The container outlived its monitor; StopContainer ends it through the runtime.
  EXPECT_EQ(kill(containerPid, 0), 0) << "the container died with its monitor";
  auto stopped = stop(id, 0);
  EXPECT_TRUE(stopped.ok()) << stopped.error_message();
  auto after = status(id);
  EXPECT_EQ(after.state(), runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(after.exit_code(), 137);
  EXPECT_TRUE(std::string(readText("/proc/" + std::to_string(containerPid) + "/stat")).empty() ||
              readText("/proc/" + std::to_string(containerPid) + "/stat").find(") Z ") !=
                  std::string::npos)
      << "the container's process still runs";
  EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/runtimes/runc/" + id))
      << "runc still has the container's state";
  EXPECT_TRUE(remove(id).ok());
  EXPECT_TRUE(mountsBelowRoot().empty());
}

// RemoveContainer of a running container whose monitor is gone also ends its processes.
TEST_F(ContainersTest, RemoveWithoutMonitorEndsTheContainer) {
  std::string id = createAndStart(config("orphan-removed", {"/bin/busybox", "sleep", "1000"}));
  runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  runtime::v1::ContainerStatusResponse response;
  ASSERT_TRUE(suite_->runtime().ContainerStatus(rpcContext().get(), request, &response).ok());
  auto info = nlohmann::json::parse(response.info().at("info"));
  int containerPid = info["pid"].get<int>();
  ASSERT_TRUE(fs::exists(suite_->root() + "/run/crio/runtimes/runc/" + id));
  ASSERT_EQ(kill(info["record"]["monitorPid"].get<int>(), SIGKILL), 0);
  std::this_thread::sleep_for(300ms);

  auto removed = remove(id);
  EXPECT_TRUE(removed.ok()) << removed.error_message();
  std::string stat = readText("/proc/" + std::to_string(containerPid) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos)
      << "the container's process still runs: " << stat;
  EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/runtimes/runc/" + id));
  EXPECT_TRUE(mountsBelowRoot().empty());
}

TEST_F(ContainersTest, InterruptedCreateIsCleanedAtStart) {
  // A create that crio-cri did not finish looks like a container whose record is missing.
  std::string id;
  ASSERT_TRUE(create(config("interrupted", {"/bin/sh"}), &id).ok());
  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  fs::remove(suite_->root() + "/var/lib/crio/cri/containers/" + id + ".json");
  ASSERT_FALSE(mountsBelowRoot().empty());

  suite_->startCri();
  ASSERT_TRUE(waitReconnected());
  std::string bundle = suite_->root() + "/run/crio/containers/" + id;
  std::string layer = suite_->root() + "/var/lib/crio/storage/containers/" + id;
  // The monitor removes its socket shortly after it answered delete().
  std::string socket = suite_->root() + "/run/crio/monitors/" + id.substr(0, 32) + ".sock";
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while ((fs::exists(bundle) || fs::exists(layer) || fs::exists(socket)) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_FALSE(fs::exists(bundle));
  EXPECT_FALSE(fs::exists(layer));
  EXPECT_TRUE(mountsBelowRoot().empty());
  EXPECT_FALSE(fs::exists(socket));
}

// The same with a monitor that cannot reply. It is stopped here, and a monitor still inside
// `runtime create` rejects delete() the same way. crio-cri finds it without a record, kills it
// and deletes the container through the runtime.
TEST_F(ContainersTest, InterruptedCreateWithStuckMonitorIsCleaned) {
  std::string id;
  ASSERT_TRUE(create(config("stuck", {"/bin/sh"}), &id).ok());
  std::string recordPath = suite_->root() + "/var/lib/crio/cri/containers/" + id + ".json";
  int monitorPid = nlohmann::json::parse(readText(recordPath))["monitorPid"].get<int>();
  ASSERT_GT(monitorPid, 0);
  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  fs::remove(recordPath);
  ASSERT_EQ(kill(monitorPid, SIGSTOP), 0);

  suite_->startCri();
  ASSERT_TRUE(waitReconnected());
  std::string bundle = suite_->root() + "/run/crio/containers/" + id;
  std::string socket = suite_->root() + "/run/crio/monitors/" + id.substr(0, 32) + ".sock";
  // The monitor's state() call times out after 10 s before the kill.
  auto deadline = std::chrono::steady_clock::now() + 40s;
  while ((fs::exists(bundle) || fs::exists("/proc/" + std::to_string(monitorPid))) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_FALSE(fs::exists(bundle));
  std::string stat = readText("/proc/" + std::to_string(monitorPid) + "/stat");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << "monitor left: " << stat;
  EXPECT_FALSE(fs::exists(socket));
  EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/runtimes/runc/" + id));
  EXPECT_TRUE(mountsBelowRoot().empty());
}

// CreateContainer carries a copy of the pod's config in sandbox_config. The fixture's pod is not
// privileged, so a copy that marks it privileged must not yield a privileged container.
TEST_F(ContainersTest, PodRecordDecidesPrivilege) {
  auto privilegedConfig = config("claims-privileged", {"/bin/busybox", "sleep", "1000"});
  privilegedConfig.mutable_linux()->mutable_security_context()->set_privileged(true);

  PodSandboxConfig recorded = podConfig_;
  podConfig_.mutable_linux()->mutable_security_context()->set_privileged(true);
  std::string id;
  auto created = create(privilegedConfig, &id);
  podConfig_ = recorded;

  EXPECT_EQ(created.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "a container of an unprivileged pod was created privileged";
  if (created.ok()) {
    EXPECT_TRUE(remove(id).ok());
  }
}

TEST_F(ContainersTest, BadRequestsLeaveNothingBehind) {
  std::string id;
  EXPECT_EQ(create(config("x", {"/bin/sh"}), &id, std::string(64, 'f')).error_code(),
            grpc::StatusCode::NOT_FOUND);
  auto unknownImage = config("y", {"/bin/sh"});
  unknownImage.mutable_image()->set_image(testRegistry().host() + "/test/absent:1");
  auto missing = create(unknownImage, &id);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(missing.error_message().find("pull it first"), std::string::npos);
  auto noMetadata = config("z", {"/bin/sh"});
  noMetadata.clear_metadata();
  EXPECT_EQ(create(noMetadata, &id).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto escapingLog = config("escaping-log", {"/bin/sh"});
  escapingLog.set_log_path("../../escaped.log");
  auto escaped = create(escapingLog, &id);
  EXPECT_EQ(escaped.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(escaped.error_message().find("log_path"), std::string::npos);
  EXPECT_FALSE(fs::exists(fs::path(podConfig_.log_directory()) / "../../escaped.log"));

  std::string first;
  ASSERT_TRUE(create(config("twice", {"/bin/sh"}), &first).ok());
  EXPECT_EQ(create(config("twice", {"/bin/sh"}), &id).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_TRUE(remove(first).ok());

  // A runtime failure (no such executable) rolls the create back too.
  auto broken = config("broken", {"/no/such/program"});
  grpc::Status failed = create(broken, &id);
  if (!failed.ok()) {
    EXPECT_TRUE(mountsBelowRoot().empty());
  } else {
    // runc reports a missing executable only at start.
    EXPECT_TRUE(remove(id).ok());
  }

  EXPECT_TRUE(mountsBelowRoot().empty());
  std::string states = suite_->root() + "/var/lib/crio/cri/containers";
  EXPECT_TRUE(!fs::exists(states) || fs::is_empty(states));
  std::string layers = suite_->root() + "/var/lib/crio/storage/containers";
  EXPECT_TRUE(!fs::exists(layers) || fs::is_empty(layers));
}

}  // namespace
}  // namespace crio::testing
