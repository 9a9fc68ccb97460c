// Runs as root: creates real namespaces and mounts under a temporary namespaces dir, and removes
// all of them when each test ends.
#include "common/namespace-pinning.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/pod-pid-holder.h"
#include "common/process-spawn.h"
#include "common/seccomp-filter.h"

namespace crio {
namespace {

namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// Runs `fn` on a new thread that first joins the namespace at `path`, as a daemon thread would
// if unshare() were used there. The test's own threads stay where they are.
std::string inNamespace(const std::string& path, int type, const std::function<std::string()>& fn) {
  std::string result;
  std::thread thread([&]() {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, type) != 0) {
      result = std::string("setns failed: ") + strerror(errno);
    } else {
      result = fn();
    }
    if (fd >= 0) close(fd);
  });
  thread.join();
  return result;
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

class NamespacePinningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to create namespaces and mounts";
    char pattern[] = "/tmp/crio-nspin-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
    dir_ = root_ + "/ns";
  }

  void TearDown() override {
    if (root_.empty()) return;
    for (const auto& pod : pods_) {
      try {
        stopPodPidHolder(dir_, pod);
        unpinPodNamespaces(dir_, pod);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleanup of " << pod << ": " << e.what();
      }
    }
    umount2(dir_.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  PodNamespaceRequest request(const std::string& pod) {
    pods_.push_back(pod);
    PodNamespaceRequest r;
    r.namespacesDir = dir_;
    r.podId = pod;
    return r;
  }

  std::string root_;
  std::string dir_;
  std::vector<std::string> pods_;
};

TEST_F(NamespacePinningTest, PinsCarryHostnameLoopbackAndSysctls) {
  PodNamespaceRequest r = request("pod-a");
  r.hostname = "crt-pod-a";
  r.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"},
               {"net.ipv4.ping_group_range", "0 2147483647"},
               {"kernel.shmmni", "2048"}};
  PodNamespacePins pins = pinPodNamespaces(r);

  EXPECT_EQ(pins.network, dir_ + "/netns/pod-a");
  EXPECT_EQ(pins.ipc, dir_ + "/ipcns/pod-a");
  EXPECT_EQ(pins.uts, dir_ + "/utsns/pod-a");
  EXPECT_TRUE(isNamespacePinned(pins.network, NamespaceKind::NET));
  EXPECT_TRUE(isNamespacePinned(pins.ipc, NamespaceKind::IPC));
  EXPECT_TRUE(isNamespacePinned(pins.uts, NamespaceKind::UTS));
  EXPECT_FALSE(isNamespacePinned(pins.network, NamespaceKind::IPC));
  EXPECT_FALSE(sameNamespace(pins.network, "/proc/self/ns/net"));
  EXPECT_FALSE(sameNamespace(pins.ipc, "/proc/self/ns/ipc"));
  EXPECT_FALSE(sameNamespace(pins.uts, "/proc/self/ns/uts"));

  std::string hostname = inNamespace(pins.uts, CLONE_NEWUTS, []() {
    struct utsname name;
    uname(&name);
    return std::string(name.nodename);
  });
  EXPECT_EQ(hostname, "crt-pod-a");

  auto readInNet = [&](const std::string& path) {
    return inNamespace(pins.network, CLONE_NEWNET, [path]() { return trim(readFile(path)); });
  };
  EXPECT_EQ(readInNet("/proc/sys/net/ipv4/ip_unprivileged_port_start"), "0");
  EXPECT_EQ(readInNet("/proc/sys/net/ipv4/ping_group_range"), "0\t2147483647");
  EXPECT_NE(trim(readFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")), "0");
  std::string shmmni = inNamespace(pins.ipc, CLONE_NEWIPC,
                                   []() { return trim(readFile("/proc/sys/kernel/shmmni")); });
  EXPECT_EQ(shmmni, "2048");

  std::string loopback = inNamespace(pins.network, CLONE_NEWNET, []() {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq request = {};
    memcpy(request.ifr_name, "lo", 3);
    int rc = ioctl(sock, SIOCGIFFLAGS, &request);
    close(sock);
    return std::string(rc == 0 && (request.ifr_flags & IFF_UP) ? "up" : "down");
  });
  EXPECT_EQ(loopback, "up");
}

TEST_F(NamespacePinningTest, DaemonThreadsStayInHostNamespaces) {
  std::string hostNet = fs::read_symlink("/proc/self/ns/net");
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&]() {
      std::unique_lock<std::mutex> lock(mutex);
      done.wait(lock, [&]() { return finished; });
    });
  }

  PodNamespaceRequest r = request("pod-threads");
  r.uts = false;
  r.ipc = false;
  pinPodNamespaces(r);

  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    EXPECT_EQ(fs::read_symlink(task.path() / "ns/net").string(), hostNet) << task.path();
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    finished = true;
  }
  done.notify_all();
  for (auto& thread : threads)
    thread.join();
}

TEST_F(NamespacePinningTest, HostNetworkCreatesNoNetworkPin) {
  PodNamespaceRequest r = request("pod-host");
  r.network = false;
  PodNamespacePins pins = pinPodNamespaces(r);
  EXPECT_EQ(pins.network, "");
  EXPECT_FALSE(fs::exists(dir_ + "/netns/pod-host"));
  EXPECT_TRUE(isNamespacePinned(pins.ipc, NamespaceKind::IPC));
}

TEST_F(NamespacePinningTest, NetworkSysctlNeedsPodNetwork) {
  PodNamespaceRequest r = request("pod-host-sysctl");
  r.network = false;
  r.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  try {
    pinPodNamespaces(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("uses the host's"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/ipcns/pod-host-sysctl"));
}

TEST_F(NamespacePinningTest, UnknownSysctlLeavesNoPins) {
  PodNamespaceRequest r = request("pod-bad-sysctl");
  r.sysctls = {{"net.ipv4.crio_no_such_sysctl", "1"}};
  try {
    pinPodNamespaces(r);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("net.ipv4.crio_no_such_sysctl"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(dir_ + "/netns/pod-bad-sysctl"));
  EXPECT_FALSE(fs::exists(dir_ + "/ipcns/pod-bad-sysctl"));
  EXPECT_FALSE(fs::exists(dir_ + "/utsns/pod-bad-sysctl"));
}

TEST_F(NamespacePinningTest, InvalidRequestsAreRejected) {
  struct Case {
    std::string pod;
    std::string hostname;
    std::string sysctl;
  };
  const Case cases[] = {
      {"../escape", "", ""},
      {"", "", ""},
      {"pod-ok", std::string(65, 'h'), ""},
      {"pod-ok", "white space", ""},
      {"pod-ok", "", "kernel.panic"},
      {"pod-ok", "", "net/../../etc"},
      {"pod-ok", "", "net..ipv4"},
  };
  for (const auto& c : cases) {
    PodNamespaceRequest r;
    r.namespacesDir = dir_;
    r.podId = c.pod;
    r.hostname = c.hostname;
    if (!c.sysctl.empty()) r.sysctls[c.sysctl] = "1";
    try {
      pinPodNamespaces(r);
      pods_.push_back(c.pod);
      ADD_FAILURE() << "accepted pod=" << c.pod << " hostname=" << c.hostname
                    << " sysctl=" << c.sysctl;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT) << e.what();
    }
  }
}

TEST_F(NamespacePinningTest, SysctlNamesMapToNamespacesAndPaths) {
  EXPECT_EQ(sysctlNamespace("net.ipv4.ping_group_range"), NamespaceKind::NET);
  EXPECT_EQ(sysctlNamespace("net/ipv4/conf/eth0.100/rp_filter"), NamespaceKind::NET);
  EXPECT_EQ(sysctlNamespace("kernel.shm_rmid_forced"), NamespaceKind::IPC);
  EXPECT_EQ(sysctlNamespace("fs.mqueue.msg_max"), NamespaceKind::IPC);
  EXPECT_EQ(sysctlNamespace("kernel.domainname"), NamespaceKind::UTS);
  EXPECT_EQ(sysctlNamespace("kernel.panic"), std::nullopt);
  EXPECT_EQ(sysctlNamespace("vm.overcommit_memory"), std::nullopt);
  EXPECT_EQ(sysctlPath("net.ipv4.ping_group_range"), "/proc/sys/net/ipv4/ping_group_range");
  EXPECT_EQ(sysctlPath("net/ipv4/conf/eth0.100/rp_filter"),
            "/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
}

TEST_F(NamespacePinningTest, UnpinIsIdempotent) {
  PodNamespacePins pins = pinPodNamespaces(request("pod-unpin"));
  unpinPodNamespaces(dir_, "pod-unpin");
  EXPECT_FALSE(fs::exists(pins.network));
  EXPECT_FALSE(isNamespacePinned(pins.network, NamespaceKind::NET));
  EXPECT_NO_THROW(unpinPodNamespaces(dir_, "pod-unpin"));
  EXPECT_NO_THROW(unpinPodNamespaces(dir_, "pod-never-pinned"));
}

TEST_F(NamespacePinningTest, PlainFileIsNotAPinAndIsReused) {
  PodNamespaceRequest r = request("pod-crashed");
  prepareNamespacesDir(dir_);
  std::string leftover = dir_ + "/netns/pod-crashed";
  std::ofstream(leftover).close();
  EXPECT_FALSE(isNamespacePinned(leftover, NamespaceKind::NET));
  PodNamespacePins pins = pinPodNamespaces(r);
  EXPECT_TRUE(isNamespacePinned(pins.network, NamespaceKind::NET));
}

TEST_F(NamespacePinningTest, SecondPinOfPodIsAlreadyExists) {
  PodNamespacePins first = pinPodNamespaces(request("pod-twice"));
  try {
    pinPodNamespaces(request("pod-twice"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::ALREADY_EXISTS) << e.what();
  }
  EXPECT_TRUE(isNamespacePinned(first.network, NamespaceKind::NET));
  EXPECT_TRUE(isNamespacePinned(first.ipc, NamespaceKind::IPC));
}

TEST_F(NamespacePinningTest, NamespacesDirIsSharedMountPoint) {
  prepareNamespacesDir(dir_);
  std::string mountinfo = readFile("/proc/self/mountinfo");
  std::string needle = " " + dir_ + " ";
  auto at = mountinfo.rfind(needle);
  ASSERT_NE(at, std::string::npos) << dir_ << " is not a mount point";
  std::string line = mountinfo.substr(at, mountinfo.find('\n', at) - at);
  EXPECT_NE(line.find("shared:"), std::string::npos) << line;
}

TEST_F(NamespacePinningTest, PinsOutliveTheProcessThatMadeThem) {
  PodNamespaceRequest r = request("pod-outlive");
  prepareNamespacesDir(dir_);
  pid_t child = fork();
  if (child == 0) {
    try {
      pinPodNamespaces(r);
      _exit(0);
    } catch (...) {
      _exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(isNamespacePinned(dir_ + "/netns/pod-outlive", NamespaceKind::NET));
  EXPECT_TRUE(isNamespacePinned(dir_ + "/utsns/pod-outlive", NamespaceKind::UTS));
}

// Runs `fn` in a forked child under the seccomp groups crio-cri installs on itself (the list in
// crio-cri/main.cc). Returns "" or the child's error message.
std::string underCriSeccompFilter(const std::function<void()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    std::string error;
    try {
      installSeccompFilter(
          {"crio-cri",
           {SyscallGroup::NETWORK, SyscallGroup::SPAWN, SyscallGroup::MOUNT,
            SyscallGroup::NAMESPACES, SyscallGroup::FILE_OWNERS, SyscallGroup::PROCESS_IDS}});
      fn();
    } catch (const std::exception& e) {
      error = e.what();
    }
    ssize_t ignored = write(fds[1], error.data(), error.size());
    (void)ignored;
    _exit(error.empty() ? 0 : 1);
  }
  close(fds[1]);
  std::string error;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0)
    error.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    error = "child ended with status " + std::to_string(status);
  }
  return error;
}

TEST_F(NamespacePinningTest, WorksUnderCriSeccompFilter) {
  PodNamespaceRequest r = request("pod-seccomp");
  r.hostname = "crt-seccomp";
  r.sysctls = {{"net.ipv4.ping_group_range", "0 0"}};
  pods_.push_back("pod-seccomp-gone");
  std::string error = underCriSeccompFilter([&]() {
    pinPodNamespaces(r);
    startPodPidHolder(dir_, "pod-seccomp", PodPidHolderOptions{CRIO_POD_INIT});
    PodNamespaceRequest gone = r;
    gone.podId = "pod-seccomp-gone";
    pinPodNamespaces(gone);
    startPodPidHolder(dir_, "pod-seccomp-gone", PodPidHolderOptions{CRIO_POD_INIT});
    stopPodPidHolder(dir_, "pod-seccomp-gone");
    unpinPodNamespaces(dir_, "pod-seccomp-gone");
  });
  EXPECT_EQ(error, "");
  EXPECT_TRUE(isNamespacePinned(dir_ + "/utsns/pod-seccomp", NamespaceKind::UTS));
  EXPECT_TRUE(findPodPidHolder(dir_, "pod-seccomp").has_value());
  EXPECT_FALSE(fs::exists(dir_ + "/netns/pod-seccomp-gone"));
  EXPECT_FALSE(fs::exists(dir_ + "/pidns/pod-seccomp-gone"));
}

}  // namespace
}  // namespace crio
