// Start-up steps every daemon of the suite shares: the common command-line flags, loading the
// configuration, setting up logging, and dropping privileges to the daemon's role.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "common/capabilities.h"
#include "common/config.h"
#include "common/seccomp-filter.h"

namespace crio {

struct DaemonFlags {
  std::string configFile;
  std::string configDir;
  std::string root;
  std::string logLevel;
  bool printConfig = false;
  bool noSeccomp = false;

  ConfigSources sources() const;
  Paths paths() const { return Paths(root); }
};

// Adds --config, --config-dir, --root, --log-level, --print-config, --no-seccomp and --version.
void addCommonFlags(CLI::App& app, DaemonFlags& flags);

// Loads the configuration the flags name, logs every warning, and sets the log level (the flag
// wins over [crio.runtime] log_level). Throws crio::Error on an invalid file.
LoadedConfig loadDaemonConfig(const DaemonFlags& flags);

// The user, capabilities and system calls a daemon keeps after start-up.
struct RolePrivileges {
  CapabilityList capabilities;
  std::vector<SyscallGroup> syscalls;
  bool noNewPrivileges = true;
  std::string user;  // switch to this unprivileged user first; "" stays root
};

// Drops to `role` and logs the resulting capability set and seccomp state. Not root: logs a
// warning and keeps what the process has (development runs).
void enterRole(const std::string& daemon, const RolePrivileges& role, bool seccomp);

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and every thread created later), so
// that they can be waited for with sigwaitinfo or a signalfd.
void blockTerminationSignals();

// Creates a folder with `mode` and any missing parent with 0755.
void makeDirectories(const std::string& path, unsigned mode);

}  // namespace crio
