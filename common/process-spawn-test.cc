#include "common/process-spawn.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "common/error.h"

namespace crio {
namespace {

ProcessRequest shell(const std::string& script) {
  ProcessRequest request;
  request.path = "/bin/sh";
  request.argv = {"sh", "-c", script};
  request.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  return request;
}

bool isDeadOrZombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  auto end = text.rfind(')');
  return end == std::string::npos || text.substr(end + 2, 1) == "Z";
}

TEST(ProcessSpawnTest, StdinIsPassedAndStdoutCaptured) {
  ProcessRequest request = shell("cat; echo done >&2");
  request.stdinData = "hello world";
  ProcessResult result = runProcess(request);
  EXPECT_TRUE(result.succeeded());
  EXPECT_EQ(result.stdoutData, "hello world");
  EXPECT_EQ(result.stderrData, "done\n");
}

TEST(ProcessSpawnTest, LargeStdinAndStdoutDoNotDeadlock) {
  ProcessRequest request = shell("cat");
  request.stdinData.assign(4 << 20, 'x');
  request.maxStdoutBytes = 8 << 20;
  ProcessResult result = runProcess(request);
  EXPECT_TRUE(result.succeeded());
  EXPECT_EQ(result.stdoutData.size(), request.stdinData.size());
}

TEST(ProcessSpawnTest, ChildIgnoringStdinDoesNotRaiseSigpipe) {
  ProcessRequest request = shell("exit 3");
  request.stdinData.assign(4 << 20, 'x');
  ProcessResult result = runProcess(request);
  EXPECT_EQ(result.exitCode, 3);
  EXPECT_FALSE(result.succeeded());
  EXPECT_EQ(result.describeEnd(request), "exit status 3");
}

TEST(ProcessSpawnTest, EnvironmentIsExactlyTheRequested) {
  ProcessRequest request = shell("echo \"$CRIO_A|$HOME\"");
  request.env.push_back("CRIO_A=1");
  ProcessResult result = runProcess(request);
  EXPECT_EQ(result.stdoutData, "1|\n");
}

TEST(ProcessSpawnTest, TimeoutKillsTheWholeProcessGroup) {
  // The background sleep stands for a process the program started; its pid is printed first.
  ProcessRequest request = shell("sleep 30 & echo $!; sleep 30");
  request.timeout = std::chrono::milliseconds(300);
  ProcessResult result = runProcess(request);
  EXPECT_TRUE(result.timedOut);
  EXPECT_EQ(result.signal, SIGKILL);
  EXPECT_LT(result.elapsed, std::chrono::seconds(5));
  pid_t background = std::stoi(result.stdoutData);
  // The background process was killed too. Init reaps it at its own pace, so a zombie counts as
  // dead.
  bool dead = false;
  for (int i = 0; i < 500 && !dead; ++i) {
    dead = isDeadOrZombie(background);
    if (!dead) usleep(10000);
  }
  EXPECT_TRUE(dead) << "background process " << background << " survived";
}

TEST(ProcessSpawnTest, OversizedStdoutKillsTheChild) {
  ProcessRequest request = shell("while :; do echo xxxxxxxxxxxxxxxx; done");
  request.maxStdoutBytes = 4096;
  ProcessResult result = runProcess(request);
  EXPECT_TRUE(result.stdoutExceeded);
  EXPECT_EQ(result.stdoutData.size(), 4096u);
  EXPECT_FALSE(result.succeeded());
}

TEST(ProcessSpawnTest, StderrIsTruncatedNotFatal) {
  ProcessRequest request = shell("head -c 100000 /dev/zero >&2; echo ok");
  request.maxStderrBytes = 1000;
  ProcessResult result = runProcess(request);
  EXPECT_TRUE(result.succeeded());
  EXPECT_TRUE(result.stderrTruncated);
  EXPECT_EQ(result.stderrData.size(), 1000u);
  EXPECT_EQ(result.stdoutData, "ok\n");
}

TEST(ProcessSpawnTest, MissingProgramThrowsNotFound) {
  ProcessRequest request;
  request.path = "/nonexistent/crio-test-program";
  try {
    runProcess(request);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/crio-test-program"), std::string::npos);
  }
}

TEST(ProcessSpawnTest, IgnoredSigpipeIsResetInTheChild) {
  struct sigaction ignore = {}, old = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  ProcessResult result = runProcess(shell("exec grep SigIgn /proc/self/status"));
  sigaction(SIGPIPE, &old, nullptr);
  ASSERT_TRUE(result.succeeded());
  // "SigIgn:\t0000000000000000": a mask whose bit (signal - 1) is set for each ignored signal.
  unsigned long long mask =
      std::stoull(result.stdoutData.substr(result.stdoutData.find('\t')), nullptr, 16);
  EXPECT_EQ(mask & (1ULL << (SIGPIPE - 1)), 0u) << result.stdoutData;
}

TEST(ProcessSpawnTest, CurrentEnvironmentDropsPrefix) {
  setenv("CNI_CRIO_TEST", "1", 1);
  auto all = currentEnvironment();
  auto filtered = currentEnvironment("CNI_");
  EXPECT_NE(std::find(all.begin(), all.end(), "CNI_CRIO_TEST=1"), all.end());
  EXPECT_EQ(std::find(filtered.begin(), filtered.end(), "CNI_CRIO_TEST=1"), filtered.end());
  unsetenv("CNI_CRIO_TEST");
}

}  // namespace
}  // namespace crio
