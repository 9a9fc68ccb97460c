// Finding and executing one CNI plugin binary (CNI spec 1.0.0 section 2).
//
// The plugin gets the daemon's environment without any inherited CNI_* variable, plus
// CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH (the plugin dirs
// joined with ':', where it finds delegated plugins such as IPAM). Its configuration arrives on
// stdin. It runs in the daemon's own namespaces, as the spec requires.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace crio::cri {

// Bound on one plugin execution. On expiry the plugin and everything it started are killed.
constexpr std::chrono::milliseconds CNI_PLUGIN_TIMEOUT = std::chrono::seconds(60);
// Bound on a plugin's stdout (its result). A plugin writing more is killed and fails.
constexpr size_t MAX_CNI_PLUGIN_OUTPUT_BYTES = 1 << 20;
// Bound on the stderr kept for messages and logs. More is read and dropped.
constexpr size_t MAX_CNI_PLUGIN_STDERR_BYTES = 16 << 10;

// Checks that a plugin `type` names a file: not empty, no '/', not "." or "..", at most 255
// bytes. Throws INVALID_ARGUMENT.
void validatePluginType(const std::string& type);

// The first executable regular file named `type` in `dirs`, nullopt when there is none.
std::optional<std::string> locateCniPlugin(const std::string& type,
                                           const std::vector<std::string>& dirs);

// The same, throwing FAILED_PRECONDITION that names the plugin and every dir searched.
std::string findCniPlugin(const std::string& type, const std::vector<std::string>& dirs);

struct CniInvocation {
  std::string command;  // ADD, DEL, CHECK or VERSION
  std::string containerId;
  std::string netns;  // "" leaves CNI_NETNS empty, which DEL allows for a namespace gone
  std::string ifName;
  std::string args;  // CNI_ARGS
  std::vector<std::string> pluginDirs;
  std::chrono::milliseconds timeout = CNI_PLUGIN_TIMEOUT;
};

// The plugin's environment (see above), as "KEY=VALUE" strings.
std::vector<std::string> cniEnvironment(const CniInvocation& invocation);

// Runs the plugin binary at `path` for `invocation` with `config` on stdin and returns its
// stdout. Throws crio::Error naming the plugin type and the command:
//   - the plugin's error result: its code, the code's meaning, msg and details (UNAVAILABLE for
//     code 11 "Try again later", INTERNAL otherwise);
//   - another failed exit: the exit status and the end of stderr (INTERNAL);
//   - the timeout (DEADLINE_EXCEEDED) or the output bound (RESOURCE_EXHAUSTED).
std::string runCniPlugin(const std::string& type, const std::string& path,
                         const CniInvocation& invocation, const std::string& config);

}  // namespace crio::cri
