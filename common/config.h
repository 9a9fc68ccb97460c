// The suite's configuration: CRI-O's crio.conf format and key names, plus a table of this
// project's own ([crio.suite]). Every daemon reads the same files and uses the part it needs.
//
// Sources, later ones overriding earlier ones key by key:
//   1. built-in defaults (every key has one, so no file is needed);
//   2. the main file (/etc/crio/crio.conf, or --config);
//   3. every *.conf in the drop-in folder (/etc/crio/crio.conf.d, or --config-dir), in lexical
//      order of file name.
// An unknown key is a warning; a value of the wrong type or out of range stops the load with the
// file, the key and the reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/paths.h"

namespace crio {

// [crio.image] pull_progress_timeout when unset: a pull fails once no byte arrived for this long.
constexpr std::chrono::seconds DEFAULT_PULL_PROGRESS_TIMEOUT{30};

// One OCI runtime handler: a [crio.runtime.runtimes.NAME] table.
struct RuntimeHandler {
  std::string runtimePath;  // runtime_path; "" means look NAME up in PATH
  std::string runtimeType = "oci";
  std::string runtimeRoot;  // runtime_root; "" means RUN_DIR/runtimes/NAME
  std::string monitorPath;  // monitor_path; "" means crio-conmon next to crio-cri
  std::vector<std::string> monitorEnv;
  std::vector<std::string> allowedAnnotations;
  bool privilegedWithoutHostDevices = false;
};

struct Config {
  // [crio]
  std::string storageRoot;  // root
  std::string runRoot;      // runroot
  std::string logDir;       // log_dir
  std::string storageDriver = "overlay";
  std::vector<std::string> storageOptions;

  // [crio.api]
  std::string listen;
  std::string streamAddress = "127.0.0.1";
  std::string streamPort = "0";
  std::string streamIdleTimeout;
  int64_t grpcMaxSendMsgSize = 80 * 1024 * 1024;
  int64_t grpcMaxRecvMsgSize = 80 * 1024 * 1024;

  // [crio.runtime]
  std::string logLevel = "info";
  std::string defaultRuntime = "runc";
  std::string cgroupManager;  // "systemd" or "cgroupfs"; "" picks systemd when it is PID 1
  std::string conmonCgroup;
  std::vector<std::string> defaultCapabilities;
  std::vector<std::string> defaultSysctls;
  std::vector<std::string> defaultUlimits;
  std::string seccompProfile;
  bool noPivot = false;
  bool readOnly = false;
  int64_t logSizeMax = -1;
  int64_t pidsLimit = -1;
  std::string containerExitsDir;
  std::string namespacesDir;
  std::vector<std::string> hooksDir;
  std::vector<std::string> additionalDevices;
  std::vector<std::string> allowedDevices;
  std::map<std::string, RuntimeHandler> runtimes;

  // [crio.image]
  std::string defaultTransport = "docker://";
  std::string globalAuthFile;
  std::string pauseImage = "registry.k8s.io/pause:3.9";
  std::string pauseImageAuthFile;
  std::string pauseCommand = "/pause";
  std::vector<std::string> pinnedImages;
  std::string signaturePolicy;  // "" means the suite's policy.json location below
  std::string signaturePolicyDir;
  std::vector<std::string> insecureRegistries;
  std::string imageVolumes = "mkdir";
  std::string bigFilesTemporaryDir;
  // pull_progress_timeout: a Go duration string ("30s", "1m30s", "500ms") or whole seconds;
  // 0 turns the stall check off.
  std::chrono::milliseconds pullProgressTimeout = DEFAULT_PULL_PROGRESS_TIMEOUT;

  // [crio.network]
  std::string cniDefaultNetwork;
  std::string networkDir;
  std::vector<std::string> pluginDirs;

  // [crio.metrics]
  bool enableMetrics = false;
  std::string metricsHost = "127.0.0.1";
  int64_t metricsPort = 9090;

  // [crio.suite]: this project's own settings.
  std::string imagedSocket;
  std::string storedSocket;
  std::string stateDir;  // crio-cri's pods and containers
  std::string cacheDir;  // crio-imaged's partial downloads
  std::string imagedUser = "nobody";
  bool selfSeccomp = true;
  std::string registriesConf;
  std::string registriesConfDir;
  std::string registriesDir;  // registries.d, lookaside signature locations
  std::string certsDir;
  std::string storageConf;
  std::vector<int64_t> allowedPeerUids = {0};

  // Built-in defaults with every path below `paths`' root.
  static Config defaults(const Paths& paths);
};

// Bound on one configuration file (crio.conf or a drop-in).
constexpr uint64_t MAX_CONFIG_FILE_BYTES = 1 << 20;

struct ConfigWarning {
  std::string file;
  std::string key;
  std::string message;
};

struct LoadedConfig {
  Config config;
  std::vector<std::string> filesRead;
  std::vector<ConfigWarning> warnings;
};

struct ConfigSources {
  Paths paths;
  std::string file;       // "" means the default; an explicit file must exist
  std::string dropInDir;  // "" means the default; a missing folder is fine
  bool fileExplicit = false;
  bool dropInDirExplicit = false;  // an explicit folder must exist
};

// Reads defaults, the main file and the drop-ins. Throws crio::Error (INVALID_ARGUMENT) naming
// the file, the key and the reason on the first invalid value.
LoadedConfig loadConfig(const ConfigSources& sources);

// Applies one TOML document (already read) on top of `config`; exposed for tests.
void applyConfigText(Config& config, const std::string& text, const std::string& fileName,
                     std::vector<ConfigWarning>& warnings);

// The effective configuration as a crio.conf TOML document, every key with its value.
std::string renderConfig(const Config& config);
// The same as one JSON object (for Status verbose info).
std::string renderConfigJson(const Config& config);

// Parses a duration as Go writes them: decimal numbers with a unit each ("ns", "us", "ms", "s",
// "m", "h"), such as "1m30s" or "1.5s". "0" alone is zero. Negative durations are rejected.
// Returns false on a malformed value. The result is rounded up to whole milliseconds.
bool parseDuration(const std::string& text, std::chrono::milliseconds& out);
// The inverse, in Go's form: "0s", "500ms", "30s", "1m30s", "1h0m0s", "1.5s".
std::string formatDuration(std::chrono::milliseconds duration);

// The cgroup manager actually used: the configured one, or systemd when systemd is PID 1.
std::string effectiveCgroupManager(const Config& config);

}  // namespace crio
