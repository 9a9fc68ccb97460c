#include "crio-cri/rpc/runtime-info.h"

#include <nlohmann/json.hpp>

#include "common/version.h"
#include "crio-cri/network/pod-network.h"

namespace crio::cri {

namespace {

nlohmann::json peerJson(const ipc::PeerState& state) {
  nlohmann::json out = {{"connected", state.connected}};
  if (state.connected) {
    out["pid"] = state.info.pid;
    out["version"] = state.info.version;
    out["capabilities"] = state.info.capabilities;
    out["seccomp"] = state.info.seccomp;
  } else {
    out["error"] = state.message;
  }
  return out;
}

}  // namespace

void version(Daemon&, const runtime::v1::VersionRequest&, runtime::v1::VersionResponse& response) {
  response.set_version(KUBELET_API_VERSION);
  response.set_runtime_name(CRIO_RUNTIME_NAME);
  response.set_runtime_version(CRIO_VERSION);
  response.set_runtime_api_version("v1");
}

void status(Daemon& daemon, const runtime::v1::StatusRequest& request,
            runtime::v1::StatusResponse& response) {
  Config config = daemon.config();
  ipc::PeerState imaged = daemon.imagedState();
  ipc::PeerState stored = daemon.storedState();

  auto* runtimeReady = response.mutable_status()->add_conditions();
  runtimeReady->set_type("RuntimeReady");
  runtimeReady->set_status(imaged.connected && stored.connected);
  if (!stored.connected) {
    runtimeReady->set_reason("StorageDaemonUnavailable");
    runtimeReady->set_message("crio-stored is not reachable: " + stored.message);
  } else if (!imaged.connected) {
    runtimeReady->set_reason("ImageDaemonUnavailable");
    runtimeReady->set_message("crio-imaged is not reachable: " + imaged.message);
  }

  NetworkReadiness network = checkNetworkReadiness(CniSettings::fromConfig(config));
  auto* networkReady = response.mutable_status()->add_conditions();
  networkReady->set_type("NetworkReady");
  networkReady->set_status(network.ready);
  if (!network.ready) {
    networkReady->set_reason(network.reason);
    networkReady->set_message(network.message);
  }

  // The default handler is listed under "" as well as its own name, as the kubelet expects.
  auto addHandler = [&](const std::string& name) {
    auto* handler = response.add_runtime_handlers();
    handler->set_name(name);
    handler->mutable_features()->set_recursive_read_only_mounts(false);
    handler->mutable_features()->set_user_namespaces(false);
  };
  addHandler("");
  for (const auto& [name, handler] : config.runtimes)
    addHandler(name);

  if (request.verbose()) {
    auto& info = *response.mutable_info();
    info["config"] = renderConfigJson(config);
    info["peers"] =
        nlohmann::json{{"crio-imaged", peerJson(imaged)}, {"crio-stored", peerJson(stored)}}.dump();
    nlohmann::json networkInfo = {{"networkDir", config.networkDir},
                                  {"ready", network.ready},
                                  {"name", network.network},
                                  {"file", network.configFile}};
    if (!network.ready) networkInfo["error"] = network.message;
    info["network"] = networkInfo.dump();
  }
}

void runtimeConfig(Daemon& daemon, const runtime::v1::RuntimeConfigRequest&,
                   runtime::v1::RuntimeConfigResponse& response) {
  std::string manager = effectiveCgroupManager(daemon.config());
  response.mutable_linux()->set_cgroup_driver(manager == "systemd" ? runtime::v1::SYSTEMD
                                                                   : runtime::v1::CGROUPFS);
}

}  // namespace crio::cri
