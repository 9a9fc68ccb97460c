// Runtime handlers through the CRI: RunPodSandbox.runtime_handler picks the
// [crio.runtime.runtimes.NAME] table whose runtime_path and runtime_root run the pod's containers.
//
// Two runc handlers run side by side: the default `runc`, and `runc-alt`, whose runtime_path is a
// wrapper script that records each call before it runs runc, with a runtime_root of its own. A
// third handler runs crun where this host's cgroup layout lets it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cri-fixture.h"

namespace crio::testing {
namespace {

namespace fs = std::filesystem;
namespace test = crio::imaged::test;
using namespace std::chrono_literals;

constexpr const char* CRUN = "/usr/bin/crun";
// The error of crun 1.8 on a v1/v2 hybrid host whose v2 hierarchy has any controller.
constexpr const char* CRUN_HYBRID_ERROR = "cgroups in hybrid mode not supported";

// The controllers of the v2 hierarchy of a hybrid host, which has v1 controllers under
// /sys/fs/cgroup and a cgroup2 mount at /sys/fs/cgroup/unified. "" on other hosts, or when the v2
// hierarchy has no controller.
std::string hybridV2Controllers() {
  std::ifstream mounts("/proc/self/mounts");
  bool v1 = false, unified = false;
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string source, target, type;
    fields >> source >> target >> type;
    if (type == "cgroup") v1 = true;
    if (type == "cgroup2" && target == "/sys/fs/cgroup/unified") unified = true;
  }
  if (!v1 || !unified) return "";
  std::string controllers = readText("/sys/fs/cgroup/unified/cgroup.controllers");
  while (!controllers.empty() && controllers.back() == '\n')
    controllers.pop_back();
  return controllers;
}

class RuntimeHandlersTest : public CriFixture {
 protected:
  // Lines of the wrapper's record, one per call: the runtime's arguments.
  std::vector<std::string> wrapperCalls() {
    std::vector<std::string> calls;
    std::istringstream in(readText(handlerDir_ / "calls"));
    for (std::string line; std::getline(in, line);)
      calls.push_back(line);
    return calls;
  }

  static bool anyCallHas(const std::vector<std::string>& calls, const std::string& verb,
                         const std::string& id) {
    for (const auto& call : calls) {
      if (call.find(" " + verb + " ") != std::string::npos && call.find(id) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  test::TempDir handlerDir_{"crio-handlers"};
};

TEST_F(RuntimeHandlersTest, EachPodRunsOnItsHandler) {
  std::string wrapper = handlerDir_ / "runc-wrapper";
  test::writeFile(
      wrapper,
      "#!/bin/sh\necho \"$*\" >> " + (handlerDir_ / "calls") + "\nexec /usr/sbin/runc \"$@\"\n",
      0755);
  std::string altRoot = handlerDir_ / "runc-alt-state";
  startSuite(
      "[crio.runtime.runtimes.runc-alt]\n"
      "runtime_path = \"" +
      wrapper + "\"\nruntime_root = \"" + altRoot + "\"\n");
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string& image = testRegistry().appImage();
  pull(image);

  std::string defaultPod = runPod(podConfig("default-handler"));
  std::string altPod = runPod(podConfig("alt-handler"), "runc-alt");
  ASSERT_FALSE(defaultPod.empty());
  ASSERT_FALSE(altPod.empty());
  EXPECT_EQ(podStatus(altPod).runtime_handler(), "runc-alt");

  std::vector<std::string> sleep = {"/bin/busybox", "sleep", "1000"};
  std::string plain = createAndStart(defaultPod, containerConfig("plain", image, sleep));
  std::string wrapped = createAndStart(altPod, containerConfig("wrapped", image, sleep));
  ASSERT_FALSE(plain.empty());
  ASSERT_FALSE(wrapped.empty());
  EXPECT_EQ(status(plain).state(), runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(status(wrapped).state(), runtime::v1::CONTAINER_RUNNING);

  // Each runtime keeps the container's state below its own root.
  std::string defaultRoot = suite_->root() + "/run/crio/runtimes/runc";
  EXPECT_TRUE(fs::exists(defaultRoot + "/" + plain + "/state.json"));
  EXPECT_FALSE(fs::exists(defaultRoot + "/" + wrapped));
  EXPECT_TRUE(fs::exists(altRoot + "/" + wrapped + "/state.json"));
  EXPECT_FALSE(fs::exists(altRoot + "/" + plain));

  // Only the alternative handler's container went through the wrapper, with its root.
  EXPECT_EQ(exec(wrapped, {"/bin/sh", "-c", "echo via-alt"}).stdout(), "via-alt\n");
  std::vector<std::string> calls = wrapperCalls();
  EXPECT_TRUE(anyCallHas(calls, "create", wrapped));
  EXPECT_TRUE(anyCallHas(calls, "start", wrapped));
  EXPECT_TRUE(anyCallHas(calls, "exec", wrapped));
  for (const auto& call : calls) {
    EXPECT_EQ(call.find(plain), std::string::npos) << call;
    EXPECT_NE(call.find("--root " + altRoot), std::string::npos) << call;
  }

  EXPECT_TRUE(remove(wrapped).ok());
  EXPECT_TRUE(anyCallHas(wrapperCalls(), "delete", wrapped));
  EXPECT_FALSE(fs::exists(altRoot + "/" + wrapped));
  EXPECT_TRUE(remove(plain).ok());
  EXPECT_FALSE(fs::exists(defaultRoot + "/" + plain));
}

TEST_F(RuntimeHandlersTest, CrunHandlerRunsContainer) {
  if (access(CRUN, X_OK) != 0) GTEST_SKIP() << "needs " << CRUN << " (Debian package crun)";
  startSuite(std::string("[crio.runtime.runtimes.crun]\nruntime_path = \"") + CRUN + "\"\n");
  if (IsSkipped() || HasFatalFailure()) return;
  const std::string& image = testRegistry().appImage();
  pull(image);
  std::string pod = runPod(podConfig("crun-pod"), "crun");
  ASSERT_FALSE(pod.empty());

  std::string id;
  auto created =
      create(pod, containerConfig("crun", image, {"/bin/sh", "-c", "echo from crun; exit 5"}), &id);
  if (!created.ok()) {
    std::string controllers = hybridV2Controllers();
    if (created.error_message().find(CRUN_HYBRID_ERROR) != std::string::npos &&
        !controllers.empty()) {
      GTEST_SKIP() << "crun refuses this host's cgroup layout: v1 controllers with a v2 hierarchy "
                      "at /sys/fs/cgroup/unified that has controllers ("
                   << controllers << "): " << created.error_message();
    }
    FAIL() << created.error_message();
  }
  ASSERT_TRUE(start(id).ok());
  auto s = waitExited(id);
  EXPECT_EQ(s.exit_code(), 5);
  EXPECT_EQ(logOutput(s), "from crun\n");
  EXPECT_TRUE(fs::exists(suite_->root() + "/run/crio/runtimes/crun"));
  EXPECT_TRUE(remove(id).ok());
}

}  // namespace
}  // namespace crio::testing
