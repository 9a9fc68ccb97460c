#include "common/namespace-pinning.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "common/daemon.h"
#include "common/error.h"
#include "common/log.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

namespace crio {

namespace {

// Stack of the short-lived pinning child. It runs a handful of system calls and no library code
// that recurses, so 64 KiB is ample.
constexpr size_t PIN_CHILD_STACK_BYTES = 64 << 10;
// A pin mounted twice over (by a crashed earlier attempt) is unmounted up to this many times.
constexpr int MAX_STACKED_PIN_MOUNTS = 16;

int cloneFlag(NamespaceKind kind) {
  switch (kind) {
    case NamespaceKind::NET:
      return CLONE_NEWNET;
    case NamespaceKind::IPC:
      return CLONE_NEWIPC;
    case NamespaceKind::UTS:
      return CLONE_NEWUTS;
    case NamespaceKind::PID:
      return CLONE_NEWPID;
  }
  return 0;
}

const char* selfNamespaceFile(NamespaceKind kind) {
  switch (kind) {
    case NamespaceKind::NET:
      return "/proc/self/ns/net";
    case NamespaceKind::IPC:
      return "/proc/self/ns/ipc";
    case NamespaceKind::UTS:
      return "/proc/self/ns/uts";
    case NamespaceKind::PID:
      return "/proc/self/ns/pid";
  }
  return "";
}

std::string_view kindName(NamespaceKind kind) {
  switch (kind) {
    case NamespaceKind::NET:
      return "network";
    case NamespaceKind::IPC:
      return "IPC";
    case NamespaceKind::UTS:
      return "UTS";
    case NamespaceKind::PID:
      return "PID";
  }
  return "";
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo.
std::string unescapeMountPath(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = text[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

struct MountEntry {
  bool found = false;
  bool shared = false;
};

// The topmost mount whose mount point is exactly `path` in this process's mount namespace.
MountEntry findMount(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) failSyscall("open", "/proc/self/mountinfo");
  MountEntry entry;
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL_FIELDS...] - FSTYPE SOURCE SUPER_OPTIONS
    std::vector<std::string> fields;
    size_t start = 0;
    while (start < line.size()) {
      size_t end = line.find(' ', start);
      if (end == std::string::npos) end = line.size();
      fields.push_back(line.substr(start, end - start));
      start = end + 1;
    }
    if (fields.size() < 7 || unescapeMountPath(fields[4]) != path) continue;
    entry.found = true;
    entry.shared = false;
    for (size_t i = 6; i < fields.size() && fields[i] != "-"; ++i) {
      if (fields[i].rfind("shared:", 0) == 0) entry.shared = true;
    }
  }
  return entry;
}

bool validSysctlChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '/';
}

// The name in dotted form, for matching: "net/ipv4/ping_group_range" -> "net.ipv4...".
std::string dottedSysctl(const std::string& name) {
  if (name.find('/') == std::string::npos) return name;
  std::string out = name;
  for (char& c : out) {
    if (c == '/') c = '.';
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The pinning child. The parent prepares everything it needs in a PinPlan. The child only makes
// system calls and records where it stopped, in memory it shares with the parent (CLONE_VM).
// The parent is suspended (CLONE_VFORK) until the child exits.

enum class PinStep { NONE, HOSTNAME, LOOPBACK, SYSCTL, MOUNT };

struct PinPlan {
  const char* hostname = nullptr;
  size_t hostnameLength = 0;
  bool loopbackUp = false;
  const char* sysctlPaths[MAX_POD_SYSCTLS] = {};
  const char* sysctlValues[MAX_POD_SYSCTLS] = {};
  size_t sysctlValueLengths[MAX_POD_SYSCTLS] = {};
  size_t sysctlCount = 0;
  const char* mountSources[3] = {};
  const char* mountTargets[3] = {};
  size_t mountCount = 0;

  // Written by the child.
  PinStep failedStep = PinStep::NONE;
  size_t failedIndex = 0;
  int errnum = 0;
};

int pinChild(void* arg) {
  auto* plan = static_cast<PinPlan*>(arg);
  auto stop = [plan](PinStep step, size_t index) {
    plan->failedStep = step;
    plan->failedIndex = index;
    plan->errnum = errno;
    return 1;
  };

  if (plan->hostname && sethostname(plan->hostname, plan->hostnameLength) != 0) {
    return stop(PinStep::HOSTNAME, 0);
  }

  if (plan->loopbackUp) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return stop(PinStep::LOOPBACK, 0);
    struct ifreq request;
    memset(&request, 0, sizeof(request));
    memcpy(request.ifr_name, "lo", 3);
    if (ioctl(sock, SIOCGIFFLAGS, &request) != 0) return stop(PinStep::LOOPBACK, 0);
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (ioctl(sock, SIOCSIFFLAGS, &request) != 0) return stop(PinStep::LOOPBACK, 0);
    close(sock);
  }

  // /proc/sys/net and /proc/sys/kernel/shm* show the namespaces of the process that opens them,
  // which is this child, already inside the new namespaces.
  for (size_t i = 0; i < plan->sysctlCount; ++i) {
    int fd = open(plan->sysctlPaths[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) return stop(PinStep::SYSCTL, i);
    ssize_t n = write(fd, plan->sysctlValues[i], plan->sysctlValueLengths[i]);
    if (n < 0 || static_cast<size_t>(n) != plan->sysctlValueLengths[i]) {
      if (n >= 0) errno = EIO;
      return stop(PinStep::SYSCTL, i);
    }
    close(fd);
  }

  for (size_t i = 0; i < plan->mountCount; ++i) {
    if (mount(plan->mountSources[i], plan->mountTargets[i], nullptr, MS_BIND, nullptr) != 0) {
      return stop(PinStep::MOUNT, i);
    }
  }
  return 0;
}

// Runs pinChild in new namespaces (`flags`) and waits for it. Throws when the clone fails.
void runPinChild(PinPlan& plan, int flags) {
  std::unique_ptr<char[]> stack(new char[PIN_CHILD_STACK_BYTES]);
  // The child shares this thread's memory, so no signal handler may run on its stack.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(pinChild, stack.get() + PIN_CHILD_STACK_BYTES,
                    CLONE_VM | CLONE_VFORK | SIGCHLD | flags, &plan);
  int cloneErrno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) failSyscall("clone into new namespaces", "", cloneErrno);

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) failSyscall("wait for the namespace child");
  }
  if (plan.failedStep == PinStep::NONE && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    fail(ErrorCategory::INTERNAL,
         "the namespace child ended with status " + std::to_string(status));
  }
}

[[noreturn]] void failPinStep(const PinPlan& plan, const PodNamespaceRequest& request,
                              const std::vector<std::pair<std::string, std::string>>& sysctls,
                              const std::vector<std::string>& targets) {
  std::string reason = strerror(plan.errnum);
  switch (plan.failedStep) {
    case PinStep::HOSTNAME:
      fail(ErrorCategory::INTERNAL,
           "set hostname \"" + request.hostname + "\" in the pod's UTS namespace: " + reason);
    case PinStep::LOOPBACK:
      fail(ErrorCategory::INTERNAL, "bring up lo in the pod's network namespace: " + reason);
    case PinStep::SYSCTL: {
      const auto& [name, value] = sysctls[plan.failedIndex];
      bool badInput = plan.errnum == ENOENT || plan.errnum == EINVAL || plan.errnum == EACCES;
      std::string hint = plan.errnum == ENOENT ? " (no such sysctl in the pod's namespace)" : "";
      fail(badInput ? ErrorCategory::INVALID_ARGUMENT : ErrorCategory::INTERNAL,
           "set sysctl " + name + "=\"" + value + "\": " + reason + hint);
    }
    case PinStep::MOUNT:
      fail(ErrorCategory::INTERNAL,
           "bind-mount the new namespace onto " + targets[plan.failedIndex] + ": " + reason);
    case PinStep::NONE:
      break;
  }
  fail(ErrorCategory::INTERNAL, "pinning failed");
}

void removeFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) failSyscall("remove", path);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string_view namespaceFolder(NamespaceKind kind) {
  switch (kind) {
    case NamespaceKind::NET:
      return "netns";
    case NamespaceKind::IPC:
      return "ipcns";
    case NamespaceKind::UTS:
      return "utsns";
    case NamespaceKind::PID:
      return "pidns";
  }
  return "";
}

void validatePodId(const std::string& podId) {
  auto alphanumeric = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool valid = !podId.empty() && podId.size() <= MAX_POD_ID_LENGTH && alphanumeric(podId[0]);
  for (char c : podId) {
    if (!alphanumeric(c) && c != '_' && c != '.' && c != '-') valid = false;
  }
  if (!valid) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "invalid pod id \"" + podId.substr(0, MAX_POD_ID_LENGTH) + "\": expected 1 to " +
             std::to_string(MAX_POD_ID_LENGTH) +
             " characters of [A-Za-z0-9_.-] starting with a letter or digit");
  }
}

std::string namespacePinPath(const std::string& namespacesDir, NamespaceKind kind,
                             const std::string& podId) {
  validatePodId(podId);
  return namespacesDir + "/" + std::string(namespaceFolder(kind)) + "/" + podId;
}

void prepareNamespacesDir(const std::string& namespacesDir) {
  static std::mutex mutex;
  static std::set<std::string> prepared;
  std::lock_guard<std::mutex> lock(mutex);
  if (prepared.count(namespacesDir)) return;

  for (NamespaceKind kind :
       {NamespaceKind::NET, NamespaceKind::IPC, NamespaceKind::UTS, NamespaceKind::PID}) {
    makeDirectories(namespacesDir + "/" + std::string(namespaceFolder(kind)), 0755);
  }
  char resolved[PATH_MAX];
  if (!realpath(namespacesDir.c_str(), resolved)) failSyscall("resolve", namespacesDir);
  const char* dir = resolved;

  MountEntry entry = findMount(dir);
  if (!entry.found) {
    if (mount(dir, dir, nullptr, MS_BIND, nullptr) != 0) {
      failSyscall("bind-mount onto itself", dir);
    }
    // Leave the parent's peer group first, so that the next step starts a group of its own.
    if (mount(nullptr, dir, nullptr, MS_PRIVATE, nullptr) != 0) {
      failSyscall("make private", dir);
    }
    entry.shared = false;
  }
  if (!entry.shared && mount(nullptr, dir, nullptr, MS_SHARED, nullptr) != 0) {
    failSyscall("make shared", dir);
  }
  log::debug("namespaces dir ready", {{"dir", dir}, {"bound", entry.found ? "before" : "now"}});
  prepared.insert(namespacesDir);
}

std::optional<NamespaceKind> sysctlNamespace(const std::string& name) {
  std::string dotted = dottedSysctl(name);
  auto startsWith = [&](std::string_view prefix) { return dotted.rfind(prefix, 0) == 0; };
  if (startsWith("net.")) return NamespaceKind::NET;
  if (startsWith("fs.mqueue.")) return NamespaceKind::IPC;
  static const char* const IPC_SYSCTLS[] = {
      "kernel.shmmax", "kernel.shmall", "kernel.shmmni", "kernel.shm_rmid_forced",
      "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem"};
  for (const char* ipc : IPC_SYSCTLS) {
    if (dotted == ipc) return NamespaceKind::IPC;
  }
  if (dotted == "kernel.hostname" || dotted == "kernel.domainname") return NamespaceKind::UTS;
  return std::nullopt;
}

std::string sysctlPath(const std::string& name) {
  bool valid = !name.empty() && name.size() <= MAX_SYSCTL_NAME_LENGTH;
  for (char c : name) {
    if (!validSysctlChar(c)) valid = false;
  }
  // With slashes, dots belong to a component (an interface such as eth0.100).
  bool slashed = name.find('/') != std::string::npos;
  std::string relative = name;
  if (!slashed) {
    for (char& c : relative) {
      if (c == '.') c = '/';
    }
  }
  size_t start = 0;
  while (valid && start <= relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    std::string_view component(relative.data() + start, end - start);
    if (component.empty() || component == "." || component == "..") valid = false;
    start = end + 1;
  }
  if (!valid) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "invalid sysctl name \"" + name.substr(0, MAX_SYSCTL_NAME_LENGTH) + "\"");
  }
  return "/proc/sys/" + relative;
}

PodNamespacePins pinPodNamespaces(const PodNamespaceRequest& request) {
  validatePodId(request.podId);
  if (request.hostname.size() > MAX_HOSTNAME_LENGTH) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "hostname longer than " + std::to_string(MAX_HOSTNAME_LENGTH) + " bytes");
  }
  for (char c : request.hostname) {
    if (c <= ' ' || c > '~' || c == '/') {
      fail(ErrorCategory::INVALID_ARGUMENT, "invalid hostname \"" + request.hostname + "\"");
    }
  }
  if (request.sysctls.size() > MAX_POD_SYSCTLS) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "more than " + std::to_string(MAX_POD_SYSCTLS) + " sysctls for one pod");
  }

  std::vector<std::pair<std::string, std::string>> sysctls;
  std::vector<std::string> sysctlPaths;
  for (const auto& [name, value] : request.sysctls) {
    std::string path = sysctlPath(name);
    if (value.size() > MAX_SYSCTL_VALUE_LENGTH || value.find('\0') != std::string::npos) {
      fail(ErrorCategory::INVALID_ARGUMENT, "invalid value for sysctl " + name);
    }
    auto kind = sysctlNamespace(name);
    if (!kind) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "sysctl " + name + " is not namespaced, so it cannot be set for one pod");
    }
    bool created = (*kind == NamespaceKind::NET && request.network) ||
                   (*kind == NamespaceKind::IPC && request.ipc) ||
                   (*kind == NamespaceKind::UTS && request.uts);
    if (!created) {
      fail(ErrorCategory::INVALID_ARGUMENT, "sysctl " + name + " needs the pod's own " +
                                                std::string(kindName(*kind)) +
                                                " namespace, but the pod uses the host's");
    }
    sysctls.emplace_back(name, value);
    sysctlPaths.push_back(std::move(path));
  }

  PodNamespacePins pins;
  std::vector<NamespaceKind> kinds;
  if (request.network) kinds.push_back(NamespaceKind::NET);
  if (request.ipc) kinds.push_back(NamespaceKind::IPC);
  if (request.uts) kinds.push_back(NamespaceKind::UTS);
  if (kinds.empty()) return pins;

  prepareNamespacesDir(request.namespacesDir);
  std::vector<std::string> targets;
  for (NamespaceKind kind : kinds)
    targets.push_back(namespacePinPath(request.namespacesDir, kind, request.podId));

  // From here on a failure removes whatever pin files this call created.
  size_t created = 0;
  try {
    for (; created < kinds.size(); ++created)
      createPinFile(targets[created], kinds[created]);

    PinPlan plan;
    int flags = 0;
    if (request.uts && !request.hostname.empty()) {
      plan.hostname = request.hostname.c_str();
      plan.hostnameLength = request.hostname.size();
    }
    plan.loopbackUp = request.network;
    for (size_t i = 0; i < sysctls.size(); ++i) {
      plan.sysctlPaths[i] = sysctlPaths[i].c_str();
      plan.sysctlValues[i] = sysctls[i].second.c_str();
      plan.sysctlValueLengths[i] = sysctls[i].second.size();
    }
    plan.sysctlCount = sysctls.size();
    for (size_t i = 0; i < kinds.size(); ++i) {
      flags |= cloneFlag(kinds[i]);
      plan.mountSources[i] = selfNamespaceFile(kinds[i]);
      plan.mountTargets[i] = targets[i].c_str();
    }
    plan.mountCount = kinds.size();

    runPinChild(plan, flags);
    if (plan.failedStep != PinStep::NONE) failPinStep(plan, request, sysctls, targets);
  } catch (const Error& e) {
    bool existed = e.category() == ErrorCategory::ALREADY_EXISTS;
    // A pin that already existed belongs to an earlier call and stays.
    size_t ours = existed ? created : kinds.size();
    for (size_t i = 0; i < ours && i < targets.size(); ++i) {
      try {
        unpinNamespace(targets[i]);
      } catch (const Error& cleanup) {
        log::warn("could not remove a namespace pin after a failure",
                  {{"pod", request.podId}, {"pin", targets[i]}, {"error", cleanup.what()}});
      }
    }
    throw e.withContext("pin namespaces of pod " + request.podId);
  }

  for (size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i] == NamespaceKind::NET) pins.network = targets[i];
    if (kinds[i] == NamespaceKind::IPC) pins.ipc = targets[i];
    if (kinds[i] == NamespaceKind::UTS) pins.uts = targets[i];
  }
  log::debug(
      "pinned pod namespaces",
      {{"pod", request.podId}, {"network", pins.network}, {"ipc", pins.ipc}, {"uts", pins.uts}});
  return pins;
}

void unpinNamespace(const std::string& pinPath) {
  for (int i = 0; i < MAX_STACKED_PIN_MOUNTS; ++i) {
    if (umount2(pinPath.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    // EINVAL: not a mount point (any more). ENOENT: no file.
    if (errno == EINVAL || errno == ENOENT) break;
    failSyscall("unmount namespace pin", pinPath);
  }
  removeFile(pinPath);
}

void unpinPodNamespaces(const std::string& namespacesDir, const std::string& podId) {
  for (NamespaceKind kind : {NamespaceKind::NET, NamespaceKind::IPC, NamespaceKind::UTS}) {
    unpinNamespace(namespacePinPath(namespacesDir, kind, podId));
  }
}

bool isNamespacePinned(const std::string& pinPath, NamespaceKind kind) {
  struct statfs fs;
  if (statfs(pinPath.c_str(), &fs) != 0 ||
      fs.f_type != static_cast<decltype(fs.f_type)>(NSFS_MAGIC)) {
    return false;
  }
  int fd = open(pinPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int type = ioctl(fd, NS_GET_NSTYPE);
  close(fd);
  return type == cloneFlag(kind);
}

void createPinFile(const std::string& pinPath, NamespaceKind kind) {
  if (isNamespacePinned(pinPath, kind)) {
    fail(ErrorCategory::ALREADY_EXISTS,
         "a " + std::string(kindName(kind)) + " namespace is already pinned at " + pinPath);
  }
  // A plain file left by a crash before its mount is reused as the mount point.
  int fd = open(pinPath.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0) failSyscall("create namespace pin file", pinPath);
  close(fd);
}

bool sameNamespace(const std::string& pathA, const std::string& pathB) {
  struct stat a, b;
  if (stat(pathA.c_str(), &a) != 0 || stat(pathB.c_str(), &b) != 0) return false;
  struct statfs fs;
  if (statfs(pathA.c_str(), &fs) != 0 ||
      fs.f_type != static_cast<decltype(fs.f_type)>(NSFS_MAGIC)) {
    return false;
  }
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace crio
