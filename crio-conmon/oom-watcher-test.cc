#include "crio-conmon/oom-watcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "crio-conmon/child-reaper.h"
#include "crio-conmon/spawn.h"

namespace crio::conmon {
namespace {

// Shaped like this test machine: v1 controllers, v2 mounted apart without controllers.
constexpr std::string_view HYBRID_CGROUP =
    "9:name=systemd:/\n"
    "4:memory:/pod1/ctr2\n"
    "3:cpuset:/\n"
    "1:cpu,cpuacct:/pod1/ctr2\n"
    "0::/\n";
constexpr std::string_view HYBRID_MOUNTINFO =
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "35 30 0:31 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "36 30 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";

TEST(ResolveMemoryCgroupTest, HybridUsesTheV1Controller) {
  auto found = resolveMemoryCgroup(HYBRID_CGROUP, HYBRID_MOUNTINFO);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->version, 1);
  EXPECT_EQ(found->dir, "/sys/fs/cgroup/memory/pod1/ctr2");
  EXPECT_EQ(found->counterFile(), "/sys/fs/cgroup/memory/pod1/ctr2/memory.oom_control");

  auto v2 = resolveMemoryCgroup(HYBRID_CGROUP, HYBRID_MOUNTINFO, true);
  ASSERT_TRUE(v2.has_value());
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->dir, "/sys/fs/cgroup/unified");
}

TEST(ResolveMemoryCgroupTest, UnifiedHierarchy) {
  auto found = resolveMemoryCgroup(
      "0::/kubepods/pod1/ctr:with:colons\n",
      "25 21 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->version, 2);
  EXPECT_EQ(found->dir, "/sys/fs/cgroup/kubepods/pod1/ctr:with:colons");
  EXPECT_EQ(found->counterFile(), "/sys/fs/cgroup/kubepods/pod1/ctr:with:colons/memory.events");
}

TEST(ResolveMemoryCgroupTest, MountOfASubtree) {
  // A mount whose root is /pod1 covers /pod1/ctr2 but not /pod10/x.
  std::string_view mountinfo = "36 30 0:32 /pod1 /mnt/mem\\040cg rw - cgroup cgroup rw,memory\n";
  auto found = resolveMemoryCgroup("4:memory:/pod1/ctr2\n", mountinfo);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->dir, "/mnt/mem cg/ctr2");
  EXPECT_FALSE(resolveMemoryCgroup("4:memory:/pod10/x\n", mountinfo).has_value());
}

TEST(ResolveMemoryCgroupTest, NoMountIsNullopt) {
  EXPECT_FALSE(resolveMemoryCgroup("4:memory:/a\n", "").has_value());
  EXPECT_FALSE(resolveMemoryCgroup("", HYBRID_MOUNTINFO).has_value());
}

TEST(ParseOomKillCountTest, BothVersions) {
  EXPECT_EQ(parseOomKillCount("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3u);
  EXPECT_EQ(parseOomKillCount("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n"), 1u);
  EXPECT_FALSE(parseOomKillCount("oom_kill_disable 0\nunder_oom 0\n").has_value());
  EXPECT_FALSE(parseOomKillCount("oom_kill x\n").has_value());
}

// A real OOM kill in a v1 memory cgroup of this machine (root only).
TEST(OomWatcherTest, SeesARealOomKill) {
  constexpr const char* MEMORY = "/sys/fs/cgroup/memory";
  if (geteuid() != 0 || access((std::string(MEMORY) + "/cgroup.procs").c_str(), W_OK) != 0) {
    GTEST_SKIP() << "needs root and a cgroup v1 memory controller at " << MEMORY;
  }
  std::string dir = std::string(MEMORY) + "/crio-oom-watcher-test-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
  std::ofstream(dir + "/memory.limit_in_bytes") << (8 << 20);

  kj::UnixEventPort::captureSignal(SIGCHLD);
  auto io = std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  ChildReaper reaper(io->unixEventPort);

  // The shell moves itself into the cgroup, waits for a line on stdin, then allocates 32 MiB.
  int input[2];
  ASSERT_EQ(pipe2(input, O_CLOEXEC), 0);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c",
                  "echo $$ > " + dir + "/cgroup.procs; read go; exec dd if=/dev/zero " +
                      "of=/dev/null bs=32M count=1"};
  options.stdinFd = input[0];
  pid_t pid = spawn(options);
  close(input[0]);
  auto exited = reaper.onExit(pid);

  std::string procCgroup = "/proc/" + std::to_string(pid) + "/cgroup";
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(procCgroup);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find(dir.substr(std::string(MEMORY).size())) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  {
    OomWatcher watcher(io->unixEventPort, pid);
    EXPECT_EQ(watcher.cgroupDir(), dir);
    EXPECT_FALSE(watcher.oomKilled());
    ASSERT_EQ(write(input[1], "go\n", 3), 3);
    int status = exited.wait(io->waitScope);
    EXPECT_EQ(exitCodeFromStatus(status), 137);
    EXPECT_TRUE(watcher.oomKilled());
  }
  close(input[1]);
  EXPECT_EQ(rmdir(dir.c_str()), 0);
}

}  // namespace
}  // namespace crio::conmon
