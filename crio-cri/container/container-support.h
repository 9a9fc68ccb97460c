// Pieces shared by the container calls: where a container's files go, how its monitor is
// started and ended, its stop signal, and its layer in crio-stored.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "cri/api.pb.h"
#include "crio-cri/container/container.h"
#include "crio-cri/container/monitor-client.h"
#include "crio-cri/daemon.h"
#include "crio-cri/oci/host-facts.h"

namespace crio::cri {

// RUN_DIR/monitors/ID32.sock, with ID32 the first 32 hex digits of the id (128 random bits).
// Not RUN_DIR/containers/ID/monitor.sock: a unix socket path has at most 107 bytes, the monitor
// appends ".console" and ".execN" to it, and a test root under /tmp plus a 64-digit id exceeds
// that.
std::string monitorSocketPath(const Config& config, const std::string& containerId);

// Returns the node's facts for spec building, probed on the first call. crio-cri calls it once
// before it drops its capabilities, so that the bounding set recorded is the one runtimes inherit.
const oci::HostFacts& hostFacts();

// Returns the CRI log file of a container: the pod's log_directory joined with the container's
// log_path. Returns "" when either is empty (the container then has no log). Throws
// INVALID_ARGUMENT when log_directory is not absolute, or log_path is absolute, has a ".."
// component (the file must stay inside the directory the kubelet reads and rotates) or names a
// folder.
std::string containerLogPath(const std::string& logDirectory, const std::string& logPath);

// The request's stop signal if it names one, else the image's StopSignal ("SIGQUIT", "QUIT" or
// "3"), else SIGTERM.
int stopSignalFor(const runtime::v1::ContainerConfig& config, const std::string& imageStopSignal);

// A signal by name ("SIGUSR1", "USR1", "SIGRTMIN+3") or number; 0 when unknown.
int parseSignal(const std::string& text);

struct MonitorCommand {
  std::string program;
  std::vector<std::string> args;
  std::vector<std::string> env;
};

// The crio-conmon command line of container `c` (runtime from its handler: runtime_path or the
// handler's name looked up in PATH; runtime_root or RUN_DIR/runtimes/NAME).
MonitorCommand monitorCommand(const Config& config, const Container& c,
                              const RuntimeHandler* handler);

// Returns the crio-conmon command line that ends container `c` without its monitor (--cleanup).
MonitorCommand cleanupCommand(const Config& config, const Container& c,
                              const RuntimeHandler* handler);

// Bound on waiting for `crio-conmon --cleanup`: its runtime delete may take 30 s, plus its start.
constexpr std::chrono::milliseconds CLEANUP_WAIT{40000};

// Kills every process of a container whose monitor is gone and removes its runtime state and
// cgroup: crio-cri cannot run the runtime itself, so it starts `crio-conmon --cleanup` through
// the launcher and waits for it. Throws DEADLINE_EXCEEDED past CLEANUP_WAIT, and INTERNAL when
// the runtime still has the container's state afterwards.
void deleteWithoutMonitor(Daemon& daemon, const Container& c);

// Ends the container's monitor, whatever its state: stop(0) and delete() when it is reachable.
// Otherwise it sends SIGKILL to the monitor's pid and deletes the container through
// deleteWithoutMonitor(), whose errors it passes on.
void endMonitor(Daemon& daemon, const Container& c);

// crio-stored's removeContainerLayer; an absent layer is fine.
void removeStoredLayer(Daemon& daemon, const std::string& containerId);

// Persists the record (STATE_DIR/containers/ID.json).
void saveContainer(Daemon& daemon, const Container& c);

// Nanoseconds since the Unix epoch.
int64_t nowNanos();

// Copies a monitor's state into the record.
void applyMonitorState(Container& c, const MonitorState& state);

}  // namespace crio::cri
