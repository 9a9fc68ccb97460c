// The container lifecycle behind the CRI container calls: create (image layer, root filesystem,
// OCI bundle, monitor), start, stop, remove, status, exec and log reopening, plus restoring every
// container when crio-cri starts. Every function blocks: call it from a worker thread.
//
// Locking: each container's entry lock (ObjectTable) is held while its record changes and during
// the monitor calls that change it, never while waiting on another container's lock. A pending
// waitExit() per running container reports the exit at once (syncContainer()).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cri/api.pb.h"
#include "crio-cri/container/container.h"
#include "crio-cri/container/monitor-client.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

// The reason given to a container whose monitor vanished without leaving an exit record.
constexpr const char* MONITOR_LOST_REASON = "MonitorLost";

// Creates the container; returns its id. NOT_FOUND for an unknown pod or image,
// FAILED_PRECONDITION for a pod that is not ready, ALREADY_EXISTS for a (name, attempt) the pod
// already has, INVALID_ARGUMENT for a request without metadata or image. On any failure nothing
// is left behind: no layer, mount, bundle, monitor or record. The pod's settings (privilege,
// namespaces, cgroup parent) come from crio-cri's record of the pod, never from the request's
// sandbox_config, which a client could set to anything.
std::string createContainer(Daemon& daemon, const std::string& podId,
                            const runtime::v1::ContainerConfig& config);

void startContainer(Daemon& daemon, const std::string& id);

// Sends the stop signal and SIGKILL after `timeoutSeconds`. Succeeds for a container that has
// exited already; NOT_FOUND for an unknown id.
void stopContainer(Daemon& daemon, const std::string& id, int64_t timeoutSeconds);

// Kills a running container and removes everything of it. An unknown id is success.
void removeContainer(Daemon& daemon, const std::string& id);

// The container's record, brought up to date with its monitor.
Container containerStatus(Daemon& daemon, const std::string& id);

ExecOutput execSync(Daemon& daemon, const std::string& id, const std::vector<std::string>& argv,
                    int64_t timeoutSeconds);

void reopenContainerLog(Daemon& daemon, const std::string& id);

// At start: reads every container record, reconnects to live monitors, takes the exits of those
// whose monitor is gone from their exit records, and watches the running ones.
void restoreContainers(Daemon& daemon);

// Brings one container's record up to date with its monitor or its exit record (after an exit
// or a lost monitor connection).
void syncContainer(Daemon& daemon, const std::string& id);

// Grace period of the containers of a pod that StopPodSandbox stops: the kubelet has normally
// stopped them with their own grace period already.
constexpr int64_t POD_STOP_CONTAINER_TIMEOUT_SECONDS = 10;

// For StopPodSandbox and RemovePodSandbox: every container of the pod.
void stopPodContainers(Daemon& daemon, const std::string& podId, int64_t timeoutSeconds);
void removePodContainers(Daemon& daemon, const std::string& podId);

}  // namespace crio::cri
