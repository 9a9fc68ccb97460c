#include "crio-conmon/options.h"

#include "common/error.h"
#include "crio-conmon/container-log.h"

namespace crio::conmon {

namespace {

bool isIdCharacter(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '-' || c == '.');
}

void requireAbsolute(const std::string& path, const char* flag) {
  if (path.empty() || path[0] != '/') {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string(flag) + " must be an absolute path, got \"" + path + "\"");
  }
}

}  // namespace

void addMonitorFlags(CLI::App& app, MonitorOptions& o) {
  // The per-container options are checked by validateMonitorOptions() rather than marked
  // required, so that --print-config and --version work without them.
  app.add_option("--container-id", o.containerId, "Id of the container, as the runtime knows it");
  app.add_option("--bundle", o.bundle,
                 "OCI bundle folder; its config.json must exist, with root.path mounted");
  app.add_option("--runtime", o.runtimePath, "OCI runtime binary (runc or crun)");
  app.add_option("--runtime-root", o.runtimeRoot, "The runtime's --root state folder");
  app.add_option("--runtime-arg", o.runtimeArgs,
                 "Extra global option for the runtime, such as --systemd-cgroup (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--socket", o.socketPath, "Socket to serve the Monitor API on");
  app.add_option("--exit-dir", o.exitDir, "Folder of the exit record (written as EXIT_DIR/ID)");
  app.add_option("--log-path", o.logPath,
                 "CRI log file of the container; empty discards the output");
  app.add_option("--log-size-max", o.logSizeMax,
                 "Size limit of the log in bytes; when reached the log is truncated. -1 or 0: "
                 "no limit; otherwise at least 8192");
  app.add_flag("--stdin", o.openStdin, "Give the container a stdin pipe, held open");
  app.add_flag("--tty", o.tty, "Give the container a terminal (config.json process.terminal)");
  app.add_option("--container-pid-file", o.containerPidFile,
                 "Where the runtime writes the container's pid (default BUNDLE/pidfile)");
  app.add_option("--create-timeout", o.createTimeoutSeconds,
                 "Seconds runtime create may take before it is killed (default 240)");
  app.add_option("--ready-fd", o.readyFd,
                 "Inherited fd to write the monitor's pid and a newline to once the socket "
                 "listens; closed after");
  app.add_flag("--cleanup", o.cleanup,
               "Do not monitor: run `runtime delete --force` for a container whose monitor is "
               "gone, then exit");
}

void validateMonitorOptions(MonitorOptions& o) {
  const std::string& id = o.containerId;
  if (id.empty() || id.size() > MAX_CONTAINER_ID) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "--container-id must have 1 to " + std::to_string(MAX_CONTAINER_ID) + " characters");
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!isIdCharacter(id[i], i == 0)) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "--container-id \"" + id +
               "\" is invalid: use letters, digits, '_', '-' and '.', starting with a letter or "
               "digit");
    }
  }

  if (o.runtimePath.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "--runtime is required");
  if (o.cleanup) return;
  requireAbsolute(o.bundle, "--bundle");
  requireAbsolute(o.socketPath, "--socket");
  requireAbsolute(o.exitDir, "--exit-dir");
  if (!o.logPath.empty()) requireAbsolute(o.logPath, "--log-path");

  if (o.logSizeMax < -1 || (o.logSizeMax > 0 && o.logSizeMax < MIN_LOG_SIZE_MAX)) {
    fail(ErrorCategory::INVALID_ARGUMENT, "--log-size-max must be -1, 0 or at least " +
                                              std::to_string(MIN_LOG_SIZE_MAX) + ", got " +
                                              std::to_string(o.logSizeMax));
  }
  if (o.createTimeoutSeconds <= 0) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "--create-timeout must be positive, got " + std::to_string(o.createTimeoutSeconds));
  }

  if (o.containerPidFile.empty()) o.containerPidFile = o.bundle + "/pidfile";
  requireAbsolute(o.containerPidFile, "--container-pid-file");
}

}  // namespace crio::conmon
