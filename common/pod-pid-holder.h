// The PID namespace holder of a pod that shares one PID namespace among its containers
// (namespace_options.pid = POD). A PID namespace cannot outlive its first process: that process
// is pid 1 inside, and its death kills every other process in it. The holder is that process,
// in place of a pause container. Its namespace is pinned like the others (namespace-pinning.h):
//
//   NAMESPACES_DIR/pidns/POD_ID     PID namespace of the holder, the path containers join
//   NAMESPACES_DIR/pidns/POD_ID.pid the holder's pid, to find it again after a restart
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace crio {

struct PodPidHolder {
  pid_t pid = -1;       // in the daemon's PID namespace
  std::string pinPath;  // NAMESPACES_DIR/pidns/POD_ID, the path containers join
};

// Bound on the supplemental groups of a holder; Linux allows 65536 (NGROUPS_MAX).
constexpr size_t MAX_HOLDER_GROUPS = 65536;

struct PodPidHolderOptions {
  // Absolute path of crio-pod-init, the program the holder executes once it is set up.
  std::string initProgram;
  // The pod's pinned network, IPC and UTS namespaces (paths), which the holder joins, so that a
  // process of the pod that takes control of it gains no namespace of the host.
  std::vector<std::string> joinNamespaces;
  // cgroup.procs files of the pod's cgroups, which the holder joins first. Each must exist.
  std::vector<std::string> cgroupProcsFiles;
  // The pod's run_as_user, run_as_group and supplemental_groups. When any is set, the holder
  // takes them (an unset id is 0). It gives up every capability either way.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::vector<gid_t> supplementalGroups;
};

// Starts the holder: fork, setsid, unshare(CLONE_NEWPID), fork again. The second child is pid 1
// of the new namespace and idles, reaping the zombies reparented to it. The first child exits,
// so the holder is in its own session and belongs to no daemon process: it survives a restart
// of crio-cri. Before it idles, the holder joins the cgroups and namespaces of `options` and
// moves to a mount namespace of its own whose root is an empty tmpfs. Then it takes the ids of
// `options`, gives up every capability (bounding set included) and executes
// options.initProgram (crio-pod-init), which reports ready and reaps orphans. Its namespace is
// pinned and its pid written to NAMESPACES_DIR/pidns/POD_ID.pid. Throws ALREADY_EXISTS when the
// pod's holder is running, and the failed step with its errno (and file) when the holder could not
// start.
PodPidHolder startPodPidHolder(const std::string& namespacesDir, const std::string& podId,
                               const PodPidHolderOptions& options = {});

// The pod's holder after a restart: the pid from the pid file, if /proc/PID/ns/pid is the pinned
// namespace (so a reused pid is not mistaken for it). nullopt when it is not running.
std::optional<pid_t> findPodPidHolder(const std::string& namespacesDir, const std::string& podId);

// Kills the holder (SIGKILL, which also kills every process left in its namespace), waits up to
// `timeout` for it to exit, then unpins the namespace and removes the pid file. Succeeds when
// it is already gone. Throws DEADLINE_EXCEEDED when it does not exit in time.
void stopPodPidHolder(const std::string& namespacesDir, const std::string& podId,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace crio
