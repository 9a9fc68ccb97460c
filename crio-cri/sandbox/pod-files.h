// The files a pod's containers share: /etc/hostname, /etc/resolv.conf, /etc/hosts and the /dev/shm
// tmpfs, made under the pod's run dir (RUN_DIR/pods/ID) and bind-mounted into each container.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cri/api.pb.h"

namespace crio::cri {

// Size of a pod's /dev/shm, the 64 MiB that the kubelet and CRI-O use by default.
constexpr uint64_t POD_SHM_SIZE_BYTES = 64ull << 20;

// The node's resolver configuration, copied for a pod that sends no DNSConfig.
constexpr const char* HOST_RESOLV_CONF = "/etc/resolv.conf";
// The node's hosts file, which host-network pods use as it is.
constexpr const char* HOST_HOSTS_FILE = "/etc/hosts";

// Writes `hostname` and a newline to `path`.
void writeHostnameFile(const std::string& path, const std::string& hostname);

// Writes resolv.conf(5) lines for `dns` (nameserver per server, one search line, one options
// line). When `dns` is null or has no entries, copies HOST_RESOLV_CONF instead (an empty file
// when the node has none). Throws INVALID_ARGUMENT for an entry with whitespace or a newline.
void writeResolvConf(const std::string& path, const runtime::v1::DNSConfig* dns);

// Writes the localhost entries and, when `ips` is not empty, one line per address naming
// `hostname`.
void writeHostsFile(const std::string& path, const std::string& hostname,
                    const std::vector<std::string>& ips);

// Mounts a tmpfs of POD_SHM_SIZE_BYTES (mode 1777, nosuid, nodev, noexec) on `path`, creating
// the folder.
void mountPodShm(const std::string& path);
// Unmounts (MNT_DETACH) the tmpfs on `path`; succeeds when nothing is mounted there.
void unmountPodShm(const std::string& path);

// The name the pod's UTS namespace gets: the requested one, else the node's for a host-network
// pod, else the first 12 characters of the pod id.
std::string podHostname(const runtime::v1::PodSandboxConfig& config, const std::string& podId);

}  // namespace crio::cri
