// crio-cri's composition root: the configuration, the IPC loop thread with its peer connections,
// and the worker pool. The RPC layer reaches everything through one Daemon.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/config.h"
#include "common/monitor-launcher.h"
#include "common/worker-pool.h"
#include "crio-cri/container/container.h"
#include "crio-cri/sandbox/pod-sandbox.h"
#include "crio-cri/state/name-registry.h"
#include "crio-cri/state/object-table.h"
#include "ipc/loop-thread.h"
#include "ipc/peer.h"

namespace crio::cri {

class MonitorConnections;

// How many blocking CRI calls run at once; more wait in the pool's queue.
constexpr unsigned WORKER_THREADS = 16;

// The crio-conmon binaries the configured runtime handlers use (monitor_path, or crio-conmon
// next to crio-cri's own executable).
std::vector<std::string> monitorPrograms(const Config& config);

// The path of crio-pod-init, pid 1 of a pod's shared PID namespace: beside crio-cri, in an
// installation as in a build tree.
std::string podInitProgram();

class Daemon {
 public:
  Daemon(Config config, MonitorLauncher launcher);
  ~Daemon();

  // Connects to crio-imaged and crio-stored (returns at once; connections come up in the
  // background and come back after a peer restarts).
  void start();

  // A copy of the configuration in force (SIGHUP may replace the reloadable parts).
  Config config() const;
  void reload(const Config& fresh);

  ipc::LoopThread& loop() { return *loop_; }
  WorkerPool& workers() { return *workers_; }
  MonitorLauncher& launcher() { return launcher_; }

  // Pods and containers in memory; each entry is persisted under podStateDir() and
  // containerStateDir() by the code that changes it.
  ObjectTable<PodSandbox>& pods() { return pods_; }
  ObjectTable<Container>& containers() { return containers_; }
  std::string podStateDir() const;
  std::string containerStateDir() const;
  // Full names (PodSandbox::fullName) of the pods in pods(), each reserved for its pod's id.
  NameRegistry& podNames() { return podNames_; }

  // Called by StopPodSandbox and RemovePodSandbox with the pod's full id, before the pod's own
  // resources are released. They run with the pod's `operation` mutex held (so no Run, Stop or
  // Remove of that pod runs meanwhile) and must not take it. stopPodContainers must stop every
  // container of the pod (force-killing after the grace period); removePodContainers must
  // remove them. Both must succeed when the pod has no containers, and throw crio::Error to
  // fail the CRI call. The defaults do nothing.
  std::function<void(const std::string& podId)> stopPodContainers = [](const std::string&) {};
  std::function<void(const std::string& podId)> removePodContainers = [](const std::string&) {};

  ipc::PeerState imagedState() const;
  ipc::PeerState storedState() const;

  // Only on the loop thread.
  ipc::Peer& imaged() { return *imaged_; }
  ipc::Peer& stored() { return *stored_; }
  MonitorConnections& monitors() { return *monitors_; }

  // Makes the monitor connections; `onEvent(containerId)` runs on the worker pool when a
  // watched container exited or its monitor connection was lost.
  void startMonitors(std::function<void(const std::string&)> onEvent);

 private:
  mutable std::mutex configMutex_;
  Config config_;
  MonitorLauncher launcher_;
  std::unique_ptr<ipc::LoopThread> loop_;
  std::unique_ptr<WorkerPool> workers_;
  ObjectTable<PodSandbox> pods_{"pod sandbox"};
  ObjectTable<Container> containers_{"container"};
  NameRegistry podNames_{"pod sandbox"};
  kj::Own<ipc::Peer> imaged_;
  kj::Own<ipc::Peer> stored_;
  kj::Own<MonitorConnections> monitors_;
  std::atomic<bool> stopping_{false};
};

}  // namespace crio::cri
