// RuntimeService container calls: CreateContainer, StartContainer, StopContainer,
// RemoveContainer, ContainerStatus, ListContainers, ExecSync, ReopenContainerLog.
#pragma once

#include "cri/api.pb.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

void createContainer(Daemon& daemon, const runtime::v1::CreateContainerRequest& request,
                     runtime::v1::CreateContainerResponse& response);
void startContainer(Daemon& daemon, const runtime::v1::StartContainerRequest& request,
                    runtime::v1::StartContainerResponse& response);
void stopContainer(Daemon& daemon, const runtime::v1::StopContainerRequest& request,
                   runtime::v1::StopContainerResponse& response);
void removeContainer(Daemon& daemon, const runtime::v1::RemoveContainerRequest& request,
                     runtime::v1::RemoveContainerResponse& response);
void containerStatus(Daemon& daemon, const runtime::v1::ContainerStatusRequest& request,
                     runtime::v1::ContainerStatusResponse& response);
void listContainers(Daemon& daemon, const runtime::v1::ListContainersRequest& request,
                    runtime::v1::ListContainersResponse& response);
void execSync(Daemon& daemon, const runtime::v1::ExecSyncRequest& request,
              runtime::v1::ExecSyncResponse& response);
void reopenContainerLog(Daemon& daemon, const runtime::v1::ReopenContainerLogRequest& request,
                        runtime::v1::ReopenContainerLogResponse& response);

}  // namespace crio::cri
