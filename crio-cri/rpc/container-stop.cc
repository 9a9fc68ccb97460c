#include "crio-cri/container/container-runtime.h"
#include "crio-cri/rpc/container-handlers.h"

namespace crio::cri {

void stopContainer(Daemon& daemon, const runtime::v1::StopContainerRequest& request,
                   runtime::v1::StopContainerResponse&) {
  stopContainer(daemon, request.container_id(), request.timeout());
}

}  // namespace crio::cri
