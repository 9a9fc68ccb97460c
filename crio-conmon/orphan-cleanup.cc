#include "crio-conmon/orphan-cleanup.h"

#include "common/log.h"
#include "common/process-spawn.h"
#include "crio-conmon/container-field.h"
#include "crio-conmon/oci-runtime.h"

namespace crio::conmon {

namespace {

// Matches the errors runc and crun print for an unknown id: the container is already gone.
bool reportsAbsent(const std::string& output) {
  return output.find("does not exist") != std::string::npos ||
         output.find("not found") != std::string::npos;
}

}  // namespace

int runOrphanCleanup(const MonitorOptions& options) {
  ProcessRequest request;
  request.path = options.runtimePath;
  request.argv.push_back(options.runtimePath);
  if (!options.runtimeRoot.empty()) {
    request.argv.push_back("--root");
    request.argv.push_back(options.runtimeRoot);
  }
  for (const auto& arg : options.runtimeArgs)
    request.argv.push_back(arg);
  for (const auto& arg : OciRuntime::deleteArgs(options.containerId))
    request.argv.push_back(arg);
  request.env = currentEnvironment();
  request.timeout = std::chrono::seconds(CLEANUP_TIMEOUT_SECONDS);

  ProcessResult result = runProcess(request);
  std::string output = runtimeErrorText(result.stdoutData + result.stderrData);
  if (result.succeeded() || (!result.timedOut && result.signal == 0 && reportsAbsent(output))) {
    log::info("Deleted the container of a lost monitor", {containerField()});
    return 0;
  }
  log::error("runtime delete failed for the container of a lost monitor",
             {containerField(), {"end", result.describeEnd(request)}, {"output", output}});
  return 1;
}

}  // namespace crio::conmon
