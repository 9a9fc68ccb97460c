#include "common/pod-pid-holder.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "common/log.h"
#include "common/namespace-pinning.h"
#include "common/pod-init-report.h"
#include "common/process-exit.h"

namespace crio {

namespace {

// How long startPodPidHolder waits for the holder to report that it is ready.
constexpr auto HOLDER_START_TIMEOUT = std::chrono::seconds(10);
// Highest capability number tried when emptying the bounding set; numbers the kernel does not
// have fail with EINVAL and are skipped.
constexpr int CAP_LAST_CAP_GUESS = 63;
// Bound on the pid file read back after a restart: a decimal pid and a newline.
constexpr size_t MAX_PID_FILE_BYTES = 32;

void sendRecord(int fd, HolderEvent event, int value, int errnum, int index = 0) {
  HolderRecord record{event, value, errnum, index};
  ssize_t ignored = write(fd, &record, sizeof(record));
  (void)ignored;
}

// Inputs of the holder, prepared before the fork because the child may not allocate.
struct HolderPlan {
  int initProgramFd = -1;         // crio-pod-init, opened before the holder's root is emptied
  std::vector<int> namespaceFds;  // the pod's namespaces to join
  std::vector<const char*> cgroupProcsFiles;
  const char* emptyRootMountPoint = nullptr;
  bool changeIds = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

std::string_view holderStepName(int step) {
  switch (static_cast<HolderStep>(step)) {
    case HolderStep::SETSID:
      return "setsid";
    case HolderStep::UNSHARE:
      return "unshare(CLONE_NEWPID)";
    case HolderStep::FORK:
      return "fork";
    case HolderStep::CGROUP:
      return "join the pod cgroup";
    case HolderStep::DEV_NULL:
      return "open /dev/null";
    case HolderStep::MOUNT_NAMESPACE:
      return "unshare(CLONE_NEWNS)";
    case HolderStep::EMPTY_ROOT:
      return "pivot into an empty root";
    case HolderStep::GROUPS:
      return "setgroups";
    case HolderStep::GID:
      return "setresgid";
    case HolderStep::UID:
      return "setresuid";
    case HolderStep::DUMPABLE:
      return "prctl(PR_SET_DUMPABLE)";
    case HolderStep::EXEC:
      return "execute crio-pod-init";
    case HolderStep::SETNS:
      return "join the pod's namespace";
    case HolderStep::CAPABILITIES:
      return "drop capabilities";
  }
  return "start";
}

[[noreturn]] void holderFailed(int reportFd, HolderStep step, int index = 0) {
  sendRecord(reportFd, HolderEvent::FAILED, static_cast<int>(step), errno, index);
  _exit(1);
}

// Gives the holder a mount namespace of its own whose root is an empty read-only tmpfs. Any
// process that may inspect the holder (a container with CAP_SYS_PTRACE in the pod) then finds
// nothing of the host behind /proc/1/root and /proc/1/cwd. The copy of the host's mounts is made
// private first, so that unmounting it does not propagate to the host, then detached whole.
void isolateRoot(int reportFd, const char* mountPoint) {
  if (unshare(CLONE_NEWNS) != 0) holderFailed(reportFd, HolderStep::MOUNT_NAMESPACE);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount("tmpfs", mountPoint, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=4k,mode=0555") != 0 ||
      chdir(mountPoint) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
      umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) {
    holderFailed(reportFd, HolderStep::EMPTY_ROOT);
  }
}

// Empties the capability bounding set, while the holder still has CAP_SETPCAP: root then gains
// nothing back at the exec. The holder's own sets are emptied by clearCapabilities().
void dropBoundingSet(int reportFd) {
  for (int capability = 0; capability <= CAP_LAST_CAP_GUESS; ++capability) {
    if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL) {
      holderFailed(reportFd, HolderStep::CAPABILITIES, capability);
    }
  }
}

// Empties the effective, permitted and inheritable sets and sets no_new_privs. A process of the
// pod that takes control of the holder (with ptrace) then has no privilege the pod lacks.
void clearCapabilities(int reportFd) {
  struct {
    uint32_t version;
    int pid;
  } header{_LINUX_CAPABILITY_VERSION_3, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } data[2] = {};
  if (syscall(SYS_capset, &header, data) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    holderFailed(reportFd, HolderStep::CAPABILITIES);
  }
}

// Prepares pid 1 of the pod's PID namespace, then executes crio-pod-init in its place: a fresh
// program leaves no copy of the daemon's memory or environment for a container of the pod to
// read through /proc/1/mem or /proc/1/environ. crio-pod-init reports ready and reaps orphans.
[[noreturn]] void holderMain(int reportFd, const HolderPlan& plan) {
  // Keeps no folder of the daemon busy. The root always exists, so the result is not checked.
  int ignored = chdir("/");
  (void)ignored;
  for (size_t i = 0; i < plan.cgroupProcsFiles.size(); ++i) {
    int fd = open(plan.cgroupProcsFiles[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) {
      holderFailed(reportFd, HolderStep::CGROUP, static_cast<int>(i));
    }
    close(fd);
  }
  int devNull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devNull < 0) holderFailed(reportFd, HolderStep::DEV_NULL);
  dup2(devNull, 0);
  dup2(devNull, 1);
  dup2(devNull, 2);
  prctl(PR_SET_NAME, "crio-pod-init", 0, 0, 0);
  for (size_t i = 0; i < plan.namespaceFds.size(); ++i) {
    if (setns(plan.namespaceFds[i], 0) != 0) {
      holderFailed(reportFd, HolderStep::SETNS, static_cast<int>(i));
    }
  }
  isolateRoot(reportFd, plan.emptyRootMountPoint);
  dropBoundingSet(reportFd);

  // The raw system calls change this thread only, which is all there is after fork. Dropping
  // from root to another user clears every capability.
  if (plan.changeIds) {
    if (syscall(SYS_setgroups, plan.groups.size(), plan.groups.data()) != 0) {
      holderFailed(reportFd, HolderStep::GROUPS);
    }
    if (syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) {
      holderFailed(reportFd, HolderStep::GID);
    }
    if (syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
      holderFailed(reportFd, HolderStep::UID);
    }
  }
  // A copy of the daemon's memory must not be readable by a container process of the same user.
  // The kernel makes a process that changed its ids non-dumpable only when fs.suid_dumpable is 0.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) holderFailed(reportFd, HolderStep::DUMPABLE);
  clearCapabilities(reportFd);

  // Signals sent from the parent namespace other than SIGKILL and SIGSTOP stay blocked, so only
  // SIGKILL stops the holder. The mask survives the exec.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);

  // The report pipe becomes fd 3 (inherited), the program fd 4 (closed by the exec), and every
  // other descriptor inherited from the daemon is closed.
  int report = fcntl(reportFd, F_DUPFD, 16);
  int program = fcntl(plan.initProgramFd, F_DUPFD_CLOEXEC, 16);
  if (report < 0 || program < 0 || dup2(report, POD_INIT_REPORT_FD) < 0 ||
      dup3(program, POD_INIT_REPORT_FD + 1, O_CLOEXEC) < 0) {
    holderFailed(reportFd, HolderStep::EXEC);
  }
  syscall(SYS_close_range, POD_INIT_REPORT_FD + 2, ~0U, 0);
  char name[] = "crio-pod-init";
  char* argv[] = {name, nullptr};
  char* envp[] = {nullptr};
  syscall(SYS_execveat, POD_INIT_REPORT_FD + 1, "", argv, envp, AT_EMPTY_PATH);
  holderFailed(POD_INIT_REPORT_FD, HolderStep::EXEC);
}

std::string pidFilePath(const std::string& namespacesDir, const std::string& podId) {
  return namespacePinPath(namespacesDir, NamespaceKind::PID, podId) + ".pid";
}

void writePidFile(const std::string& path, pid_t pid) {
  std::string temporary = path + ".tmp";
  std::string text = std::to_string(pid) + "\n";
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) failSyscall("create", temporary);
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int writeErrno = errno;
  close(fd);
  if (!ok) failSyscall("write", temporary, writeErrno);
  if (rename(temporary.c_str(), path.c_str()) != 0) failSyscall("rename", temporary);
}

std::optional<pid_t> readPidFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  char buffer[MAX_PID_FILE_BYTES + 1];
  ssize_t n = read(fd, buffer, MAX_PID_FILE_BYTES);
  close(fd);
  if (n <= 0) return std::nullopt;
  buffer[n] = '\0';
  char* end = nullptr;
  long value = strtol(buffer, &end, 10);
  if (end == buffer || value <= 0 || value > INT_MAX) return std::nullopt;
  return static_cast<pid_t>(value);
}

void removeFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) failSyscall("remove", path);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

PodPidHolder startPodPidHolder(const std::string& namespacesDir, const std::string& podId,
                               const PodPidHolderOptions& options) {
  std::string pin = namespacePinPath(namespacesDir, NamespaceKind::PID, podId);
  std::string pidFile = pidFilePath(namespacesDir, podId);
  if (options.supplementalGroups.size() > MAX_HOLDER_GROUPS) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "pod " + podId + " has " + std::to_string(options.supplementalGroups.size()) +
             " supplemental groups, more than " + std::to_string(MAX_HOLDER_GROUPS));
  }
  prepareNamespacesDir(namespacesDir);
  if (auto running = findPodPidHolder(namespacesDir, podId)) {
    fail(ErrorCategory::ALREADY_EXISTS,
         "pod " + podId + " already has a PID namespace holder, pid " + std::to_string(*running));
  }
  // Leftovers of a holder that died: its pin no longer leads to a live process.
  unpinNamespace(pin);
  removeFile(pidFile);
  createPinFile(pin, NamespaceKind::PID);

  if (options.initProgram.empty() || options.initProgram[0] != '/') {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "the PID namespace holder needs the absolute path of crio-pod-init, got \"" +
             options.initProgram + "\"");
  }
  HolderPlan plan;
  plan.initProgramFd = open(options.initProgram.c_str(), O_RDONLY | O_CLOEXEC);
  if (plan.initProgramFd < 0) {
    failSyscall("open the PID namespace holder's program", options.initProgram);
  }
  struct ProgramFd {
    int fd;
    ~ProgramFd() { close(fd); }
  } programFd{plan.initProgramFd};
  for (const auto& file : options.cgroupProcsFiles)
    plan.cgroupProcsFiles.push_back(file.c_str());
  struct NamespaceFds {
    std::vector<int>& fds;
    ~NamespaceFds() {
      for (int fd : fds)
        close(fd);
    }
  } namespaceFds{plan.namespaceFds};
  for (const auto& path : options.joinNamespaces) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) failSyscall("open the pod's namespace", path);
    plan.namespaceFds.push_back(fd);
  }
  // Any existing folder serves as the mount point, in the holder's own mount namespace.
  std::string pinFolder = namespacesDir + "/" + std::string(namespaceFolder(NamespaceKind::PID));
  plan.emptyRootMountPoint = pinFolder.c_str();
  plan.changeIds = options.uid || options.gid || !options.supplementalGroups.empty();
  plan.uid = options.uid.value_or(0);
  plan.gid = options.gid.value_or(0);
  plan.groups = options.supplementalGroups;

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) failSyscall("pipe2");

  pid_t intermediate = fork();
  if (intermediate < 0) {
    int forkErrno = errno;
    close(fds[0]);
    close(fds[1]);
    removeFile(pin);
    failSyscall("fork the PID namespace holder", "", forkErrno);
  }
  if (intermediate == 0) {
    // Only system calls from here on: this is a copy of a threaded process.
    close(fds[0]);
    if (setsid() < 0) {
      sendRecord(fds[1], HolderEvent::FAILED, static_cast<int>(HolderStep::SETSID), errno);
      _exit(1);
    }
    if (unshare(CLONE_NEWPID) != 0) {
      sendRecord(fds[1], HolderEvent::FAILED, static_cast<int>(HolderStep::UNSHARE), errno);
      _exit(1);
    }
    pid_t holder = fork();
    if (holder < 0) {
      sendRecord(fds[1], HolderEvent::FAILED, static_cast<int>(HolderStep::FORK), errno);
      _exit(1);
    }
    if (holder == 0) holderMain(fds[1], plan);
    sendRecord(fds[1], HolderEvent::PID, holder, 0);
    _exit(0);
  }

  close(fds[1]);
  pid_t holder = -1;
  bool ready = false;
  int failedStep = -1, failedErrno = 0, failedIndex = 0;
  auto deadline = std::chrono::steady_clock::now() + HOLDER_START_TIMEOUT;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd pfd = {fds[0], POLLIN, 0};
    int rc = poll(&pfd, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    HolderRecord record;
    ssize_t n = read(fds[0], &record, sizeof(record));
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof(record)) break;  // end of file: both children closed the pipe
    if (record.event == HolderEvent::PID) holder = record.value;
    if (record.event == HolderEvent::READY) ready = true;
    if (record.event == HolderEvent::FAILED) {
      failedStep = record.value;
      failedErrno = record.errnum;
      failedIndex = record.index;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(intermediate, &status, 0) < 0 && errno == EINTR) {
  }

  try {
    if (failedStep >= 0) {
      std::string path;
      if (failedStep == static_cast<int>(HolderStep::CGROUP) && failedIndex >= 0 &&
          static_cast<size_t>(failedIndex) < options.cgroupProcsFiles.size()) {
        path = options.cgroupProcsFiles[static_cast<size_t>(failedIndex)];
      }
      failSyscall("start the PID namespace holder: " + std::string(holderStepName(failedStep)),
                  path, failedErrno);
    }
    if (holder <= 0 || !ready) {
      fail(ErrorCategory::INTERNAL, "the PID namespace holder did not report ready");
    }
    std::string source = "/proc/" + std::to_string(holder) + "/ns/pid";
    if (mount(source.c_str(), pin.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      failSyscall("bind-mount " + source + " onto", pin);
    }
    writePidFile(pidFile, holder);
  } catch (const Error& e) {
    if (holder > 0) kill(holder, SIGKILL);
    try {
      unpinNamespace(pin);
      removeFile(pidFile);
    } catch (const Error& cleanup) {
      log::warn("could not remove the PID namespace pin after a failure",
                {{"pod", podId}, {"pin", pin}, {"error", cleanup.what()}});
    }
    throw e.withContext("pod " + podId);
  }
  log::debug("started PID namespace holder", {{"pod", podId}, {"pid", holder}});
  return PodPidHolder{holder, pin};
}

std::optional<pid_t> findPodPidHolder(const std::string& namespacesDir, const std::string& podId) {
  std::string pin = namespacePinPath(namespacesDir, NamespaceKind::PID, podId);
  auto pid = readPidFile(pidFilePath(namespacesDir, podId));
  if (!pid) return std::nullopt;
  if (!sameNamespace("/proc/" + std::to_string(*pid) + "/ns/pid", pin)) return std::nullopt;
  return pid;
}

void stopPodPidHolder(const std::string& namespacesDir, const std::string& podId,
                      std::chrono::milliseconds timeout) {
  std::string pin = namespacePinPath(namespacesDir, NamespaceKind::PID, podId);
  if (auto pid = findPodPidHolder(namespacesDir, podId)) {
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, *pid, 0));
    if (pidfd >= 0) {
      // Checked again through the pidfd's process: a pid reused since the first check is not it.
      if (sameNamespace("/proc/" + std::to_string(*pid) + "/ns/pid", pin) &&
          syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0) {
        // The pidfd turns readable when pid 1 has exited, which the kernel allows only after
        // every other process of the namespace is gone.
        if (!waitPidfdExit(pidfd, timeout)) {
          close(pidfd);
          fail(ErrorCategory::DEADLINE_EXCEEDED, "the PID namespace holder of pod " + podId +
                                                     ", pid " + std::to_string(*pid) +
                                                     ", did not exit after SIGKILL");
        }
      }
      close(pidfd);
    }
    log::debug("stopped PID namespace holder", {{"pod", podId}, {"pid", *pid}});
  }
  unpinNamespace(pin);
  removeFile(pidFilePath(namespacesDir, podId));
}

}  // namespace crio
