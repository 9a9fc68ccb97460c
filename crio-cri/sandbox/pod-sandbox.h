// A pod sandbox as crio-cri keeps it: the request it was made from, the namespaces pinned for it,
// its network and its files. Persisted as STATE_DIR/pods/ID.json.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cri/api.pb.h"

namespace crio::cri {

enum class PodState { READY, NOT_READY };

struct PodSandbox {
  std::string id;  // 64 hex characters
  runtime::v1::PodSandboxConfig config;
  std::string runtimeHandler;
  PodState state = PodState::READY;
  // StopPodSandbox finished: the network, the PID holder and /dev/shm are released. A pod found
  // NOT_READY after a reboot is not stopped yet.
  bool stopped = false;
  // RemovePodSandbox finished; in memory only, for calls that waited on the pod meanwhile.
  bool removed = false;
  int64_t createdAt = 0;  // nanoseconds since the Unix epoch

  // Pinned namespaces; "" when the pod uses the host's.
  std::string netnsPath;
  std::string ipcnsPath;
  std::string utsnsPath;
  std::string pidnsPath;  // only when the pod shares one PID namespace
  int pidHolder = 0;      // process that keeps the shared PID namespace alive

  std::string networkName;  // CNI network the pod was added to; "" for host network
  std::vector<std::string> ips;

  std::string runDir;  // RUN_DIR/pods/ID: hostname, resolv.conf, hosts, shm
  std::string hostname;
  std::string cgroupParent;

  // Files for the pod's containers to bind-mount at /etc/hostname, /etc/resolv.conf, /etc/hosts
  // and /dev/shm. hostsPath is the node's /etc/hosts for a host-network pod, and shmPath is ""
  // when the pod uses the host's IPC namespace (containers then bind the host's /dev/shm).
  std::string hostnamePath;
  std::string resolvPath;
  std::string hostsPath;
  std::string shmPath;

  const std::string& name() const { return config.metadata().name(); }
  const std::string& podNamespace() const { return config.metadata().namespace_(); }
  bool hostNetwork() const;
  bool hostIpc() const;
  bool sharedPid() const;  // namespace_options.pid == POD
  // The kubelet's unique pod name: name, namespace, uid and attempt.
  std::string fullName() const;
};

nlohmann::json toJson(const PodSandbox& pod);
PodSandbox podFromJson(const nlohmann::json& record);

std::string_view podStateName(PodState state);

}  // namespace crio::cri
