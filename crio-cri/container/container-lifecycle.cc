// Start, stop, remove, status, exec and log reopening of a container, and keeping its record in
// step with its monitor.
//
// A monitor call that may take long (stop, exec) runs without the container's lock, on a copy of
// the record; the result is applied under the lock afterwards. So ContainerStatus and
// ReopenContainerLog of a container that is being stopped answer at once.
#include <signal.h>

#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "common/overlay-mount.h"
#include "crio-conmon/exit-record.h"
#include "crio-cri/container/container-runtime.h"
#include "crio-cri/container/container-support.h"
#include "crio-cri/state/state-file.h"

namespace crio::cri {

namespace fs = std::filesystem;

namespace {

using Entry = ObjectTable<Container>::EntryPtr;

Container snapshot(const Entry& entry) {
  std::lock_guard<std::mutex> lock(entry->lock);
  return entry->value;
}

// Applies `state` to the record under its lock and saves it when it changed.
void apply(Daemon& daemon, const Entry& entry, const MonitorState& state) {
  std::lock_guard<std::mutex> lock(entry->lock);
  Container& c = entry->value;
  if (c.removed) return;
  nlohmann::json before = toJson(c);
  applyMonitorState(c, state);
  if (toJson(c) != before) saveContainer(daemon, c);
}

// The exit record of a container whose monitor is gone, or MonitorLost. See docs/monitor.md
// ("crio-cri's view of a lost monitor").
void takeExitRecord(Daemon& daemon, const Entry& entry) {
  std::lock_guard<std::mutex> lock(entry->lock);
  Container& c = entry->value;
  if (c.removed || c.state == ContainerState::EXITED) return;
  std::optional<conmon::ExitRecord> record;
  try {
    record = conmon::readExitRecord(c.exitDir, c.id);
  } catch (const Error& e) {
    log::warn("unreadable exit record", {{"container", c.id}, {"error", e.what()}});
  }
  if (record) {
    c.state = ContainerState::EXITED;
    c.exitCode = record->exitCode;
    c.reason = record->reason;
    c.message = record->message;
    c.finishedAt = record->finishedAt;
    if (record->startedAt) c.startedAt = record->startedAt;
    log::info("container exited while its monitor was unreachable",
              {{"container", c.id}, {"exit_code", c.exitCode}});
  } else if (c.state != ContainerState::UNKNOWN) {
    c.state = ContainerState::UNKNOWN;
    c.reason = MONITOR_LOST_REASON;
    c.message = "the container's monitor is gone and left no exit record";
    log::error("container monitor lost", {{"container", c.id}});
  }
  saveContainer(daemon, c);
}

bool unavailable(const Error& e) {
  return e.category() == ErrorCategory::UNAVAILABLE;
}

}  // namespace

void syncContainer(Daemon& daemon, const std::string& id) {
  Entry entry = daemon.containers().find(id);
  if (!entry) return;
  Container c = snapshot(entry);
  if (c.removed || c.state == ContainerState::EXITED) return;
  try {
    MonitorState state = monitorState(daemon, c);
    apply(daemon, entry, state);
    if (state.status == MonitorStatus::RUNNING) watchMonitorExit(daemon, c);
  } catch (const Error& e) {
    if (unavailable(e)) {
      takeExitRecord(daemon, entry);
    } else {
      log::warn("cannot read the container's state", {{"container", id}, {"error", e.what()}});
    }
  }
}

void startContainer(Daemon& daemon, const std::string& id) {
  Entry entry = daemon.containers().get(id);
  std::lock_guard<std::mutex> lock(entry->lock);
  Container& c = entry->value;
  log::info("Starting container", {{"container", c.id}});
  if (c.state != ContainerState::CREATED) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "container " + c.id + " is " + std::string(containerStateName(c.state)) + ", not created");
  }
  MonitorState state =
      withContext("start container " + c.id, [&]() { return monitorStart(daemon, c); });
  applyMonitorState(c, state);
  saveContainer(daemon, c);
  if (state.status == MonitorStatus::RUNNING) {
    // The exit, when it comes, updates the record (syncContainer).
    watchMonitorExit(daemon, c);
  }
  log::info("Started container", {{"container", c.id}, {"pid", state.pid}});
}

void stopContainer(Daemon& daemon, const std::string& id, int64_t timeoutSeconds) {
  Entry entry = daemon.containers().get(id);
  Container c = snapshot(entry);
  log::info("Stopping container", {{"container", c.id}, {"timeout", timeoutSeconds}});
  if (c.state == ContainerState::EXITED) {
    log::info("Stopped container", {{"container", c.id}, {"already", "exited"}});
    return;
  }
  if (c.state == ContainerState::UNKNOWN) {
    // Without its monitor the container gets no stop signal and no grace period: the runtime
    // kills it with SIGKILL, and its real exit code is lost.
    withContext("stop container " + c.id, [&]() { deleteWithoutMonitor(daemon, c); });
    std::lock_guard<std::mutex> lock(entry->lock);
    entry->value.state = ContainerState::EXITED;
    entry->value.exitCode = 128 + SIGKILL;
    if (!entry->value.finishedAt) entry->value.finishedAt = nowNanos();
    saveContainer(daemon, entry->value);
    log::warn("Stopped container without a monitor", {{"container", c.id}});
    return;
  }
  try {
    MonitorState state = monitorStop(daemon, c, timeoutSeconds, c.stopSignal);
    apply(daemon, entry, state);
  } catch (const Error& e) {
    if (!unavailable(e)) throw e.withContext("stop container " + c.id);
    takeExitRecord(daemon, entry);
  }
  log::info("Stopped container", {{"container", c.id}});
}

void removeContainer(Daemon& daemon, const std::string& id) {
  Entry entry = daemon.containers().find(id);
  if (!entry) {
    log::debug("container to remove is already absent", {{"container", id}});
    return;
  }
  std::lock_guard<std::mutex> lock(entry->lock);
  Container& c = entry->value;
  if (c.removed) return;
  log::info("Removing container", {{"container", c.id}});

  endMonitor(daemon, c);
  withContext("unmount the root filesystem", [&]() { unmountOverlay(c.rootfsDir); });
  withContext("remove the container layer", [&]() { removeStoredLayer(daemon, c.id); });
  std::error_code ec;
  fs::remove_all(c.bundleDir, ec);
  if (ec) log::warn("cannot remove the bundle", {{"container", c.id}, {"error", ec.message()}});
  fs::remove(conmon::exitRecordPath(c.exitDir, c.id), ec);
  removeStateFile(daemon.containerStateDir() + "/" + c.id + ".json");
  c.removed = true;
  daemon.containers().remove(c.id);
  log::info("Removed container", {{"container", c.id}});
}

Container containerStatus(Daemon& daemon, const std::string& id) {
  Entry entry = daemon.containers().get(id);
  Container c = snapshot(entry);
  if (c.state == ContainerState::CREATED || c.state == ContainerState::RUNNING) {
    try {
      apply(daemon, entry, monitorState(daemon, c));
    } catch (const Error& e) {
      if (unavailable(e)) {
        takeExitRecord(daemon, entry);
      } else {
        log::warn("cannot read the container's state", {{"container", id}, {"error", e.what()}});
      }
    }
    c = snapshot(entry);
  }
  return c;
}

ExecOutput execSync(Daemon& daemon, const std::string& id, const std::vector<std::string>& argv,
                    int64_t timeoutSeconds) {
  if (argv.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "ExecSync: cmd is empty");
  Container c = snapshot(daemon.containers().get(id));
  if (c.state != ContainerState::RUNNING) {
    fail(ErrorCategory::FAILED_PRECONDITION, "container " + c.id + " is not running");
  }
  return withContext("exec in container " + c.id,
                     [&]() { return monitorExecSync(daemon, c, argv, timeoutSeconds); });
}

void reopenContainerLog(Daemon& daemon, const std::string& id) {
  Container c = snapshot(daemon.containers().get(id));
  if (c.state != ContainerState::RUNNING) {
    fail(ErrorCategory::FAILED_PRECONDITION, "container " + c.id + " is not running");
  }
  withContext("reopen the log of container " + c.id, [&]() { monitorReopenLog(daemon, c); });
}

void stopPodContainers(Daemon& daemon, const std::string& podId, int64_t timeoutSeconds) {
  for (const auto& entry : daemon.containers().all()) {
    if (entry->value.podId != podId) continue;
    stopContainer(daemon, entry->value.id, timeoutSeconds);
  }
}

void removePodContainers(Daemon& daemon, const std::string& podId) {
  for (const auto& entry : daemon.containers().all()) {
    if (entry->value.podId != podId) continue;
    removeContainer(daemon, entry->value.id);
  }
}

}  // namespace crio::cri
