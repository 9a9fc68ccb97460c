// Runs as root: starts real PID namespace holders under a temporary namespaces dir, and stops
// them when each test ends.
#include "common/pod-pid-holder.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/namespace-pinning.h"
#include "common/overlay-mount.h"
#include "common/process-spawn.h"

namespace crio {
namespace {

namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool isDeadOrZombie(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  auto end = stat.rfind(')');
  return stat.empty() || end == std::string::npos || stat.substr(end + 2, 1) == "Z";
}

// Options naming only the built crio-pod-init.
PodPidHolderOptions initOnly() {
  PodPidHolderOptions options;
  options.initProgram = CRIO_POD_INIT;
  return options;
}

class PodPidHolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create namespaces and mounts";
    char pattern[] = "/tmp/crio-pid-holder-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    dir_ = root_ + "/ns";
  }

  void TearDown() override {
    if (root_.empty()) return;
    for (const auto& pod : pods_) {
      try {
        stopPodPidHolder(dir_, pod);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleanup of " << pod << ": " << e.what();
      }
    }
    umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string root_;
  std::string dir_;
  std::vector<std::string> pods_;
};

TEST_F(PodPidHolderTest, PidHolderIsInitOfItsNamespace) {
  pods_.push_back("pod-pid");
  PodPidHolder holder = startPodPidHolder(dir_, "pod-pid", initOnly());
  ASSERT_GT(holder.pid, 0);
  EXPECT_EQ(holder.pinPath, dir_ + "/pidns/pod-pid");
  EXPECT_TRUE(isNamespacePinned(holder.pinPath, NamespaceKind::PID));
  EXPECT_FALSE(sameNamespace(holder.pinPath, "/proc/self/ns/pid"));
  EXPECT_EQ(findPodPidHolder(dir_, "pod-pid"), holder.pid);

  std::string status = readFile("/proc/" + std::to_string(holder.pid) + "/status");
  EXPECT_NE(status.find("NSpid:\t" + std::to_string(holder.pid) + "\t1\n"), std::string::npos)
      << status;
  EXPECT_NE(getsid(holder.pid), getsid(0));

  try {
    startPodPidHolder(dir_, "pod-pid", initOnly());
    FAIL() << "second holder started";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::ALREADY_EXISTS);
  }

  stopPodPidHolder(dir_, "pod-pid");
  EXPECT_TRUE(isDeadOrZombie(holder.pid));
  EXPECT_FALSE(fs::exists(holder.pinPath));
  EXPECT_FALSE(fs::exists(holder.pinPath + ".pid"));
  EXPECT_EQ(findPodPidHolder(dir_, "pod-pid"), std::nullopt);
  EXPECT_NO_THROW(stopPodPidHolder(dir_, "pod-pid"));
}

TEST_F(PodPidHolderTest, PidHolderSurvivesItsStarter) {
  pods_.push_back("pod-pid-survive");
  prepareNamespacesDir(dir_);
  pid_t starter = fork();
  if (starter == 0) {
    try {
      startPodPidHolder(dir_, "pod-pid-survive", initOnly());
      _exit(0);
    } catch (...) {
      _exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(starter, &status, 0), starter);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto pid = findPodPidHolder(dir_, "pod-pid-survive");
  ASSERT_TRUE(pid.has_value());
  EXPECT_FALSE(isDeadOrZombie(*pid));
  stopPodPidHolder(dir_, "pod-pid-survive");
  EXPECT_TRUE(isDeadOrZombie(*pid));
}

TEST_F(PodPidHolderTest, PidHolderReapsOrphans) {
  pods_.push_back("pod-pid-reap");
  PodPidHolder holder = startPodPidHolder(dir_, "pod-pid-reap", initOnly());
  // The subshell exits at once, so its background sleep is reparented to the holder.
  ProcessRequest run;
  run.path = "/usr/bin/nsenter";
  run.argv = {"nsenter", "--pid=" + holder.pinPath, "--", "/bin/sh", "-c", "(sleep 0.2 &); exit 0"};
  run.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  ProcessResult result = runProcess(run);
  ASSERT_TRUE(result.succeeded()) << result.stderrData;

  auto childrenOf = [](pid_t parent, bool zombiesOnly) {
    int count = 0;
    for (const auto& entry : fs::directory_iterator("/proc")) {
      std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string stat = readFile(entry.path().string() + "/stat");
      auto end = stat.rfind(')');
      char state = 0;
      int ppid = 0;
      if (end == std::string::npos || sscanf(stat.c_str() + end + 2, "%c %d", &state, &ppid) != 2) {
        continue;
      }
      if (ppid == parent && (!zombiesOnly || state == 'Z')) ++count;
    }
    return count;
  };
  EXPECT_EQ(childrenOf(holder.pid, false), 1) << "the orphan was not reparented to the holder";
  usleep(600 * 1000);
  EXPECT_EQ(childrenOf(holder.pid, false), 0) << "the orphan was not reaped";
}

TEST_F(PodPidHolderTest, FindIgnoresReusedPid) {
  pods_.push_back("pod-pid-reused");
  PodPidHolder holder = startPodPidHolder(dir_, "pod-pid-reused", initOnly());
  // A pid file naming some other live process, as after a pid wrap-around.
  std::ofstream(holder.pinPath + ".pid") << getpid() << "\n";
  EXPECT_EQ(findPodPidHolder(dir_, "pod-pid-reused"), std::nullopt);
  std::ofstream(holder.pinPath + ".pid") << holder.pid << "\n";
  EXPECT_EQ(findPodPidHolder(dir_, "pod-pid-reused"), holder.pid);
}

TEST_F(PodPidHolderTest, PidHolderHasEmptyRootAndPodIds) {
  pods_.push_back("pod-pid-ids");
  PodPidHolderOptions options = initOnly();
  options.uid = 1234;
  options.gid = 5678;
  options.supplementalGroups = {5679, 5680};
  PodPidHolder holder = startPodPidHolder(dir_, "pod-pid-ids", options);
  std::string proc = "/proc/" + std::to_string(holder.pid);

  std::string status = readFile(proc + "/status");
  EXPECT_NE(status.find("Uid:\t1234\t1234\t1234\t1234\n"), std::string::npos) << status;
  EXPECT_NE(status.find("Gid:\t5678\t5678\t5678\t5678\n"), std::string::npos) << status;
  EXPECT_NE(status.find("Groups:\t5679 5680"), std::string::npos) << status;
  EXPECT_NE(status.find("CapEff:\t0000000000000000\n"), std::string::npos) << status;
  // A non-dumpable process's /proc files belong to root, whatever its own user.
  struct stat environ {};
  ASSERT_EQ(stat((proc + "/environ").c_str(), &environ), 0);
  EXPECT_EQ(environ.st_uid, 0u);

  // Its root is an empty tmpfs in a mount namespace of its own, with no mount of the host.
  EXPECT_FALSE(sameNamespace(proc + "/ns/mnt", "/proc/self/ns/mnt"));
  EXPECT_TRUE(fs::is_empty(proc + "/root"));
  EXPECT_TRUE(fs::is_empty(proc + "/cwd"));
  std::string mounts = readFile(proc + "/mountinfo");
  EXPECT_EQ(std::count(mounts.begin(), mounts.end(), '\n'), 1) << mounts;
  EXPECT_NE(mounts.find(" / / ro,"), std::string::npos) << mounts;
  EXPECT_NE(mounts.find(" - tmpfs "), std::string::npos) << mounts;
  // The folder it mounted on in its own namespace is untouched in ours.
  EXPECT_FALSE(isMountPoint(dir_ + "/pidns"));
  EXPECT_TRUE(fs::exists(holder.pinPath));

  stopPodPidHolder(dir_, "pod-pid-ids");
  EXPECT_TRUE(isDeadOrZombie(holder.pid));
}

TEST_F(PodPidHolderTest, PidHolderJoinsCgroups) {
  std::string cgroup = "/sys/fs/cgroup/pids/crio-holder-test-" + std::to_string(getpid());
  if (!fs::exists("/sys/fs/cgroup/pids/cgroup.procs")) {
    GTEST_SKIP() << "needs the cgroup v1 pids hierarchy at /sys/fs/cgroup/pids";
  }
  ASSERT_TRUE(fs::create_directory(cgroup));
  pods_.push_back("pod-pid-cgroup");
  PodPidHolderOptions options = initOnly();
  options.cgroupProcsFiles = {cgroup + "/cgroup.procs"};
  PodPidHolder holder = startPodPidHolder(dir_, "pod-pid-cgroup", options);
  EXPECT_NE(readFile(cgroup + "/cgroup.procs"), "");
  std::string membership = readFile("/proc/" + std::to_string(holder.pid) + "/cgroup");
  EXPECT_NE(membership.find(":pids:/crio-holder-test-" + std::to_string(getpid()) + "\n"),
            std::string::npos)
      << membership;
  stopPodPidHolder(dir_, "pod-pid-cgroup");
  EXPECT_EQ(rmdir(cgroup.c_str()), 0) << strerror(errno);

  // A file that cannot be joined fails the start, naming the file, and leaves nothing behind.
  options.cgroupProcsFiles = {cgroup + "/cgroup.procs"};
  try {
    startPodPidHolder(dir_, "pod-pid-cgroup", options);
    FAIL() << "the holder started without its cgroup";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("join the pod cgroup"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(cgroup + "/cgroup.procs"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/pidns/pod-pid-cgroup"));
  EXPECT_FALSE(findPodPidHolder(dir_, "pod-pid-cgroup").has_value());
}

}  // namespace
}  // namespace crio
