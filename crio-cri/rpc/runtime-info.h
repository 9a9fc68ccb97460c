// Version, Status and RuntimeConfig: the kubelet's requests about the runtime itself.
#pragma once

#include "cri/api.pb.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

// Reported as VersionResponse.version: the kubelet-facing API version string.
constexpr const char* KUBELET_API_VERSION = "0.1.0";

void version(Daemon& daemon, const runtime::v1::VersionRequest& request,
             runtime::v1::VersionResponse& response);
void status(Daemon& daemon, const runtime::v1::StatusRequest& request,
            runtime::v1::StatusResponse& response);
void runtimeConfig(Daemon& daemon, const runtime::v1::RuntimeConfigRequest& request,
                   runtime::v1::RuntimeConfigResponse& response);

}  // namespace crio::cri
