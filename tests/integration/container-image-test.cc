// Images built here for what a container takes from its image: the StopSignal of the image's
// config, and a root filesystem stacked from 120 layers.
#include <chrono>
#include <thread>

#include "cri-fixture.h"

namespace crio::testing {
namespace {

namespace test = crio::imaged::test;
using namespace std::chrono_literals;

// Layers of the tall image. overlayfs stacks up to 500, but a mount option string of one page
// has room for only about 50 layer paths.
constexpr int TALL_IMAGE_LAYERS = 120;

// Traps SIGUSR1: the trap prints and exits 0. Without the trap, as pid 1 of its PID namespace,
// the shell ignores SIGTERM, so only SIGKILL after the grace period ends it.
constexpr const char* TRAP_USR1 =
    "trap 'echo trapped USR1; exit 0' USR1; echo ready; /bin/busybox sleep 1000 & wait";

class ContainerImageTest : public CriFixture {
 protected:
  void SetUp() override {
    startSuite();
    if (IsSkipped() || HasFatalFailure()) return;
    pod_ = runPod(podConfig("image"));
    ASSERT_FALSE(pod_.empty());
  }

  // Waits until the container's log has `text`.
  bool waitForOutput(const std::string& id, const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (logOutput(status(id)).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  std::string pod_;
};

TEST_F(ContainerImageTest, StopUsesImageStopSignal) {
  test::Layer busybox = test::makeLayer({}, test::Compression::GZIP, true);
  std::string usr1 = testRegistry().push(
      "stop-usr1", test::makeImage({busybox}, crio::imaged::hostPlatform(),
                                   {{"Env", {"PATH=/bin"}}, {"StopSignal", "SIGUSR1"}}));
  std::string plain = testRegistry().push(
      "stop-default",
      test::makeImage({busybox}, crio::imaged::hostPlatform(), {{"Env", {"PATH=/bin"}}}));
  pull(usr1);
  pull(plain);

  std::string id =
      createAndStart(pod_, containerConfig("usr1", usr1, {"/bin/sh", "-c", TRAP_USR1}));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(waitForOutput(id, "ready\n"));
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(stop(id, 30).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s) << "the trap did not end it";
  auto s = status(id);
  EXPECT_EQ(s.state(), runtime::v1::CONTAINER_EXITED);
  EXPECT_EQ(s.exit_code(), 0);
  EXPECT_EQ(logOutput(s), "ready\ntrapped USR1\n");

  // The same program from an image without StopSignal gets SIGTERM, which it ignores.
  std::string other =
      createAndStart(pod_, containerConfig("term", plain, {"/bin/sh", "-c", TRAP_USR1}));
  ASSERT_TRUE(waitForOutput(other, "ready\n"));
  ASSERT_TRUE(stop(other, 1).ok());
  s = status(other);
  EXPECT_EQ(s.exit_code(), 137);
  EXPECT_EQ(logOutput(s), "ready\n");
}

TEST_F(ContainerImageTest, ImageOf120LayersRuns) {
  // Layer 0 has busybox and /first, and the last layer has /last. Each layer writes /stack/top
  // and a file of its own below /layers.
  std::vector<test::Layer> layers;
  for (int i = 0; i < TALL_IMAGE_LAYERS; ++i) {
    std::map<std::string, std::string> files = {{"stack/top", std::to_string(i) + "\n"},
                                                {"layers/" + std::to_string(i), ""}};
    if (i == 0) files["first"] = "from the first layer\n";
    if (i == TALL_IMAGE_LAYERS - 1) files["last"] = "from the last layer\n";
    layers.push_back(test::makeLayer(files, test::Compression::GZIP, i == 0));
  }
  std::string tall = testRegistry().push(
      "tall", test::makeImage(layers, crio::imaged::hostPlatform(), {{"Env", {"PATH=/bin"}}}));
  pull(tall);

  std::string id =
      createAndStart(pod_, containerConfig("tall", tall,
                                           {"/bin/sh", "-c",
                                            "/bin/busybox cat /first /last /stack/top; "
                                            "/bin/busybox ls /layers | /bin/busybox wc -l"}));
  ASSERT_FALSE(id.empty());
  auto s = waitExited(id);
  EXPECT_EQ(s.exit_code(), 0) << s.message();
  EXPECT_EQ(logOutput(s), "from the first layer\nfrom the last layer\n" +
                              std::to_string(TALL_IMAGE_LAYERS - 1) + "\n" +
                              std::to_string(TALL_IMAGE_LAYERS) + "\n");
  EXPECT_TRUE(remove(id).ok());
}

}  // namespace
}  // namespace crio::testing
