// The pod sandbox lifecycle behind RunPodSandbox, StopPodSandbox and RemovePodSandbox, and the
// restore of pods at start.
//
// A pod has no pause process. RunPodSandbox makes, in this order: the run dir RUN_DIR/pods/ID with
// hostname, resolv.conf and a /dev/shm tmpfs; the pinned network, IPC and UTS namespaces
// (namespace-pinning.h) with the hostname and sysctls set; the PID holder when the pod shares one
// PID namespace; the state record; the CNI attachment; the hosts file with the pod's address.
// The record is written before the CNI ADD, so that a crash during the ADD leaves a pod that
// crio-cri restores as NOT_READY and can remove. A failure at any step undoes every earlier one.
//
// Stop and Remove succeed for an unknown id and for parts that are already gone, because the
// kubelet repeats them until they succeed.
#pragma once

#include <string>

#include "cri/api.pb.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

// Creates the pod and returns its id (64 hex characters). Throws INVALID_ARGUMENT for a config
// without metadata name, namespace or uid, NOT_FOUND for a runtime handler that is not configured,
// ALREADY_EXISTS naming the pod that has the same full name, and the failing step's error.
std::string runPodSandbox(Daemon& daemon, const runtime::v1::RunPodSandboxRequest& request);

// Stops the pod's containers (Daemon::stopPodContainers), removes it from its CNI network, stops
// the PID holder and unmounts /dev/shm; the pod is then NOT_READY. Namespace pins stay until
// removal. Accepts a unique id prefix.
void stopPodSandbox(Daemon& daemon, const std::string& podId);

// Stops the pod if needed, removes its containers (Daemon::removePodContainers), unpins its
// namespaces and deletes its run dir and record. Accepts a unique id prefix.
void removePodSandbox(Daemon& daemon, const std::string& podId);

// Loads every record under Daemon::podStateDir() into the pod table. A READY pod whose pins or
// PID holder are gone (after a reboot /run is empty) becomes NOT_READY. Unreadable records are
// logged and skipped. Then calls removeOrphanPods(). Call once, before serving.
void restorePods(Daemon& daemon);

// Removes what a RunPodSandbox left when it was interrupted before its record was written. For
// every pod id that has a CNI attachment, a PID holder, an shm mount, namespace pins or a run dir
// but no record file, it removes all of them. Failures are logged, not thrown.
void removeOrphanPods(Daemon& daemon);

}  // namespace crio::cri
