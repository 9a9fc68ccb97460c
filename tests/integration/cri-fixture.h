// A base for CRI tests that run pods and containers: the real daemons under a throwaway root,
// a docker-registry on 127.0.0.1 with images built here from busybox-static, and short helpers
// for the CRI calls that a test makes many times.
//
// Every test binary that links this has one registry per process (ctest runs each case as a
// process of its own). The fixture removes its pods, and with them their containers, when the
// suite stops.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "imaged-test-images.h"
#include "imaged-test-support.h"
#include "suite.h"

namespace crio::testing {

// /etc/passwd and /etc/group of the app image: users root and app (uid 1234, gid 5678).
constexpr const char* APP_PASSWD =
    "root:x:0:0:root:/root:/bin/sh\napp:x:1234:5678::/home/app:/bin/sh\n";
constexpr const char* APP_GROUP = "root:x:0:\napp:x:5678:\n";

// A docker-registry on 127.0.0.1 that the tests push their images to.
class TestRegistry {
 public:
  TestRegistry();

  // "127.0.0.1:PORT".
  const std::string& host() const { return registry_->host(); }
  // Pushes `image` as HOST/test/NAME:1 and returns that reference. `preserveDigests` keeps
  // uncompressed layers as they are (skopeo would compress them).
  std::string push(const std::string& name, const imaged::test::Image& image,
                   bool preserveDigests = false);
  // The app image, pushed on first use. Files: busybox, APP_PASSWD, APP_GROUP, /work/marker.
  // Config: Entrypoint sh -c, a Cmd that sleeps, Env FROM_IMAGE=yes and PATH=/bin, WorkingDir
  // /work, User app.
  const std::string& appImage();

 private:
  imaged::test::TempDir dir_{"crio-cri-registry"};
  std::unique_ptr<imaged::test::DockerRegistry> registry_;
  std::string appImage_;
  int pushed_ = 0;
};

// The process's registry, started on first use.
TestRegistry& testRegistry();

// True when `name` is an executable in /usr/sbin, /usr/bin, /sbin or /bin.
bool onPath(const std::string& name);

std::string readText(const std::string& path);

class CriFixture : public ::testing::Test {
 protected:
  // Removes every container (at once, without a grace period) and pod, then stops the suite.
  void TearDown() override;

  // Skips the test unless the process is root and runc, skopeo and docker-registry are there.
  // Then starts the suite with `config` (crio.conf text) plus the registry as insecure.
  void startSuite(const std::string& config = "");

  // Pulls `image` through the CRI and returns its image_ref.
  std::string pull(const std::string& image);

  // A pod config: metadata NAME/default/uid-NAME, a log folder under the root, and the host's
  // network when `hostNetwork`.
  runtime::v1::PodSandboxConfig podConfig(const std::string& name, bool hostNetwork = true);
  // Runs the pod and keeps its config for later creates. Returns "" and fails the test on error.
  std::string runPod(const runtime::v1::PodSandboxConfig& config, const std::string& handler = "");
  grpc::Status tryRunPod(const runtime::v1::PodSandboxConfig& config, const std::string& handler,
                         std::string* id);
  runtime::v1::PodSandboxStatus podStatus(const std::string& podId);

  // A container config named NAME with its log at NAME.log in the pod's log folder.
  runtime::v1::ContainerConfig containerConfig(const std::string& name, const std::string& image,
                                               std::vector<std::string> command = {});
  grpc::Status create(const std::string& podId, const runtime::v1::ContainerConfig& config,
                      std::string* id);
  grpc::Status start(const std::string& id);
  // Creates and starts a container. Returns "" and fails the test when the create fails.
  std::string createAndStart(const std::string& podId, const runtime::v1::ContainerConfig& config);

  runtime::v1::ContainerStatus status(const std::string& id);
  runtime::v1::ContainerStatus waitExited(const std::string& id,
                                          std::chrono::seconds timeout = std::chrono::seconds(20));
  grpc::Status stop(const std::string& id, int64_t timeoutSeconds);
  grpc::Status remove(const std::string& id);
  grpc::Status removePod(const std::string& podId);
  // Runs ExecSync. A failed call fails the test unless `outStatus` is given to receive it.
  runtime::v1::ExecSyncResponse exec(const std::string& id, std::vector<std::string> cmd,
                                     int64_t timeoutSeconds = 10,
                                     grpc::Status* outStatus = nullptr);

  // The stdout and stderr of a container, reassembled from its CRI log.
  std::string logOutput(const runtime::v1::ContainerStatus& status);

  // Kills crio-cri with SIGKILL and starts it again. False when it does not serve within 20 s.
  bool restartCri();
  // Starts crio-cri. False when it does not serve within 20 s.
  bool startCri();

  std::unique_ptr<Suite> suite_;
  std::map<std::string, runtime::v1::PodSandboxConfig> pods_;
};

}  // namespace crio::testing
