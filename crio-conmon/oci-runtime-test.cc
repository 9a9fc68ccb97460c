#include "crio-conmon/oci-runtime.h"

#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <signal.h>

#include <chrono>
#include <memory>

#include "common/error.h"
#include "ipc/errors.h"

namespace crio::conmon {
namespace {

using Args = std::vector<std::string>;

TEST(OciRuntimeArgsTest, GlobalOptionsComeFirst) {
  kj::UnixEventPort::captureSignal(SIGCHLD);
  auto io = std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  ChildReaper reaper(io->unixEventPort);
  OciRuntime runtime({"/usr/sbin/runc", "/run/r", {"--systemd-cgroup"}, std::nullopt},
                     io->unixEventPort, io->provider->getTimer(), reaper);
  EXPECT_EQ(runtime.command(OciRuntime::startArgs("c1")),
            (Args{"/usr/sbin/runc", "--root", "/run/r", "--systemd-cgroup", "start", "c1"}));

  OciRuntime noRoot({"crun", "", {}, std::nullopt}, io->unixEventPort, io->provider->getTimer(),
                    reaper);
  EXPECT_EQ(noRoot.command(OciRuntime::deleteArgs("c1")),
            (Args{"crun", "delete", "--force", "c1"}));
}

TEST(OciRuntimeArgsTest, CreateAndExec) {
  EXPECT_EQ(OciRuntime::createArgs("/b", "/b/pid", "", "c1"),
            (Args{"create", "--bundle", "/b", "--pid-file", "/b/pid", "c1"}));
  EXPECT_EQ(OciRuntime::createArgs("/b", "/b/pid", "/s/c.sock", "c1"),
            (Args{"create", "--bundle", "/b", "--pid-file", "/b/pid", "--console-socket",
                  "/s/c.sock", "c1"}));
  EXPECT_EQ(OciRuntime::execArgs("/b/p.json", "/b/e.pid", "", "c1"),
            (Args{"exec", "--detach", "--process", "/b/p.json", "--pid-file", "/b/e.pid", "c1"}));
}

class OciRuntimeRunTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { kj::UnixEventPort::captureSignal(SIGCHLD); }

  // /bin/sh replaces the runtime here, so run({"-c", SCRIPT}) runs SCRIPT.
  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  // Held by pointer: a member promise's destructor may throw, a fixture's may not.
  std::unique_ptr<ChildReaper> reaper_ = std::make_unique<ChildReaper>(io_->unixEventPort);
  OciRuntime shell_{
      {"/bin/sh", "", {}, std::nullopt}, io_->unixEventPort, io_->provider->getTimer(), *reaper_};
};

TEST_F(OciRuntimeRunTest, CollectsOutputAndExitCode) {
  auto result =
      shell_.run({"-c", "echo out; echo err >&2; exit 3"}, 5 * kj::SECONDS).wait(io_->waitScope);
  EXPECT_EQ(result.exitCode, 3);
  EXPECT_EQ(result.output, "out\nerr\n");
  try {
    requireSuccess(result, "start");
    FAIL() << "exit 3 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INTERNAL);
    EXPECT_EQ(std::string(e.what()), "runtime start failed (exit 3): out\nerr");
  }
}

TEST(RuntimeErrorText, KeepsRuncErrorsOnly) {
  std::string runc =
      "time=\"2026-12-04T19:43:01Z\" level=warning msg=\"cannot toggle freezer\"\n"
      "time=\"2026-12-04T19:43:01Z\" level=error msg=\"runc create failed: exec: "
      "\\\"/nonexistent\\\": stat /nonexistent: no such file or directory\"\n";
  EXPECT_EQ(runtimeErrorText(runc),
            "runc create failed: exec: \"/nonexistent\": stat /nonexistent: no such file or "
            "directory");
}

TEST(RuntimeErrorText, OtherOutputIsKeptWhole) {
  EXPECT_EQ(runtimeErrorText("  crun: executable file not found\n"),
            "crun: executable file not found");
  EXPECT_EQ(runtimeErrorText("level=warning msg=\"only a warning\"\n"),
            "level=warning msg=\"only a warning\"");
  EXPECT_EQ(runtimeErrorText("x level=error msg=\"unterminated\n"),
            "x level=error msg=\"unterminated");
}

TEST_F(OciRuntimeRunTest, OutputIsBounded) {
  auto result = shell_.run({"-c", "yes | head -c 100000"}, 5 * kj::SECONDS).wait(io_->waitScope);
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_EQ(result.output.size(), MAX_RUNTIME_OUTPUT);
}

TEST_F(OciRuntimeRunTest, LeftoverChildDoesNotDelayTheResult) {
  auto begin = std::chrono::steady_clock::now();
  auto result = shell_.run({"-c", "sleep 5 & echo started"}, 10 * kj::SECONDS).wait(io_->waitScope);
  auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_EQ(result.output, "started\n");
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST_F(OciRuntimeRunTest, TimeoutKillsTheRuntime) {
  auto begin = std::chrono::steady_clock::now();
  try {
    shell_.run({"-c", "exec sleep 10"}, 200 * kj::MILLISECONDS).wait(io_->waitScope);
    FAIL() << "no timeout";
  } catch (const kj::Exception& e) {
    Error error = ipc::fromKjException(e, "test");
    EXPECT_EQ(error.category(), ErrorCategory::DEADLINE_EXCEEDED) << error.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(2));
}

}  // namespace
}  // namespace crio::conmon
