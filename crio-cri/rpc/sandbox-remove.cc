#include "common/error.h"
#include "crio-cri/rpc/sandbox-handlers.h"
#include "crio-cri/sandbox/pod-lifecycle.h"

namespace crio::cri {

void removePodSandbox(Daemon& daemon, const runtime::v1::RemovePodSandboxRequest& request,
                      runtime::v1::RemovePodSandboxResponse&) {
  if (request.pod_sandbox_id().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "RemovePodSandbox: pod_sandbox_id is empty");
  }
  removePodSandbox(daemon, request.pod_sandbox_id());
}

}  // namespace crio::cri
