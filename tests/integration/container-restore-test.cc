// Containers across a stop and start of the whole suite whose root filesystem mount vanished
// meanwhile, as after a reboot or a daemon that ran in a mount namespace of its own.
#include <signal.h>
#include <sys/mount.h>

#include <filesystem>
#include <functional>

#include "common/overlay-mount.h"
#include "cri-fixture.h"

namespace crio::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ContainerRestoreTest : public CriFixture {
 protected:
  void SetUp() override {
    startSuite();
    if (IsSkipped() || HasFatalFailure()) return;
    image_ = testRegistry().appImage();
    pull(image_);
    pod_ = runPod(podConfig("restore"));
    ASSERT_FALSE(pod_.empty());
  }

  std::string rootfs(const std::string& id) {
    return suite_->root() + "/run/crio/containers/" + id + "/rootfs";
  }

  // Stops every daemon (crio-cri with SIGKILL, the others with SIGTERM), runs `meanwhile`, and
  // starts them again. False when crio-cri does not serve within 20 s.
  bool restartSuite(const std::function<void()>& meanwhile) {
    suite_->daemon("crio-cri")->kill9();
    suite_->forget("crio-cri");
    for (const char* name : {"crio-imaged", "crio-stored"}) {
      suite_->daemon(name)->stop();
      suite_->forget(name);
    }
    meanwhile();
    suite_->startStored();
    suite_->startImaged();
    return startCri();
  }

  std::string image_;
  std::string pod_;
};

// The container's processes keep the overlay in their own mount namespace, which runc copied
// from the host's and rooted on the overlay. So starting or running the container needs no mount
// on the host.
// crio-cri does not mount it again, because a second overlay on the same upper and work folders
// while the first lives is undefined behaviour for the kernel (see docs/containers.md).
TEST_F(ContainerRestoreTest, CreatedStartsWithoutHostRootfsMount) {
  std::string id;
  ASSERT_TRUE(
      create(pod_, containerConfig("later", image_, {"/bin/sh", "-c", "cat /work/marker"}), &id)
          .ok());
  ASSERT_TRUE(isMountPoint(rootfs(id)));
  ASSERT_TRUE(restartSuite([&]() { ASSERT_EQ(umount2(rootfs(id).c_str(), MNT_DETACH), 0); }));

  EXPECT_EQ(status(id).state(), runtime::v1::CONTAINER_CREATED);
  EXPECT_FALSE(isMountPoint(rootfs(id)));
  auto started = start(id);
  ASSERT_TRUE(started.ok()) << started.error_message();
  auto s = waitExited(id);
  EXPECT_EQ(s.exit_code(), 0);
  EXPECT_EQ(logOutput(s), "in /work\n");
  EXPECT_TRUE(remove(id).ok());
  EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/containers/" + id));
  EXPECT_FALSE(fs::exists(suite_->root() + "/var/lib/crio/storage/containers/" + id));
}

TEST_F(ContainerRestoreTest, RunningWorksWithoutHostRootfsMount) {
  auto config = containerConfig("running", image_, {"/bin/busybox", "sleep", "1000"});
  config.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
  std::string id = createAndStart(pod_, config);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(restartSuite([&]() { ASSERT_EQ(umount2(rootfs(id).c_str(), MNT_DETACH), 0); }));

  EXPECT_EQ(status(id).state(), runtime::v1::CONTAINER_RUNNING);
  auto written = exec(id, {"/bin/sh", "-c", "echo kept > /work/new && cat /work/marker /work/new"});
  EXPECT_EQ(written.stdout(), "in /work\nkept\n") << written.stderr();
  ASSERT_TRUE(stop(id, 0).ok());
  EXPECT_EQ(status(id).exit_code(), 137);
  EXPECT_TRUE(remove(id).ok());
  EXPECT_FALSE(fs::exists(suite_->root() + "/var/lib/crio/storage/containers/" + id));
}

// A reboot also ends the monitor and the runtime's container. The container cannot run again, so
// it is reported unknown, and StartContainer fails instead of creating it anew.
TEST_F(ContainerRestoreTest, CreatedIsUnknownAfterReboot) {
  std::string id;
  ASSERT_TRUE(create(pod_, containerConfig("lost", image_, {"/bin/sh"}), &id).ok());
  runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  request.set_verbose(true);
  runtime::v1::ContainerStatusResponse response;
  ASSERT_TRUE(suite_->runtime().ContainerStatus(rpcContext().get(), request, &response).ok());
  int monitorPid = nlohmann::json::parse(response.info().at("info"))["record"]["monitorPid"];
  ASSERT_GT(monitorPid, 0);

  std::string runtimeRoot = suite_->root() + "/run/crio/runtimes/runc";
  ASSERT_TRUE(restartSuite([&]() {
    ASSERT_EQ(kill(monitorPid, SIGKILL), 0);
    ASSERT_EQ(
        imaged::test::runCommand({"runc", "--root", runtimeRoot, "delete", "--force", id}).status,
        0);
    ASSERT_EQ(umount2(rootfs(id).c_str(), MNT_DETACH), 0);
  }));

  auto s = status(id);
  EXPECT_EQ(s.state(), runtime::v1::CONTAINER_UNKNOWN);
  EXPECT_EQ(s.reason(), "MonitorLost");
  auto started = start(id);
  EXPECT_EQ(started.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << started.error_message();
  EXPECT_TRUE(remove(id).ok());
  EXPECT_FALSE(fs::exists(suite_->root() + "/run/crio/containers/" + id));
  EXPECT_FALSE(fs::exists(suite_->root() + "/var/lib/crio/storage/containers/" + id));
}

}  // namespace
}  // namespace crio::testing
