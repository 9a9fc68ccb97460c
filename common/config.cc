#include "common/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <variant>

#include "common/error.h"
#include "common/log.h"

namespace crio {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// The key table: one row per scalar key, naming its table, its TOML key and the Config member.
// Parsing, unknown-key detection and rendering all walk this table, so a key added here is
// parsed, validated and printed with no other change.

using Member = std::variant<std::string Config::*, bool Config::*, int64_t Config::*,
                            std::vector<std::string> Config::*, std::vector<int64_t> Config::*,
                            std::chrono::milliseconds Config::*>;

// A check on a value that has the right type; returns "" when fine, else the reason.
using StringCheck = std::function<std::string(const std::string&)>;

struct Key {
  const char* table;
  const char* name;
  Member member;
  StringCheck check = nullptr;
  int64_t min = INT64_MIN;
  int64_t max = INT64_MAX;
};

std::string absolutePath(const std::string& value) {
  // The kernel takes paths as C strings: "/a\0b" would name /a.
  if (value.find('\0') != std::string::npos) return "must not contain a NUL byte";
  if (value.empty() || value[0] == '/') return "";
  return "must be an absolute path";
}

std::string oneOf(const std::string& value, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (value == a) return "";
  }
  std::string reason = "must be one of:";
  for (const char* a : allowed) {
    reason += " \"";
    reason += a;
    reason += "\"";
  }
  return reason;
}

std::string logLevelCheck(const std::string& value) {
  log::Level level;
  if (log::parseLevel(value, level)) return "";
  return "must be one of: trace, debug, info, warn, error, fatal";
}

std::string cgroupManagerCheck(const std::string& value) {
  if (value.empty()) return "";
  return oneOf(value, {"systemd", "cgroupfs"});
}

std::string imageVolumesCheck(const std::string& value) {
  return oneOf(value, {"mkdir", "bind", "ignore"});
}

std::string storageDriverCheck(const std::string& value) {
  return oneOf(value, {"overlay"});
}

std::string portCheck(const std::string& value) {
  if (value.empty() || value.size() > 5 ||
      !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(value) > 65535) {
    return "must be a port number from 0 to 65535";
  }
  return "";
}

const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
      {"crio", "root", &Config::storageRoot, absolutePath},
      {"crio", "runroot", &Config::runRoot, absolutePath},
      {"crio", "log_dir", &Config::logDir, absolutePath},
      {"crio", "storage_driver", &Config::storageDriver, storageDriverCheck},
      {"crio", "storage_option", &Config::storageOptions},

      {"crio.api", "listen", &Config::listen, absolutePath},
      {"crio.api", "stream_address", &Config::streamAddress},
      {"crio.api", "stream_port", &Config::streamPort, portCheck},
      {"crio.api", "stream_idle_timeout", &Config::streamIdleTimeout},
      {"crio.api", "grpc_max_send_msg_size", &Config::grpcMaxSendMsgSize, nullptr, 1024, INT32_MAX},
      {"crio.api", "grpc_max_recv_msg_size", &Config::grpcMaxRecvMsgSize, nullptr, 1024, INT32_MAX},

      {"crio.runtime", "log_level", &Config::logLevel, logLevelCheck},
      {"crio.runtime", "default_runtime", &Config::defaultRuntime},
      {"crio.runtime", "cgroup_manager", &Config::cgroupManager, cgroupManagerCheck},
      {"crio.runtime", "conmon_cgroup", &Config::conmonCgroup},
      {"crio.runtime", "default_capabilities", &Config::defaultCapabilities},
      {"crio.runtime", "default_sysctls", &Config::defaultSysctls},
      {"crio.runtime", "default_ulimits", &Config::defaultUlimits},
      {"crio.runtime", "seccomp_profile", &Config::seccompProfile, absolutePath},
      {"crio.runtime", "no_pivot", &Config::noPivot},
      {"crio.runtime", "read_only", &Config::readOnly},
      {"crio.runtime", "log_size_max", &Config::logSizeMax, nullptr, -1},
      {"crio.runtime", "pids_limit", &Config::pidsLimit, nullptr, -1},
      {"crio.runtime", "container_exits_dir", &Config::containerExitsDir, absolutePath},
      {"crio.runtime", "namespaces_dir", &Config::namespacesDir, absolutePath},
      {"crio.runtime", "hooks_dir", &Config::hooksDir},
      {"crio.runtime", "additional_devices", &Config::additionalDevices},
      {"crio.runtime", "allowed_devices", &Config::allowedDevices},

      {"crio.image", "default_transport", &Config::defaultTransport},
      {"crio.image", "global_auth_file", &Config::globalAuthFile, absolutePath},
      {"crio.image", "pause_image", &Config::pauseImage},
      {"crio.image", "pause_image_auth_file", &Config::pauseImageAuthFile, absolutePath},
      {"crio.image", "pause_command", &Config::pauseCommand},
      {"crio.image", "pinned_images", &Config::pinnedImages},
      {"crio.image", "signature_policy", &Config::signaturePolicy, absolutePath},
      {"crio.image", "signature_policy_dir", &Config::signaturePolicyDir, absolutePath},
      {"crio.image", "insecure_registries", &Config::insecureRegistries},
      {"crio.image", "image_volumes", &Config::imageVolumes, imageVolumesCheck},
      {"crio.image", "big_files_temporary_dir", &Config::bigFilesTemporaryDir, absolutePath},
      {"crio.image", "pull_progress_timeout", &Config::pullProgressTimeout},

      {"crio.network", "cni_default_network", &Config::cniDefaultNetwork},
      {"crio.network", "network_dir", &Config::networkDir, absolutePath},
      {"crio.network", "plugin_dirs", &Config::pluginDirs},

      {"crio.metrics", "enable_metrics", &Config::enableMetrics},
      {"crio.metrics", "metrics_host", &Config::metricsHost},
      {"crio.metrics", "metrics_port", &Config::metricsPort, nullptr, 0, 65535},

      {"crio.suite", "imaged_socket", &Config::imagedSocket, absolutePath},
      {"crio.suite", "stored_socket", &Config::storedSocket, absolutePath},
      {"crio.suite", "state_dir", &Config::stateDir, absolutePath},
      {"crio.suite", "cache_dir", &Config::cacheDir, absolutePath},
      {"crio.suite", "imaged_user", &Config::imagedUser},
      {"crio.suite", "self_seccomp", &Config::selfSeccomp},
      {"crio.suite", "registries_conf", &Config::registriesConf, absolutePath},
      {"crio.suite", "registries_conf_dir", &Config::registriesConfDir, absolutePath},
      {"crio.suite", "registries_dir", &Config::registriesDir, absolutePath},
      {"crio.suite", "certs_dir", &Config::certsDir, absolutePath},
      {"crio.suite", "storage_conf", &Config::storageConf, absolutePath},
      // uid_t is 32 bits, and (uid_t)-1 means "no uid".
      {"crio.suite", "allowed_peer_uids", &Config::allowedPeerUids, nullptr, 0, 4294967294},
  };
  return table;
}

// Keys CRI-O has that this suite reads without acting on; they are accepted silently so an
// operator's existing crio.conf loads without a wall of warnings.
bool isTolerated(const std::string& table, const std::string& key) {
  static const std::map<std::string, std::vector<std::string>> TOLERATED = {
      {"crio",
       {"version_file", "version_file_persist", "clean_shutdown_file", "internal_wipe",
        "internal_repair", "imagestore"}},
      {"crio.api", {"stream_enable_tls", "stream_tls_cert", "stream_tls_key", "stream_tls_ca"}},
      {"crio.runtime",
       {"selinux",
        "apparmor_profile",
        "log_filter",
        "log_to_journald",
        "drop_infra_ctr",
        "infra_ctr_cpuset",
        "decryption_keys_path",
        "conmon",
        "conmon_env",
        "default_env",
        "default_mounts_file",
        "container_attach_socket_dir",
        "bind_mount_prefix",
        "uid_mappings",
        "gid_mappings",
        "minimum_mappable_uid",
        "minimum_mappable_gid",
        "ctr_stop_timeout",
        "manage_ns_lifecycle",
        "pinns_path",
        "enable_criu_support",
        "enable_pod_events",
        "device_ownership_from_security_context",
        "absent_mount_sources_to_reject",
        "add_inheritable_capabilities",
        "timezone",
        "irqbalance_config_file",
        "rdt_config_file",
        "cdi_spec_dirs",
        "workloads"}},
      {"crio.image", {"registries", "auto_reload_registries"}},
      {"crio.network", {"cni_plugin"}},
      {"crio.metrics", {"metrics_collectors", "metrics_socket", "metrics_cert", "metrics_key"}},
  };
  auto it = TOLERATED.find(table);
  if (it == TOLERATED.end()) return false;
  return std::find(it->second.begin(), it->second.end(), key) != it->second.end();
}

const std::vector<std::string>& knownTables() {
  static const std::vector<std::string> tables = {
      "crio",       "crio.api",     "crio.runtime", "crio.runtime.runtimes",
      "crio.image", "crio.network", "crio.metrics", "crio.suite",
      "crio.stats", "crio.tracing", "crio.nri",     "crio.runtime.workloads",
  };
  return tables;
}

[[noreturn]] void invalid(const std::string& file, const std::string& key,
                          const std::string& reason) {
  fail(ErrorCategory::INVALID_ARGUMENT, file + ": " + key + ": " + reason);
}

std::string typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::vector<std::string> stringArray(const toml::node& node, const std::string& file,
                                     const std::string& key) {
  const toml::array* array = node.as_array();
  if (array == nullptr) invalid(file, key, "expected an array of strings, got " + typeName(node));
  std::vector<std::string> out;
  for (const auto& element : *array) {
    auto value = element.value<std::string>();
    if (!value || !element.is_string()) {
      invalid(file, key, "expected an array of strings, found " + typeName(element));
    }
    out.push_back(*value);
  }
  return out;
}

void applyKey(Config& config, const Key& key, const toml::node& node, const std::string& file) {
  std::string fullKey = std::string(key.table) + "." + key.name;
  std::visit(
      [&](auto member) {
        using T = std::remove_cvref_t<decltype(config.*member)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!node.is_string()) invalid(file, fullKey, "expected a string, got " + typeName(node));
          std::string value = *node.value<std::string>();
          if (key.check) {
            std::string reason = key.check(value);
            if (!reason.empty()) invalid(file, fullKey, "\"" + value + "\" " + reason);
          }
          config.*member = value;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!node.is_boolean()) {
            invalid(file, fullKey, "expected true or false, got " + typeName(node));
          }
          config.*member = *node.value<bool>();
        } else if constexpr (std::is_same_v<T, int64_t>) {
          if (!node.is_integer()) {
            invalid(file, fullKey, "expected an integer, got " + typeName(node));
          }
          int64_t value = *node.value<int64_t>();
          if (value < key.min) {
            invalid(file, fullKey,
                    std::to_string(value) + " is below the minimum " + std::to_string(key.min));
          }
          if (value > key.max) {
            invalid(file, fullKey,
                    std::to_string(value) + " is above the maximum " + std::to_string(key.max));
          }
          config.*member = value;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          config.*member = stringArray(node, file, fullKey);
        } else if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
          // A duration string as CRI-O writes it, or a whole number of seconds.
          if (node.is_integer()) {
            int64_t seconds = *node.value<int64_t>();
            if (seconds < 0 || seconds > 100L * 365 * 24 * 3600) {
              invalid(file, fullKey, std::to_string(seconds) + " is not a duration in seconds");
            }
            config.*member = std::chrono::seconds(seconds);
          } else if (node.is_string()) {
            std::string text = *node.value<std::string>();
            std::chrono::milliseconds value;
            if (!parseDuration(text, value)) {
              invalid(file, fullKey,
                      "\"" + text +
                          "\" is not a duration; write it as \"30s\", \"1m30s\" or "
                          "\"500ms\", or as whole seconds");
            }
            config.*member = value;
          } else {
            invalid(file, fullKey, "expected a duration string or seconds, got " + typeName(node));
          }
        } else {
          const toml::array* array = node.as_array();
          if (array == nullptr) {
            invalid(file, fullKey, "expected an array of integers, got " + typeName(node));
          }
          std::vector<int64_t> out;
          for (const auto& element : *array) {
            if (!element.is_integer()) {
              invalid(file, fullKey, "expected an array of integers, found " + typeName(element));
            }
            int64_t value = *element.value<int64_t>();
            if (value < key.min || value > key.max) {
              invalid(file, fullKey,
                      std::to_string(value) + " is outside " + std::to_string(key.min) + ".." +
                          std::to_string(key.max));
            }
            out.push_back(value);
          }
          config.*member = out;
        }
      },
      key.member);
}

void applyRuntimeHandler(RuntimeHandler& handler, const std::string& name, const toml::table& table,
                         const std::string& file, std::vector<ConfigWarning>& warnings) {
  std::string prefix = "crio.runtime.runtimes." + name + ".";
  for (const auto& [rawKey, node] : table) {
    std::string key(rawKey.str());
    std::string fullKey = prefix + key;
    auto stringValue = [&]() -> std::string {
      if (!node.is_string()) invalid(file, fullKey, "expected a string, got " + typeName(node));
      return *node.value<std::string>();
    };
    if (key == "runtime_path") {
      handler.runtimePath = stringValue();
      std::string reason = absolutePath(handler.runtimePath);
      if (!reason.empty()) invalid(file, fullKey, reason);
    } else if (key == "runtime_type") {
      handler.runtimeType = stringValue();
      std::string reason = oneOf(handler.runtimeType, {"oci"});
      if (!reason.empty()) {
        invalid(file, fullKey, "\"" + handler.runtimeType + "\" " + reason);
      }
    } else if (key == "runtime_root") {
      handler.runtimeRoot = stringValue();
      std::string reason = absolutePath(handler.runtimeRoot);
      if (!reason.empty()) invalid(file, fullKey, reason);
    } else if (key == "monitor_path") {
      handler.monitorPath = stringValue();
      std::string reason = absolutePath(handler.monitorPath);
      if (!reason.empty()) invalid(file, fullKey, reason);
    } else if (key == "monitor_env") {
      handler.monitorEnv = stringArray(node, file, fullKey);
    } else if (key == "allowed_annotations") {
      handler.allowedAnnotations = stringArray(node, file, fullKey);
    } else if (key == "privileged_without_host_devices") {
      if (!node.is_boolean()) {
        invalid(file, fullKey, "expected true or false, got " + typeName(node));
      }
      handler.privilegedWithoutHostDevices = *node.value<bool>();
    } else if (key == "runtime_config_path" || key == "monitor_cgroup" ||
               key == "monitor_exec_cgroup" || key == "platform_runtime_paths" ||
               key == "container_min_memory" || key == "no_sync_log" ||
               key == "default_annotations" || key == "stream_websockets") {
      // CRI-O keys this suite does not act on.
    } else {
      warnings.push_back({file, fullKey, "unknown key, ignored"});
    }
  }
}

// Walks a parsed document, applying known keys and collecting warnings for the rest.
void applyTable(Config& config, const toml::table& root, const std::string& file,
                std::vector<ConfigWarning>& warnings) {
  // Flatten "crio", "crio.api", ... into (table name, table) pairs.
  std::vector<std::pair<std::string, const toml::table*>> tables;
  for (const auto& [key, node] : root) {
    std::string name(key.str());
    if (name != "crio") {
      warnings.push_back({file, name, "unknown table, ignored"});
      continue;
    }
    if (!node.is_table()) invalid(file, name, "expected a table, got " + typeName(node));
    tables.push_back({name, node.as_table()});
  }

  for (size_t i = 0; i < tables.size(); ++i) {
    auto [tableName, table] = tables[i];
    for (const auto& [rawKey, node] : *table) {
      std::string key(rawKey.str());
      std::string fullName = tableName + "." + key;

      if (fullName == "crio.runtime.runtimes") {
        if (!node.is_table()) invalid(file, fullName, "expected a table, got " + typeName(node));
        for (const auto& [handlerName, handlerNode] : *node.as_table()) {
          std::string name(handlerName.str());
          if (!handlerNode.is_table()) {
            invalid(file, fullName + "." + name, "expected a table, got " + typeName(handlerNode));
          }
          applyRuntimeHandler(config.runtimes[name], name, *handlerNode.as_table(), file, warnings);
        }
        continue;
      }

      if (node.is_table()) {
        const auto& known = knownTables();
        if (std::find(known.begin(), known.end(), fullName) == known.end()) {
          warnings.push_back({file, fullName, "unknown table, ignored"});
        } else {
          tables.push_back({fullName, node.as_table()});
        }
        continue;
      }

      const auto& all = keys();
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const Key& k) { return tableName == k.table && key == k.name; });
      if (it != all.end()) {
        applyKey(config, *it, node, file);
      } else if (isTolerated(tableName, key)) {
        log::debug("configuration key not used by this runtime",
                   {{"file", file}, {"key", fullName}});
      } else {
        warnings.push_back({file, fullName, "unknown key, ignored"});
      }
    }
  }
}

// Reads a configuration file: a regular file of at most MAX_CONFIG_FILE_BYTES. O_NONBLOCK keeps
// a FIFO from blocking the open; the type check then rejects it.
std::string readFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) failSyscall("open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int saved = errno;
    close(fd);
    failSyscall("stat", path, saved);
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    fail(ErrorCategory::INVALID_ARGUMENT, path + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > MAX_CONFIG_FILE_BYTES) {
    close(fd);
    fail(ErrorCategory::INVALID_ARGUMENT,
         path + " is larger than " + std::to_string(MAX_CONFIG_FILE_BYTES >> 20) + " MiB");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  text.resize(done);
  return text;
}

toml::array toArray(const std::vector<std::string>& values) {
  toml::array array;
  for (const auto& v : values)
    array.push_back(v);
  return array;
}

toml::table& subTable(toml::table& root, const std::string& dotted) {
  toml::table* current = &root;
  std::string::size_type start = 0;
  while (true) {
    auto dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? dot : dot - start);
    auto* next = current->get_as<toml::table>(part);
    if (next == nullptr) {
      current->insert(part, toml::table{});
      next = current->get_as<toml::table>(part);
    }
    current = next;
    if (dot == std::string::npos) return *current;
    start = dot + 1;
  }
}

}  // namespace

toml::table configTable(const Config& config);

Config Config::defaults(const Paths& paths) {
  Config c;
  c.storageRoot = paths.storageDir();
  c.runRoot = paths.runDir();
  c.logDir = paths.logDir();
  c.listen = paths.criSocket();
  c.defaultCapabilities = {"CHOWN",  "DAC_OVERRIDE", "FSETID",           "FOWNER", "SETGID",
                           "SETUID", "SETPCAP",      "NET_BIND_SERVICE", "KILL"};
  c.containerExitsDir = paths.runDir() + "/exits";
  c.namespacesDir = paths.runDir() + "/ns";
  c.hooksDir = {paths.under("/usr/share/containers/oci/hooks.d")};
  c.runtimes["runc"] = RuntimeHandler{};
  c.signaturePolicyDir = paths.under("/etc/crio/policies");
  c.networkDir = paths.under("/etc/cni/net.d/");
  c.pluginDirs = {"/opt/cni/bin/", "/usr/lib/cni/"};
  c.imagedSocket = paths.imagedSocket();
  c.storedSocket = paths.storedSocket();
  c.stateDir = paths.criStateDir();
  c.cacheDir = paths.imagedCacheDir();
  c.signaturePolicy = paths.under("/etc/containers/policy.json");
  c.registriesConf = paths.under("/etc/containers/registries.conf");
  c.registriesConfDir = paths.under("/etc/containers/registries.conf.d");
  c.registriesDir = paths.under("/etc/containers/registries.d");
  c.certsDir = paths.under("/etc/containers/certs.d");
  c.storageConf = paths.under("/etc/containers/storage.conf");
  return c;
}

void applyConfigText(Config& config, const std::string& text, const std::string& fileName,
                     std::vector<ConfigWarning>& warnings) {
  toml::table root;
  try {
    root = toml::parse(text, fileName);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    fail(ErrorCategory::INVALID_ARGUMENT, fileName + ":" + std::to_string(where.line) + ":" +
                                              std::to_string(where.column) +
                                              ": not valid TOML: " + std::string(e.description()));
  }
  applyTable(config, root, fileName, warnings);
}

LoadedConfig loadConfig(const ConfigSources& sources) {
  LoadedConfig loaded;
  loaded.config = Config::defaults(sources.paths);

  std::string file = sources.file.empty() ? sources.paths.configFile() : sources.file;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    if (fs::is_directory(file, ec)) {
      fail(ErrorCategory::INVALID_ARGUMENT, file + " is a folder, not a configuration file");
    }
    applyConfigText(loaded.config, readFile(file), file, loaded.warnings);
    loaded.filesRead.push_back(file);
  } else if (sources.fileExplicit) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "configuration file " + file + " does not exist; check --config");
  }

  std::string dir = sources.dropInDir.empty() ? sources.paths.configDir() : sources.dropInDir;
  if (sources.dropInDirExplicit && !fs::is_directory(dir, ec)) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "configuration folder " + dir + " does not exist or is not a folder; check --config-dir");
  }
  if (fs::is_directory(dir, ec)) {
    std::vector<std::string> dropIns;
    fs::directory_iterator entries(dir, ec);
    if (ec) fail(ErrorCategory::INVALID_ARGUMENT, "cannot read " + dir + ": " + ec.message());
    for (const auto& entry : entries) {
      if (entry.path().extension() != ".conf") continue;
      if (!entry.is_regular_file(ec)) {
        loaded.warnings.push_back({entry.path().string(), "", "not a regular file, ignored"});
        continue;
      }
      dropIns.push_back(entry.path().string());
    }
    std::sort(dropIns.begin(), dropIns.end());
    for (const auto& path : dropIns) {
      applyConfigText(loaded.config, readFile(path), path, loaded.warnings);
      loaded.filesRead.push_back(path);
    }
  }

  const Config& c = loaded.config;
  if (c.runtimes.find(c.defaultRuntime) == c.runtimes.end()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "crio.runtime.default_runtime: \"" + c.defaultRuntime +
                                              "\" has no [crio.runtime.runtimes." +
                                              c.defaultRuntime + "] table");
  }
  return loaded;
}

toml::table configTable(const Config& config) {
  toml::table root;
  for (const auto& key : keys()) {
    toml::table& table = subTable(root, key.table);
    std::visit(
        [&](auto member) {
          using T = std::remove_cvref_t<decltype(config.*member)>;
          if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            table.insert(key.name, toArray(config.*member));
          } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
            toml::array array;
            for (auto v : config.*member)
              array.push_back(v);
            table.insert(key.name, array);
          } else if constexpr (std::is_same_v<T, std::chrono::milliseconds>) {
            table.insert(key.name, formatDuration(config.*member));
          } else {
            table.insert(key.name, config.*member);
          }
        },
        key.member);
  }
  toml::table& runtimes = subTable(root, "crio.runtime.runtimes");
  for (const auto& [name, handler] : config.runtimes) {
    toml::table t;
    t.insert("runtime_path", handler.runtimePath);
    t.insert("runtime_type", handler.runtimeType);
    t.insert("runtime_root", handler.runtimeRoot);
    t.insert("monitor_path", handler.monitorPath);
    t.insert("monitor_env", toArray(handler.monitorEnv));
    t.insert("allowed_annotations", toArray(handler.allowedAnnotations));
    t.insert("privileged_without_host_devices", handler.privilegedWithoutHostDevices);
    runtimes.insert(name, std::move(t));
  }
  return root;
}

std::string renderConfig(const Config& config) {
  std::ostringstream out;
  out << configTable(config) << "\n";
  return out.str();
}

std::string renderConfigJson(const Config& config) {
  std::ostringstream out;
  out << toml::json_formatter{configTable(config)};
  return out.str();
}

bool parseDuration(const std::string& text, std::chrono::milliseconds& out) {
  // Units in nanoseconds, longest suffix first so that "ms" is not read as "m".
  static const std::pair<const char*, double> UNITS[] = {
      {"ns", 1.0}, {"us", 1e3}, {"\u00b5s", 1e3}, {"ms", 1e6},
      {"s", 1e9},  {"m", 60e9}, {"h", 3600e9},
  };
  // A bound far above any timeout, so that the arithmetic cannot overflow.
  constexpr double MAX_NANOSECONDS = 100.0 * 365 * 24 * 3600e9;

  if (text == "0") {
    out = std::chrono::milliseconds(0);
    return true;
  }
  if (text.empty() || text.size() > 64) return false;
  double total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = pos;
    while (pos < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.'))
      ++pos;
    std::string number = text.substr(start, pos - start);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) {
      return false;
    }
    const std::pair<const char*, double>* unit = nullptr;
    for (const auto& candidate : UNITS) {
      std::string suffix = candidate.first;
      if (text.compare(pos, suffix.size(), suffix) == 0 &&
          (unit == nullptr || suffix.size() > std::string(unit->first).size())) {
        unit = &candidate;
      }
    }
    if (unit == nullptr) return false;
    pos += std::string(unit->first).size();
    total += std::stod(number) * unit->second;
    if (total > MAX_NANOSECONDS) return false;
  }
  auto milliseconds = static_cast<int64_t>(total / 1e6);
  if (static_cast<double>(milliseconds) * 1e6 < total) ++milliseconds;
  out = std::chrono::milliseconds(milliseconds);
  return true;
}

std::string formatDuration(std::chrono::milliseconds duration) {
  int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t hours = ms / 3600000;
  int64_t minutes = (ms / 60000) % 60;
  int64_t seconds = (ms / 1000) % 60;
  int64_t fraction = ms % 1000;
  std::string out;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += std::to_string(seconds);
  if (fraction > 0) {
    std::string digits = std::to_string(fraction + 1000).substr(1);
    while (digits.back() == '0')
      digits.pop_back();
    out += "." + digits;
  }
  return out + "s";
}

std::string effectiveCgroupManager(const Config& config) {
  if (!config.cgroupManager.empty()) return config.cgroupManager;
  return access("/run/systemd/system", F_OK) == 0 ? "systemd" : "cgroupfs";
}

}  // namespace crio
