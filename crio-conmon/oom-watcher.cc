#include "crio-conmon/oom-watcher.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "crio-conmon/container-field.h"

namespace crio::conmon {

namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// mountinfo escapes space, tab, newline and backslash as \NNN (octal).
std::string unescapeMountField(std::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = field[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

bool hasOption(std::string_view options, std::string_view name) {
  for (auto option : split(options, ',')) {
    if (option == name) return true;
  }
  return false;
}

// The folder of cgroup `path` below the mount with root `root` at `mountpoint`, if it covers it.
std::optional<std::string> joinBelowMount(std::string_view path, const std::string& root,
                                          const std::string& mountpoint) {
  if (root != "/") {
    if (path.substr(0, root.size()) != root) return std::nullopt;
    if (path.size() > root.size() && path[root.size()] != '/') return std::nullopt;
    path.remove_prefix(root.size());
  }
  if (path == "/" || path.empty()) return mountpoint;
  return mountpoint + std::string(path);
}

std::optional<std::string> readSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

}  // namespace

std::string MemoryCgroup::counterFile() const {
  return dir + (version == 1 ? "/memory.oom_control" : "/memory.events");
}

std::optional<MemoryCgroup> resolveMemoryCgroup(std::string_view procCgroup,
                                                std::string_view mountinfo, bool preferV2) {
  std::optional<std::string_view> v1Path, v2Path;
  for (auto line : split(procCgroup, '\n')) {
    auto fields = split(line, ':');
    if (fields.size() < 3) continue;
    // The path may itself contain ':'; it is everything after the second one.
    std::string_view path = line.substr(fields[0].size() + fields[1].size() + 2);
    if (fields[0] == "0" && fields[1].empty()) {
      v2Path = path;
    } else if (hasOption(fields[1], "memory")) {
      v1Path = path;
    }
  }

  std::optional<MemoryCgroup> v1, v2;
  for (auto line : split(mountinfo, '\n')) {
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    std::string root = unescapeMountField(left[3]);
    std::string mountpoint = unescapeMountField(left[4]);
    if (right[0] == "cgroup" && v1Path && !v1 && hasOption(right[2], "memory")) {
      if (auto dir = joinBelowMount(*v1Path, root, mountpoint)) v1 = MemoryCgroup{1, *dir};
    } else if (right[0] == "cgroup2" && v2Path && !v2) {
      if (auto dir = joinBelowMount(*v2Path, root, mountpoint)) v2 = MemoryCgroup{2, *dir};
    }
  }
  if (preferV2) return v2 ? v2 : v1;
  return v1 ? v1 : v2;
}

std::optional<uint64_t> parseOomKillCount(std::string_view text) {
  for (auto line : split(text, '\n')) {
    constexpr std::string_view KEY = "oom_kill ";
    if (line.substr(0, KEY.size()) != KEY) continue;
    uint64_t value = 0;
    auto digits = line.substr(KEY.size());
    if (digits.empty()) return std::nullopt;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
  }
  return std::nullopt;
}

OomWatcher::OomWatcher(kj::UnixEventPort& port, pid_t pid) : port_(port) {
  std::string procPath = "/proc/" + std::to_string(pid) + "/cgroup";
  auto procCgroup = readSmallFile(procPath);
  auto mountinfo = readSmallFile("/proc/self/mountinfo");
  if (!procCgroup || !mountinfo) {
    log::warn("cannot read the container's cgroup; OOM kills will not be reported",
              {containerField(), {"path", procPath}});
    return;
  }

  // A v1 memory line whose folder lacks the counter (an unusual mount) falls back to v2.
  for (bool preferV2 : {false, true}) {
    auto found = resolveMemoryCgroup(*procCgroup, *mountinfo, preferV2);
    if (!found || access(found->counterFile().c_str(), R_OK) != 0) continue;
    cgroup_ = *found;
    break;
  }
  if (!cgroup_) {
    log::warn("no memory cgroup with an oom_kill counter; OOM kills will not be reported",
              {containerField(), {"pid", pid}});
    return;
  }
  auto count = readCount();
  if (!count) {
    log::warn("cannot read the oom_kill counter; OOM kills will not be reported",
              {containerField(), {"path", cgroup_->counterFile()}});
    cgroup_.reset();
    return;
  }
  baseline_ = lastCount_ = *count;

  try {
    if (cgroup_->version == 1) {
      watchV1();
    } else {
      watchV2();
    }
    observer_ = kj::heap<kj::UnixEventPort::FdObserver>(
        port_, eventFd_.get(), kj::UnixEventPort::FdObserver::OBSERVE_READ);
    loop_ = eventLoop().eagerlyEvaluate([](kj::Exception&& e) {
      log::warn("OOM event watch stopped",
                {containerField(), {"error", e.getDescription().cStr()}});
    });
  } catch (const Error& e) {
    // The counter is still read at exit; only the early notice is lost.
    log::warn("cannot watch OOM events; checking the counter at exit only",
              {containerField(), {"cgroup", cgroup_->dir}, {"error", e.what()}});
  }
  log::debug("watching OOM kills",
             {containerField(), {"cgroup", cgroup_->dir}, {"version", cgroup_->version}});
}

OomWatcher::~OomWatcher() = default;

void OomWatcher::watchV1() {
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) failSyscall("eventfd");
  eventFd_ = kj::AutoCloseFd(efd);
  std::string control = cgroup_->counterFile();
  int cfd = open(control.c_str(), O_RDONLY | O_CLOEXEC);
  if (cfd < 0) failSyscall("open", control);
  controlFd_ = kj::AutoCloseFd(cfd);

  std::string registration = std::to_string(efd) + " " + std::to_string(cfd);
  std::string eventControl = cgroup_->dir + "/cgroup.event_control";
  int wfd = open(eventControl.c_str(), O_WRONLY | O_CLOEXEC);
  if (wfd < 0) failSyscall("open", eventControl);
  ssize_t n = write(wfd, registration.data(), registration.size());
  int err = errno;
  close(wfd);
  if (n < 0) failSyscall("write", eventControl, err);
}

void OomWatcher::watchV2() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) failSyscall("inotify_init1");
  eventFd_ = kj::AutoCloseFd(fd);
  std::string events = cgroup_->counterFile();
  if (inotify_add_watch(fd, events.c_str(), IN_MODIFY) < 0)
    failSyscall("inotify_add_watch", events);
}

kj::Promise<void> OomWatcher::eventLoop() {
  return observer_->whenBecomesReadable().then([this]() -> kj::Promise<void> {
    char buf[4096];
    while (read(eventFd_.get(), buf, sizeof buf) > 0) {
    }
    if (!readCounter()) {
      log::debug("memory cgroup removed; OOM watch ends", {containerField()});
      return kj::READY_NOW;
    }
    return eventLoop();
  });
}

std::optional<uint64_t> OomWatcher::readCount() const {
  auto text = readSmallFile(cgroup_->counterFile());
  return text ? parseOomKillCount(*text) : std::nullopt;
}

bool OomWatcher::readCounter() {
  auto count = readCount();
  if (!count) return false;
  if (*count > lastCount_) {
    log::warn("OOM killer killed a process of the container",
              {containerField(), {"cgroup", cgroup_->dir}, {"oom_kill", *count}});
    lastCount_ = *count;
  }
  return true;
}

bool OomWatcher::oomKilled() {
  if (!cgroup_) return false;
  readCounter();
  return lastCount_ > baseline_;
}

}  // namespace crio::conmon
