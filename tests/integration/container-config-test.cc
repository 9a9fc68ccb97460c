// The container gets what its ContainerConfig requests, as seen through the CRI and from inside
// the container. A memory limit ends in an OOM kill. Bind mounts have the access and propagation
// requested, and ContainerStatus reports them back.
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cri-fixture.h"

namespace crio::testing {
namespace {

namespace fs = std::filesystem;
namespace test = crio::imaged::test;
using namespace std::chrono_literals;

bool hasMemoryController() {
  if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0) return true;
  return readText("/sys/fs/cgroup/cgroup.controllers").find("memory") != std::string::npos;
}

class ContainerConfigTest : public CriFixture {
 protected:
  void SetUp() override {
    startSuite();
    if (IsSkipped() || HasFatalFailure()) return;
    image_ = testRegistry().appImage();
    pull(image_);
    pod_ = runPod(podConfig("config"));
    ASSERT_FALSE(pod_.empty());
  }

  std::string image_;
  std::string pod_;
};

TEST_F(ContainerConfigTest, MemoryLimitEndsInOomKill) {
  if (!hasMemoryController()) GTEST_SKIP() << "the memory cgroup controller is not available";
  // dd's 64 MiB block is written into memory at once, four times the limit. It is the init
  // process (exec), so its kill is the container's exit.
  auto config = containerConfig(
      "hungry", image_,
      {"/bin/sh", "-c", "exec /bin/busybox dd if=/dev/zero of=/dev/null bs=64M count=1"});
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(16 << 20);
  std::string id = createAndStart(pod_, config);
  ASSERT_FALSE(id.empty());
  auto s = waitExited(id);
  EXPECT_EQ(s.state(), runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(s.reason(), "OOMKilled");
  EXPECT_EQ(s.exit_code(), 137);
  EXPECT_TRUE(remove(id).ok());

  // The same program within its limit completes.
  config.mutable_metadata()->set_name("fed");
  config.mutable_linux()->mutable_resources()->set_memory_limit_in_bytes(256 << 20);
  id = createAndStart(pod_, config);
  s = waitExited(id);
  EXPECT_EQ(s.reason(), "Completed");
  EXPECT_EQ(s.exit_code(), 0);
}

// A folder of the test as its own mount point in a shared peer group, which HOST_TO_CONTAINER
// and BIDIRECTIONAL propagation need. Unmounted at destruction.
class SharedMountPoint {
 public:
  explicit SharedMountPoint(std::string path) : path_(std::move(path)) {
    fs::create_directories(path_);
    mounted_ = mount(path_.c_str(), path_.c_str(), nullptr, MS_BIND, nullptr) == 0 &&
               mount(nullptr, path_.c_str(), nullptr, MS_PRIVATE, nullptr) == 0 &&
               mount(nullptr, path_.c_str(), nullptr, MS_SHARED, nullptr) == 0;
  }
  ~SharedMountPoint() {
    for (const auto& late : lateMounts_)
      umount2(late.c_str(), MNT_DETACH);
    umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  // Mounts a tmpfs at PATH/NAME on the host.
  bool mountTmpfs(const std::string& name) {
    std::string target = path_ + "/" + name;
    fs::create_directories(target);
    if (mount("tmpfs", target.c_str(), "tmpfs", 0, "size=1m") != 0) return false;
    lateMounts_.push_back(target);
    return true;
  }

 private:
  std::string path_;
  bool mounted_ = false;
  std::vector<std::string> lateMounts_;
};

runtime::v1::Mount mountOf(const std::string& host, const std::string& container, bool readonly,
                           runtime::v1::MountPropagation propagation, bool relabel) {
  runtime::v1::Mount m;
  m.set_host_path(host);
  m.set_container_path(container);
  m.set_readonly(readonly);
  m.set_propagation(propagation);
  m.set_selinux_relabel(relabel);
  return m;
}

TEST_F(ContainerConfigTest, MountsAreReportedAndEnforced) {
  test::TempDir dir("crio-mounts");
  test::writeFile(dir / "ro/greeting", "read me\n");
  SharedMountPoint shared(dir / "rw");
  ASSERT_TRUE(shared.mounted()) << "cannot make " << (dir / "rw") << " a shared mount point";

  auto config = containerConfig("mounts", image_, {"/bin/busybox", "sleep", "1000"});
  config.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
  *config.add_mounts() =
      mountOf(dir / "ro", "/data/ro", true, runtime::v1::PROPAGATION_PRIVATE, true);
  *config.add_mounts() =
      mountOf(dir / "rw", "/data/rw", false, runtime::v1::PROPAGATION_HOST_TO_CONTAINER, false);
  *config.add_mounts() =
      mountOf(dir / "rw", "/data/both", false, runtime::v1::PROPAGATION_BIDIRECTIONAL, true);
  std::string id = createAndStart(pod_, config);
  ASSERT_FALSE(id.empty());

  // ContainerStatus reports each mount as it was requested.
  auto s = status(id);
  ASSERT_EQ(s.mounts_size(), config.mounts_size());
  for (int i = 0; i < config.mounts_size(); ++i) {
    const auto& want = config.mounts(i);
    const auto& got = s.mounts(i);
    EXPECT_EQ(got.container_path(), want.container_path()) << i;
    EXPECT_EQ(got.host_path(), want.host_path()) << i;
    EXPECT_EQ(got.readonly(), want.readonly()) << i;
    EXPECT_EQ(got.propagation(), want.propagation()) << i;
    EXPECT_EQ(got.selinux_relabel(), want.selinux_relabel()) << i;
  }

  // Read-only is enforced, even for root.
  EXPECT_EQ(exec(id, {"/bin/busybox", "cat", "/data/ro/greeting"}).stdout(), "read me\n");
  auto touch = exec(id, {"/bin/busybox", "touch", "/data/ro/new"});
  EXPECT_NE(touch.exit_code(), 0);
  EXPECT_NE(touch.stderr().find("Read-only file system"), std::string::npos) << touch.stderr();
  EXPECT_FALSE(fs::exists(dir / "ro/new"));

  // A writable mount writes through to the host.
  EXPECT_EQ(exec(id, {"/bin/sh", "-c", "echo written > /data/rw/out"}).exit_code(), 0);
  EXPECT_EQ(readText(dir / "rw/out"), "written\n");

  // HOST_TO_CONTAINER: a mount made on the host after the start appears in the container.
  ASSERT_TRUE(shared.mountTmpfs("late"));
  std::string mounts = exec(id, {"/bin/busybox", "cat", "/proc/self/mountinfo"}).stdout();
  EXPECT_NE(mounts.find(" /data/rw/late "), std::string::npos) << mounts;
  EXPECT_NE(mounts.find(" /data/both/late "), std::string::npos) << mounts;
  EXPECT_TRUE(remove(id).ok());
}

// The PID holder is pid 1 of a pod that shares its PID namespace. A container allowed to
// inspect other processes (CAP_SYS_PTRACE) finds an empty root there, not the host's.
TEST_F(ContainerConfigTest, SharedPidHolderShowsNoHostFiles) {
  auto pod = podConfig("shared-pid");
  pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      runtime::v1::POD);
  std::string podId = runPod(pod);
  ASSERT_FALSE(podId.empty());
  auto config = containerConfig("inspector", image_, {"/bin/busybox", "sleep", "1000"});
  auto* security = config.mutable_linux()->mutable_security_context();
  security->mutable_run_as_user()->set_value(0);
  security->mutable_capabilities()->add_add_capabilities("SYS_PTRACE");
  std::string id = createAndStart(podId, config);
  ASSERT_FALSE(id.empty());

  auto comm = exec(id, {"/bin/busybox", "cat", "/proc/1/comm"});
  EXPECT_EQ(comm.stdout(), "crio-pod-init\n");
  auto root = exec(id, {"/bin/busybox", "ls", "-A", "/proc/1/root/", "/proc/1/cwd/"});
  EXPECT_EQ(root.exit_code(), 0) << root.stderr();
  EXPECT_EQ(root.stdout(), "/proc/1/cwd/:\n\n/proc/1/root/:\n") << "files behind the holder";
  auto mounts = exec(id, {"/bin/busybox", "cat", "/proc/1/mountinfo"});
  EXPECT_EQ(std::count(mounts.stdout().begin(), mounts.stdout().end(), '\n'), 1) << mounts.stdout();

  // The holder is a fresh program: nothing of crio-cri's environment or memory is left to read.
  auto environ = exec(id, {"/bin/busybox", "cat", "/proc/1/environ"});
  EXPECT_EQ(environ.stdout(), "") << "the holder has an environment";
  // It has no capability left, in any set, and no_new_privs.
  auto status = exec(id, {"/bin/busybox", "cat", "/proc/1/status"});
  for (const char* set :
       {"CapInh:\t0000000000000000", "CapPrm:\t0000000000000000", "CapEff:\t0000000000000000",
        "CapBnd:\t0000000000000000", "NoNewPrivs:\t1"}) {
    EXPECT_NE(status.stdout().find(set), std::string::npos) << set << "\n" << status.stdout();
  }
  // It is in the pod's network, IPC and UTS namespaces. This pod uses the host's network (and
  // so its UTS namespace), so only the IPC namespace differs from the host's.
  for (const char* kind : {"net", "ipc", "uts"}) {
    std::string path = std::string("/proc/self/ns/") + kind;
    auto own = exec(id, {"/bin/busybox", "readlink", path});
    auto holder = exec(id, {"/bin/busybox", "readlink", std::string("/proc/1/ns/") + kind});
    EXPECT_EQ(own.stdout(), holder.stdout()) << kind;
  }
  char hostIpc[64] = {};
  ASSERT_GT(readlink("/proc/self/ns/ipc", hostIpc, sizeof(hostIpc) - 1), 0);
  auto holderIpc = exec(id, {"/bin/busybox", "readlink", "/proc/1/ns/ipc"});
  EXPECT_NE(holderIpc.stdout(), std::string(hostIpc) + "\n");
  EXPECT_TRUE(remove(id).ok());
}

}  // namespace
}  // namespace crio::testing
