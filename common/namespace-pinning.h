// Pod namespaces without a pause process: pinning and unpinning. The PID namespace holder, which
// shared PID namespaces need, is in pod-pid-holder.h.
//
// A namespace lives as long as something refers to it. For the network, IPC and UTS namespaces
// of a pod that something is a bind mount of /proc/PID/ns/TYPE of a short-lived child onto a
// file under the namespaces dir ([crio.runtime] namespaces_dir):
//
//   NAMESPACES_DIR/netns/POD_ID     network namespace (CNI_NETNS, the OCI spec's path)
//   NAMESPACES_DIR/ipcns/POD_ID     IPC namespace
//   NAMESPACES_DIR/utsns/POD_ID     UTS namespace, with the pod's hostname set inside
//   NAMESPACES_DIR/pidns/POD_ID     PID namespace of the holder process (pod-pid-holder.h)
//
// NAMESPACES_DIR is made a mount point in a shared peer group of its own (bind-mounted onto
// itself, then made private, then shared). Runc runs in the host's mount namespace and opens the
// pins in any case. The shared propagation matters for mount namespaces created after a pin,
// such as a systemd service with PrivateTmp: they receive a copy of each pin, and only an
// unmount that propagates to that copy lets the namespace go. A private mount would leave
// such copies holding the namespace after the pod is gone. The peer group is separate from
// the parent mount's group, so pins do not propagate into the rest of the host's tree.
//
// Namespaces are created in a child made with clone(CLONE_VM | CLONE_VFORK | CLONE_NEW...), never
// with unshare() in the daemon: in a threaded process unshare() changes only the calling thread,
// and a gRPC or worker thread left in a pod's network namespace would be a bug that is hard to
// find. The child sets the hostname, brings `lo` up, writes the sysctls and bind-mounts its own
// /proc/self/ns files, then exits. It calls only system calls, never the allocator.
//
// Callers serialize calls for one pod; calls for different pods may run in parallel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crio {

enum class NamespaceKind { NET, IPC, UTS, PID };

// Bounds on the values a pod request carries into this module.
constexpr size_t MAX_POD_ID_LENGTH = 128;
constexpr size_t MAX_HOSTNAME_LENGTH = 64;  // HOST_NAME_MAX on Linux
constexpr size_t MAX_POD_SYSCTLS = 64;
constexpr size_t MAX_SYSCTL_NAME_LENGTH = 256;
constexpr size_t MAX_SYSCTL_VALUE_LENGTH = 4096;

// "netns", "ipcns", "utsns", "pidns": the folder of each kind under the namespaces dir.
std::string_view namespaceFolder(NamespaceKind kind);
// NAMESPACES_DIR/FOLDER/POD_ID. Throws INVALID_ARGUMENT for a pod id that is not a file name.
std::string namespacePinPath(const std::string& namespacesDir, NamespaceKind kind,
                             const std::string& podId);

// Checks a pod id: 1 to MAX_POD_ID_LENGTH characters of [A-Za-z0-9_.-], starting with a letter
// or digit (the CNI container id rules). Throws INVALID_ARGUMENT.
void validatePodId(const std::string& podId);

// Creates the namespaces dir and its folders, and makes it a mount point in a shared peer group
// of its own (see above). Idempotent; later calls for the same dir in the process return at once.
void prepareNamespacesDir(const std::string& namespacesDir);

// The namespace a pod sysctl belongs to, by name ("net.ipv4.ping_group_range" or
// "net/ipv4/ping_group_range"). net.* is NET. kernel.shm*, kernel.msg*, kernel.sem and
// fs.mqueue.* are IPC. kernel.hostname and kernel.domainname are UTS. The rest are not
// namespaced, so they cannot be set for one pod: nullopt.
std::optional<NamespaceKind> sysctlNamespace(const std::string& name);
// The file that sets it: "/proc/sys/net/ipv4/ping_group_range". Throws INVALID_ARGUMENT for a
// name with characters outside [A-Za-z0-9_.-/], an empty component or "..".
std::string sysctlPath(const std::string& name);

struct PodNamespaceRequest {
  std::string namespacesDir;
  std::string podId;
  bool network = true;   // false: the pod uses the host's network namespace
  bool ipc = true;       // false: the host's IPC namespace
  bool uts = true;       // false: the host's UTS namespace
  std::string hostname;  // set inside the new UTS namespace; "" keeps the copied host name
  // CRI's LinuxPodSandboxConfig.sysctls, written in the new namespaces before anything joins
  // them. Each must belong to a namespace the request creates.
  std::map<std::string, std::string> sysctls;
};

// Pin paths, "" for each namespace that was not created.
struct PodNamespacePins {
  std::string network;
  std::string ipc;
  std::string uts;
};

// Creates and pins the requested namespaces with the hostname, `lo` up and the sysctls applied.
// On any failure nothing stays pinned. Throws INVALID_ARGUMENT for a bad request (naming the
// sysctl or value), ALREADY_EXISTS when the pod already has a pinned namespace of a requested
// kind, and the system's error otherwise.
PodNamespacePins pinPodNamespaces(const PodNamespaceRequest& request);

// Unmounts (MNT_DETACH) and removes one pin. Succeeds when it is already gone or never was a
// mount, so it can run again after a crash or a reboot.
void unpinNamespace(const std::string& pinPath);

// Unpins the pod's network, IPC and UTS namespaces (not the PID one: stopPodPidHolder).
void unpinPodNamespaces(const std::string& namespacesDir, const std::string& podId);

// True when `pinPath` is a mount of a namespace of `kind` (nsfs, checked with NS_GET_NSTYPE).
// False when the file is missing (after a reboot /run is empty) or is a plain file left by a
// crash between creating the mount point and mounting.
bool isNamespacePinned(const std::string& pinPath, NamespaceKind kind);

// Creates the empty file that a pin is mounted on, with mode 0444. A plain file left by a crash
// before its mount is reused. Throws ALREADY_EXISTS when a namespace of `kind` is pinned there.
void createPinFile(const std::string& pinPath, NamespaceKind kind);

// True when both paths refer to the same namespace (same nsfs inode); false if either is absent.
bool sameNamespace(const std::string& pathA, const std::string& pathB);

}  // namespace crio
