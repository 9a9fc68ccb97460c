#include "crio-cri/sandbox/pod-sandbox.h"

#include "crio-cri/state/proto-json.h"

namespace crio::cri {

std::string PodSandbox::fullName() const {
  const auto& m = config.metadata();
  return m.name() + "_" + m.namespace_() + "_" + m.uid() + "_" + std::to_string(m.attempt());
}

bool PodSandbox::hostNetwork() const {
  return config.linux().security_context().namespace_options().network() == runtime::v1::NODE;
}

bool PodSandbox::hostIpc() const {
  return config.linux().security_context().namespace_options().ipc() == runtime::v1::NODE;
}

bool PodSandbox::sharedPid() const {
  return config.linux().security_context().namespace_options().pid() == runtime::v1::POD;
}

std::string_view podStateName(PodState state) {
  return state == PodState::READY ? "ready" : "notready";
}

nlohmann::json toJson(const PodSandbox& pod) {
  return {
      {"id", pod.id},
      {"config", messageToJson(pod.config)},
      {"runtimeHandler", pod.runtimeHandler},
      {"state", podStateName(pod.state)},
      {"stopped", pod.stopped},
      {"createdAt", pod.createdAt},
      {"netnsPath", pod.netnsPath},
      {"ipcnsPath", pod.ipcnsPath},
      {"utsnsPath", pod.utsnsPath},
      {"pidnsPath", pod.pidnsPath},
      {"pidHolder", pod.pidHolder},
      {"networkName", pod.networkName},
      {"ips", pod.ips},
      {"runDir", pod.runDir},
      {"hostname", pod.hostname},
      {"cgroupParent", pod.cgroupParent},
      {"hostnamePath", pod.hostnamePath},
      {"resolvPath", pod.resolvPath},
      {"hostsPath", pod.hostsPath},
      {"shmPath", pod.shmPath},
  };
}

PodSandbox podFromJson(const nlohmann::json& record) {
  PodSandbox pod;
  pod.id = record.at("id").get<std::string>();
  messageFromJson(record.at("config"), pod.config);
  pod.runtimeHandler = record.value("runtimeHandler", "");
  pod.state = record.value("state", "") == "ready" ? PodState::READY : PodState::NOT_READY;
  pod.stopped = record.value("stopped", false);
  pod.createdAt = record.value("createdAt", int64_t{0});
  pod.netnsPath = record.value("netnsPath", "");
  pod.ipcnsPath = record.value("ipcnsPath", "");
  pod.utsnsPath = record.value("utsnsPath", "");
  pod.pidnsPath = record.value("pidnsPath", "");
  pod.pidHolder = record.value("pidHolder", 0);
  pod.networkName = record.value("networkName", "");
  pod.ips = record.value("ips", std::vector<std::string>{});
  pod.runDir = record.value("runDir", "");
  pod.hostname = record.value("hostname", "");
  pod.cgroupParent = record.value("cgroupParent", "");
  pod.hostnamePath = record.value("hostnamePath", "");
  pod.resolvPath = record.value("resolvPath", "");
  pod.hostsPath = record.value("hostsPath", "");
  pod.shmPath = record.value("shmPath", "");
  return pod;
}

}  // namespace crio::cri
