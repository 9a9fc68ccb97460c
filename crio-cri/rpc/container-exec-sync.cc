// ExecSync and ReopenContainerLog: the calls that reach into a running container's monitor.
#include "crio-cri/container/container-runtime.h"
#include "crio-cri/rpc/container-handlers.h"

namespace crio::cri {

void execSync(Daemon& daemon, const runtime::v1::ExecSyncRequest& request,
              runtime::v1::ExecSyncResponse& response) {
  std::vector<std::string> argv(request.cmd().begin(), request.cmd().end());
  ExecOutput out = execSync(daemon, request.container_id(), argv, request.timeout());
  response.set_exit_code(out.exitCode);
  response.set_stdout(std::move(out.out));
  response.set_stderr(std::move(out.err));
}

void reopenContainerLog(Daemon& daemon, const runtime::v1::ReopenContainerLogRequest& request,
                        runtime::v1::ReopenContainerLogResponse&) {
  reopenContainerLog(daemon, request.container_id());
}

}  // namespace crio::cri
