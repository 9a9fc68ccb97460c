#include "common/monitor-launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"

namespace crio {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(MonitorLauncherTest, StartsDetachedProgramWithArgsEnvAndLog) {
  MonitorLauncher launcher = MonitorLauncher::start({"/bin/sh"});
  std::string log = "/tmp/crio-launcher-test-" + std::to_string(getpid()) + ".log";
  pid_t pid = launcher.launch("/bin/sh", {"sh", "-c", "echo \"$GREETING $$ $(ps -o sid= -p $$)\""},
                              {"GREETING=hello", "PATH=/usr/bin:/bin"}, log);
  ASSERT_GT(pid, 0);
  for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string output = readAll(log);
  EXPECT_EQ(output.rfind("hello " + std::to_string(pid), 0), 0u) << output;
  std::filesystem::remove(log);
}

TEST(MonitorLauncherTest, RejectsProgramsNotConfigured) {
  MonitorLauncher launcher = MonitorLauncher::start({"/bin/true"});
  try {
    launcher.launch("/bin/sh", {"sh"}, {}, "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a configured monitor"), std::string::npos);
  }
}

TEST(MonitorLauncherTest, ReportsExecFailure) {
  MonitorLauncher launcher = MonitorLauncher::start({"/nonexistent/monitor"});
  try {
    launcher.launch("/nonexistent/monitor", {"monitor"}, {}, "");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace crio
