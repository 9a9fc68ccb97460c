// The monitor's command line: what crio-cri passes when it starts a monitor for one container.
//
//   crio-conmon --container-id ID --bundle DIR --runtime PATH [--runtime-root DIR]
//               [--runtime-arg=ARG]... --socket PATH --exit-dir DIR [--log-path FILE]
//               [--log-size-max BYTES] [--stdin] [--tty] [--container-pid-file FILE]
//               [--create-timeout SECONDS] [--ready-fd FD] [--log-level LEVEL] [--config FILE]
//   crio-conmon --cleanup --container-id ID --runtime PATH [--runtime-root DIR]
//               [--runtime-arg=ARG]...
//
// docs/monitor.md describes each option.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace crio::conmon {

// CRI-O's default container_create_timeout.
constexpr int64_t DEFAULT_CREATE_TIMEOUT_SECONDS = 240;
// Container ids name files (EXIT_DIR/ID), so they are limited to a safe alphabet and length.
constexpr size_t MAX_CONTAINER_ID = 128;

struct MonitorOptions {
  std::string containerId;
  std::string bundle;
  std::string runtimePath;
  std::string runtimeRoot;
  std::vector<std::string> runtimeArgs;
  std::string socketPath;
  std::string exitDir;
  std::string logPath;
  int64_t logSizeMax = -1;
  bool openStdin = false;
  bool tty = false;
  std::string containerPidFile;  // default BUNDLE/pidfile
  int64_t createTimeoutSeconds = DEFAULT_CREATE_TIMEOUT_SECONDS;
  int readyFd = -1;
  bool cleanup = false;  // end a container whose monitor is gone, then exit
};

void addMonitorFlags(CLI::App& app, MonitorOptions& options);

// Checks the parsed options and fills in defaults. Throws INVALID_ARGUMENT naming the flag. With
// --cleanup only the container id and the runtime options are needed.
void validateMonitorOptions(MonitorOptions& options);

}  // namespace crio::conmon
