#include "crio-cri/container/container-runtime.h"
#include "crio-cri/rpc/container-handlers.h"

namespace crio::cri {

void startContainer(Daemon& daemon, const runtime::v1::StartContainerRequest& request,
                    runtime::v1::StartContainerResponse&) {
  startContainer(daemon, request.container_id());
}

}  // namespace crio::cri
