// Detecting that the kernel's OOM killer killed a process of the container's memory cgroup.
//
// The cgroup is the one of the container's init process (/proc/PID/cgroup), found below the
// matching mount of /proc/self/mountinfo:
// - cgroup v1 (a "memory" controller line): the `oom_kill N` counter of memory.oom_control, and
//   live events from an eventfd registered in cgroup.event_control. The kernel also signals that
//   eventfd when the cgroup is removed, so every event is checked against the counter.
// - cgroup v2 (the "0::PATH" line, where that cgroup has memory.events): the `oom_kill N`
//   counter of memory.events, watched with inotify (IN_MODIFY).
// The counter is read when watching starts and again when the container exits (oomKilled());
// an OOM kill happened when it grew. Events only make it known (and logged) at once.
#pragma once

#include <kj/async-unix.h>
#include <kj/io.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crio::conmon {

struct MemoryCgroup {
  int version = 0;  // 1 or 2
  std::string dir;  // the cgroup's folder, such as /sys/fs/cgroup/memory/pod/ctr

  // The file holding the oom_kill counter: memory.oom_control (v1) or memory.events (v2).
  std::string counterFile() const;
};

// Finds the memory cgroup folder from the text of /proc/PID/cgroup and /proc/self/mountinfo;
// nullopt when no mount covers it. Does not check that the folder exists.
std::optional<MemoryCgroup> resolveMemoryCgroup(std::string_view procCgroup,
                                                std::string_view mountinfo, bool preferV2 = false);

// The value of the "oom_kill N" line of memory.oom_control or memory.events.
std::optional<uint64_t> parseOomKillCount(std::string_view text);

class OomWatcher {
 public:
  // Starts watching the memory cgroup of `pid`. Without one (no memory controller, or the files
  // cannot be read) it logs why and oomKilled() stays false.
  OomWatcher(kj::UnixEventPort& port, pid_t pid);
  ~OomWatcher();

  // True when an OOM kill happened in the cgroup since watching began; reads the counter again.
  bool oomKilled();

  // The folder watched, "" when none.
  std::string cgroupDir() const { return cgroup_ ? cgroup_->dir : std::string(); }

 private:
  void watchV1();
  void watchV2();
  kj::Promise<void> eventLoop();
  void onEvent();
  std::optional<uint64_t> readCount() const;
  // Reads the counter and logs a growth; false when it cannot be read (cgroup removed).
  bool readCounter();

  kj::UnixEventPort& port_;
  std::optional<MemoryCgroup> cgroup_;
  uint64_t baseline_ = 0;
  uint64_t lastCount_ = 0;
  kj::AutoCloseFd eventFd_;
  kj::AutoCloseFd controlFd_;  // v1: memory.oom_control, open for as long as the eventfd is
  kj::Own<kj::UnixEventPort::FdObserver> observer_;
  kj::Promise<void> loop_ = nullptr;
};

}  // namespace crio::conmon
