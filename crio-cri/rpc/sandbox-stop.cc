#include "common/error.h"
#include "crio-cri/rpc/sandbox-handlers.h"
#include "crio-cri/sandbox/pod-lifecycle.h"

namespace crio::cri {

void stopPodSandbox(Daemon& daemon, const runtime::v1::StopPodSandboxRequest& request,
                    runtime::v1::StopPodSandboxResponse&) {
  if (request.pod_sandbox_id().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "StopPodSandbox: pod_sandbox_id is empty");
  }
  stopPodSandbox(daemon, request.pod_sandbox_id());
}

}  // namespace crio::cri
