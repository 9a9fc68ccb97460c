// The pod sandbox calls of the RuntimeService: RunPodSandbox, StopPodSandbox, RemovePodSandbox,
// PodSandboxStatus and ListPodSandbox.
#pragma once

#include "cri/api.pb.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

void runPodSandbox(Daemon& daemon, const runtime::v1::RunPodSandboxRequest& request,
                   runtime::v1::RunPodSandboxResponse& response);
void stopPodSandbox(Daemon& daemon, const runtime::v1::StopPodSandboxRequest& request,
                    runtime::v1::StopPodSandboxResponse& response);
void removePodSandbox(Daemon& daemon, const runtime::v1::RemovePodSandboxRequest& request,
                      runtime::v1::RemovePodSandboxResponse& response);
void podSandboxStatus(Daemon& daemon, const runtime::v1::PodSandboxStatusRequest& request,
                      runtime::v1::PodSandboxStatusResponse& response);
void listPodSandbox(Daemon& daemon, const runtime::v1::ListPodSandboxRequest& request,
                    runtime::v1::ListPodSandboxResponse& response);

}  // namespace crio::cri
