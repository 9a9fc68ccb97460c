#include "common/daemon.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"
#include "common/log.h"
#include "common/version.h"

namespace crio {

ConfigSources DaemonFlags::sources() const {
  ConfigSources s;
  s.paths = paths();
  s.file = configFile;
  s.fileExplicit = !configFile.empty();
  s.dropInDirExplicit = !configDir.empty();
  s.dropInDir = configDir;
  return s;
}

void addCommonFlags(CLI::App& app, DaemonFlags& flags) {
  app.add_option("--config,-c", flags.configFile,
                 "Configuration file (default /etc/crio/crio.conf, under --root)");
  app.add_option("--config-dir,-d", flags.configDir,
                 "Folder of drop-in *.conf files read after --config in lexical order "
                 "(default /etc/crio/crio.conf.d, under --root)");
  app.add_option("--root", flags.root,
                 "Prefix for every default path the suite uses (sockets, state, storage, logs, "
                 "configuration)");
  app.add_option("--log-level,-l", flags.logLevel,
                 "trace, debug, info, warn, error or fatal (overrides [crio.runtime] log_level)");
  app.add_flag("--print-config", flags.printConfig,
               "Print the effective configuration as TOML and exit");
  app.add_flag("--no-seccomp", flags.noSeccomp,
               "Do not install the daemon's own seccomp filter (for debugging)");
  app.set_version_flag("--version,-v", std::string(CRIO_VERSION));
}

LoadedConfig loadDaemonConfig(const DaemonFlags& flags) {
  if (!flags.root.empty() && flags.root[0] != '/') {
    fail(ErrorCategory::INVALID_ARGUMENT, "--root must be an absolute path, got " + flags.root);
  }
  LoadedConfig loaded = loadConfig(flags.sources());

  std::string levelText = flags.logLevel.empty() ? loaded.config.logLevel : flags.logLevel;
  log::Level level;
  if (!log::parseLevel(levelText, level)) {
    fail(ErrorCategory::INVALID_ARGUMENT, "--log-level: unknown level \"" + levelText + "\"");
  }
  log::setLevel(level);
  loaded.config.logLevel = std::string(log::levelName(level));

  for (const auto& warning : loaded.warnings) {
    log::warn("configuration: " + warning.message, {{"file", warning.file}, {"key", warning.key}});
  }
  return loaded;
}

void enterRole(const std::string& daemon, const RolePrivileges& role, bool seccomp) {
  if (geteuid() != 0) {
    // Started unprivileged, as crio-imaged is under a DynamicUser unit: nothing to drop. Any
    // other daemon started this way cannot do its job, so that is worth a warning.
    bool expected = !role.user.empty() || role.capabilities.empty();
    if (!expected) {
      log::warn("not running as root: privileges left as they are",
                {{"capabilities", effectiveCapabilities()}});
    }
  } else {
    if (role.user.empty()) {
      dropCapabilitiesExcept(role.capabilities);
    } else {
      // Keep only what the switch needs; the uid change then clears every set.
      dropCapabilitiesExcept({"SETUID", "SETGID"});
      switchToUser(role.user);
    }
  }
  if (role.noNewPrivileges) setNoNewPrivileges();
  if (seccomp) {
    installSeccompFilter({daemon, role.syscalls});
  }
  log::info("privileges dropped", {{"uid", std::to_string(geteuid())},
                                   {"capabilities", effectiveCapabilities()},
                                   {"no_new_privs", role.noNewPrivileges ? "1" : "0"},
                                   {"seccomp", seccomp ? "filter" : "disabled"}});
}

void blockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void makeDirectories(const std::string& path, unsigned mode) {
  if (path.empty()) return;
  std::string current;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    current = path.substr(0, pos);
    if (current.empty()) continue;
    // Parents are traversable (0755) like /var and /run; only the leaf gets `mode`.
    unsigned want = pos == std::string::npos ? mode : 0755;
    if (mkdir(current.c_str(), want) != 0 && errno != EEXIST) failSyscall("mkdir", current);
  }
}

}  // namespace crio
