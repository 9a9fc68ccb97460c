#include "crio-conmon/child-reaper.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "common/error.h"
#include "crio-conmon/spawn.h"

namespace crio::conmon {
namespace {

class ChildReaperTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    kj::UnixEventPort::captureSignal(SIGCHLD);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  }

  // Runs `script` with sh, its stdout going to the returned fd.
  pid_t runShell(const std::string& script, int* stdoutRead = nullptr) {
    SpawnOptions options;
    options.argv = {"/bin/sh", "-c", script};
    int fds[2] = {-1, -1};
    if (stdoutRead != nullptr) {
      EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
      options.stdoutFd = fds[1];
    }
    pid_t pid = spawn(options);
    if (stdoutRead != nullptr) {
      close(fds[1]);
      *stdoutRead = fds[0];
    }
    return pid;
  }

  static std::string readAll(int fd) {
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
      out.append(buf, n);
    close(fd);
    return out;
  }

  // Held by pointer: the event port's destructor may throw, a fixture's may not.
  std::unique_ptr<kj::AsyncIoContext> context_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::AsyncIoContext& io_ = *context_;
};

TEST_F(ChildReaperTest, ReportsExitStatus) {
  ChildReaper reaper(io_.unixEventPort);
  pid_t pid = runShell("exit 3");
  int status = reaper.onExit(pid).wait(io_.waitScope);
  EXPECT_EQ(exitCodeFromStatus(status), 3);
}

TEST_F(ChildReaperTest, SignalBecomes128PlusSignal) {
  ChildReaper reaper(io_.unixEventPort);
  pid_t pid = runShell("kill -9 $$");
  int status = reaper.onExit(pid).wait(io_.waitScope);
  EXPECT_EQ(exitCodeFromStatus(status), 137);
}

TEST_F(ChildReaperTest, AdoptedOrphanIsWaitedFor) {
  ChildReaper reaper(io_.unixEventPort);
  int out = -1;
  pid_t pid = runShell("sleep 0.2 & echo $!", &out);
  EXPECT_EQ(exitCodeFromStatus(reaper.onExit(pid).wait(io_.waitScope)), 0);
  pid_t orphan = std::stoi(readAll(out));

  int status = reaper.onExit(orphan).wait(io_.waitScope);
  EXPECT_EQ(exitCodeFromStatus(status), 0);
}

TEST_F(ChildReaperTest, OrphanReapedBeforeClaimIsKept) {
  ChildReaper reaper(io_.unixEventPort);
  int out = -1;
  // The subshell outlives the shell by 50 ms, so that it exits as an orphan and not as a job
  // the shell reaps itself.
  pid_t pid = runShell("(sleep 0.05; exit 7) & echo $!", &out);
  EXPECT_EQ(exitCodeFromStatus(reaper.onExit(pid).wait(io_.waitScope)), 0);
  pid_t orphan = std::stoi(readAll(out));
  usleep(300 * 1000);
  reaper.reap();

  int status = reaper.onExit(orphan).wait(io_.waitScope);
  EXPECT_EQ(exitCodeFromStatus(status), 7);
}

TEST_F(ChildReaperTest, StrangerIsNotFound) {
  ChildReaper reaper(io_.unixEventPort);
  try {
    reaper.onExit(1);
    FAIL() << "pid 1 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
  }
}

TEST_F(ChildReaperTest, MissingProgramFailsToSpawn) {
  SpawnOptions options;
  options.argv = {"/nonexistent/program"};
  try {
    spawn(options);
    FAIL() << "spawn succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/program"), std::string::npos);
  }
}

TEST_F(ChildReaperTest, ChildStartsWithCleanSignalState) {
  ChildReaper reaper(io_.unixEventPort);
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);

  int out = -1;
  pid_t pid = runShell("grep -E '^Sig(Blk|Ign)' /proc/self/status", &out);
  std::string status = readAll(out);
  reaper.onExit(pid).wait(io_.waitScope);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_DFL);

  EXPECT_NE(status.find("SigBlk:\t0000000000000000"), std::string::npos) << status;
  EXPECT_NE(status.find("SigIgn:\t0000000000000000"), std::string::npos) << status;
}

}  // namespace
}  // namespace crio::conmon
