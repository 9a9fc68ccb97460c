#include "crio-cri/rpc/sandbox-handlers.h"
#include "crio-cri/sandbox/pod-lifecycle.h"

namespace crio::cri {

void runPodSandbox(Daemon& daemon, const runtime::v1::RunPodSandboxRequest& request,
                   runtime::v1::RunPodSandboxResponse& response) {
  response.set_pod_sandbox_id(runPodSandbox(daemon, request));
}

}  // namespace crio::cri
