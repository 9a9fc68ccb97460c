#include "crio-cri/container/container-runtime.h"
#include "crio-cri/rpc/container-handlers.h"

namespace crio::cri {

void removeContainer(Daemon& daemon, const runtime::v1::RemoveContainerRequest& request,
                     runtime::v1::RemoveContainerResponse&) {
  if (request.container_id().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "RemoveContainer: container_id is empty");
  }
  removeContainer(daemon, request.container_id());
}

}  // namespace crio::cri
