#include "crio-cri/rpc/runtime-service.h"

#include "crio-cri/rpc/container-handlers.h"
#include "crio-cri/rpc/dispatch.h"
#include "crio-cri/rpc/runtime-info.h"
#include "crio-cri/rpc/sandbox-handlers.h"

namespace crio::cri {

// Serves a method with `handler(daemon, request, response)` on the thread `where` selects.
#define CRIO_SERVE(Method, Request, Response, where, handler)                                \
  grpc::ServerUnaryReactor* RuntimeService::Method(grpc::CallbackServerContext* context,     \
                                                   const runtime::v1::Request* request,      \
                                                   runtime::v1::Response* response) {        \
    return dispatch(daemon_, context, #Method, where,                                        \
                    [this, request, response]() { handler(daemon_, *request, *response); }); \
  }
#define CRIO_UNIMPLEMENTED(Method, Request, Response)                                              \
  grpc::ServerUnaryReactor* RuntimeService::Method(                                                \
      grpc::CallbackServerContext* context, const runtime::v1::Request*, runtime::v1::Response*) { \
    return unimplemented(context, #Method);                                                        \
  }
#define CRIO_UNIMPLEMENTED_STREAM(Method, Request, Response)               \
  grpc::ServerWriteReactor<runtime::v1::Response>* RuntimeService::Method( \
      grpc::CallbackServerContext*, const runtime::v1::Request*) {         \
    return unimplementedStream<runtime::v1::Response>(#Method);            \
  }

CRIO_SERVE(Version, VersionRequest, VersionResponse, RunOn::CALLBACK_THREAD, version)
CRIO_SERVE(Status, StatusRequest, StatusResponse, RunOn::CALLBACK_THREAD, status)
CRIO_SERVE(RuntimeConfig, RuntimeConfigRequest, RuntimeConfigResponse, RunOn::CALLBACK_THREAD,
           runtimeConfig)

CRIO_SERVE(RunPodSandbox, RunPodSandboxRequest, RunPodSandboxResponse, RunOn::WORKER_POOL,
           runPodSandbox)
CRIO_SERVE(StopPodSandbox, StopPodSandboxRequest, StopPodSandboxResponse, RunOn::WORKER_POOL,
           stopPodSandbox)
CRIO_SERVE(RemovePodSandbox, RemovePodSandboxRequest, RemovePodSandboxResponse, RunOn::WORKER_POOL,
           removePodSandbox)
CRIO_SERVE(PodSandboxStatus, PodSandboxStatusRequest, PodSandboxStatusResponse,
           RunOn::CALLBACK_THREAD, podSandboxStatus)
CRIO_SERVE(ListPodSandbox, ListPodSandboxRequest, ListPodSandboxResponse, RunOn::CALLBACK_THREAD,
           listPodSandbox)
CRIO_UNIMPLEMENTED_STREAM(StreamPodSandboxes, StreamPodSandboxesRequest, StreamPodSandboxesResponse)
CRIO_SERVE(CreateContainer, CreateContainerRequest, CreateContainerResponse, RunOn::WORKER_POOL,
           createContainer)
CRIO_SERVE(StartContainer, StartContainerRequest, StartContainerResponse, RunOn::WORKER_POOL,
           startContainer)
CRIO_SERVE(StopContainer, StopContainerRequest, StopContainerResponse, RunOn::WORKER_POOL,
           stopContainer)
CRIO_SERVE(RemoveContainer, RemoveContainerRequest, RemoveContainerResponse, RunOn::WORKER_POOL,
           removeContainer)
CRIO_SERVE(ListContainers, ListContainersRequest, ListContainersResponse, RunOn::WORKER_POOL,
           listContainers)
CRIO_UNIMPLEMENTED_STREAM(StreamContainers, StreamContainersRequest, StreamContainersResponse)
CRIO_SERVE(ContainerStatus, ContainerStatusRequest, ContainerStatusResponse, RunOn::WORKER_POOL,
           containerStatus)
CRIO_UNIMPLEMENTED(UpdateContainerResources, UpdateContainerResourcesRequest,
                   UpdateContainerResourcesResponse)
CRIO_SERVE(ReopenContainerLog, ReopenContainerLogRequest, ReopenContainerLogResponse,
           RunOn::WORKER_POOL, reopenContainerLog)
CRIO_SERVE(ExecSync, ExecSyncRequest, ExecSyncResponse, RunOn::WORKER_POOL, execSync)
CRIO_UNIMPLEMENTED(Exec, ExecRequest, ExecResponse)
CRIO_UNIMPLEMENTED(Attach, AttachRequest, AttachResponse)
CRIO_UNIMPLEMENTED(PortForward, PortForwardRequest, PortForwardResponse)
CRIO_UNIMPLEMENTED(ContainerStats, ContainerStatsRequest, ContainerStatsResponse)
CRIO_UNIMPLEMENTED(ListContainerStats, ListContainerStatsRequest, ListContainerStatsResponse)
CRIO_UNIMPLEMENTED_STREAM(StreamContainerStats, StreamContainerStatsRequest,
                          StreamContainerStatsResponse)
CRIO_UNIMPLEMENTED(PodSandboxStats, PodSandboxStatsRequest, PodSandboxStatsResponse)
CRIO_UNIMPLEMENTED(ListPodSandboxStats, ListPodSandboxStatsRequest, ListPodSandboxStatsResponse)
CRIO_UNIMPLEMENTED_STREAM(StreamPodSandboxStats, StreamPodSandboxStatsRequest,
                          StreamPodSandboxStatsResponse)
CRIO_UNIMPLEMENTED(UpdateRuntimeConfig, UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse)
CRIO_UNIMPLEMENTED(CheckpointContainer, CheckpointContainerRequest, CheckpointContainerResponse)
CRIO_UNIMPLEMENTED(CheckpointPod, CheckpointPodRequest, CheckpointPodResponse)
CRIO_UNIMPLEMENTED(RestorePod, RestorePodRequest, RestorePodResponse)
CRIO_UNIMPLEMENTED_STREAM(GetContainerEvents, GetEventsRequest, ContainerEventResponse)
CRIO_UNIMPLEMENTED(ListMetricDescriptors, ListMetricDescriptorsRequest,
                   ListMetricDescriptorsResponse)
CRIO_UNIMPLEMENTED(ListPodSandboxMetrics, ListPodSandboxMetricsRequest,
                   ListPodSandboxMetricsResponse)
CRIO_UNIMPLEMENTED_STREAM(StreamPodSandboxMetrics, StreamPodSandboxMetricsRequest,
                          StreamPodSandboxMetricsResponse)
CRIO_UNIMPLEMENTED(UpdatePodSandboxResources, UpdatePodSandboxResourcesRequest,
                   UpdatePodSandboxResourcesResponse)

}  // namespace crio::cri
