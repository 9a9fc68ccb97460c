#include "crio-cri/container/container-runtime.h"
#include "crio-cri/rpc/container-handlers.h"

namespace crio::cri {

void createContainer(Daemon& daemon, const runtime::v1::CreateContainerRequest& request,
                     runtime::v1::CreateContainerResponse& response) {
  if (!request.has_config()) fail(ErrorCategory::INVALID_ARGUMENT, "CreateContainer: no config");
  response.set_container_id(createContainer(daemon, request.pod_sandbox_id(), request.config()));
}

}  // namespace crio::cri
