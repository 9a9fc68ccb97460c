#include "crio-cri/network/cni-plugin.h"

#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/process-spawn.h"
#include "crio-cri/network/cni-result.h"

namespace crio::cri {

namespace {

// The part of stderr quoted in an error message; the whole bounded stderr goes to the log.
constexpr size_t QUOTED_STDERR_BYTES = 1024;
// Used when the daemon itself runs without PATH: plugins such as portmap execute iptables.
constexpr const char* DEFAULT_PATH =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string joinDirs(const std::vector<std::string>& dirs, const char* separator) {
  std::string out;
  for (const auto& dir : dirs) {
    if (!out.empty()) out += separator;
    out += dir;
  }
  return out;
}

std::string tail(const std::string& text, size_t bytes) {
  size_t end = text.find_last_not_of(" \t\r\n");
  std::string trimmed = end == std::string::npos ? "" : text.substr(0, end + 1);
  if (trimmed.size() <= bytes) return trimmed;
  return "..." + trimmed.substr(trimmed.size() - bytes);
}

}  // namespace

void validatePluginType(const std::string& type) {
  if (type.empty() || type == "." || type == ".." || type.size() > 255 ||
      type.find('/') != std::string::npos || type.find('\0') != std::string::npos) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "invalid CNI plugin type \"" + type.substr(0, 255) + "\": it must be a file name");
  }
}

std::optional<std::string> locateCniPlugin(const std::string& type,
                                           const std::vector<std::string>& dirs) {
  validatePluginType(type);
  for (const auto& dir : dirs) {
    if (dir.empty()) continue;
    std::string path = dir.back() == '/' ? dir + type : dir + "/" + type;
    struct stat info;
    if (stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return std::nullopt;
}

std::string findCniPlugin(const std::string& type, const std::vector<std::string>& dirs) {
  if (auto path = locateCniPlugin(type, dirs)) return *path;
  fail(ErrorCategory::FAILED_PRECONDITION,
       "CNI plugin \"" + type + "\" not found in " +
           (dirs.empty() ? "(no plugin dirs)" : joinDirs(dirs, ", ")));
}

std::vector<std::string> cniEnvironment(const CniInvocation& invocation) {
  std::vector<std::string> env = currentEnvironment("CNI_");
  bool hasPath = false;
  for (const auto& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) hasPath = true;
  }
  if (!hasPath) env.push_back(DEFAULT_PATH);
  env.push_back("CNI_COMMAND=" + invocation.command);
  env.push_back("CNI_CONTAINERID=" + invocation.containerId);
  env.push_back("CNI_NETNS=" + invocation.netns);
  env.push_back("CNI_IFNAME=" + invocation.ifName);
  env.push_back("CNI_ARGS=" + invocation.args);
  env.push_back("CNI_PATH=" + joinDirs(invocation.pluginDirs, ":"));
  return env;
}

std::string runCniPlugin(const std::string& type, const std::string& path,
                         const CniInvocation& invocation, const std::string& config) {
  ProcessRequest request;
  request.path = path;
  request.argv = {path};
  request.env = cniEnvironment(invocation);
  request.stdinData = config;
  request.maxStdoutBytes = MAX_CNI_PLUGIN_OUTPUT_BYTES;
  request.maxStderrBytes = MAX_CNI_PLUGIN_STDERR_BYTES;
  request.timeout = invocation.timeout;

  std::string what = "CNI plugin " + type + " " + invocation.command;
  ProcessResult result = withContext(what, [&]() { return runProcess(request); });
  auto elapsedMs = result.elapsed.count() / 1000;
  if (!result.stderrData.empty()) {
    log::debug("CNI plugin stderr",
               {{"pod", invocation.containerId},
                {"plugin", type},
                {"command", invocation.command},
                {"stderr", tail(result.stderrData, MAX_CNI_PLUGIN_STDERR_BYTES)}});
  }

  if (result.timedOut) {
    fail(ErrorCategory::DEADLINE_EXCEEDED, what + " timed out after " +
                                               std::to_string(invocation.timeout.count()) +
                                               " ms and was killed");
  }
  if (result.stdoutExceeded) {
    fail(ErrorCategory::RESOURCE_EXHAUSTED, what + " wrote more than " +
                                                std::to_string(MAX_CNI_PLUGIN_OUTPUT_BYTES) +
                                                " bytes to stdout and was killed");
  }
  if (result.succeeded()) {
    log::debug("CNI plugin succeeded", {{"pod", invocation.containerId},
                                        {"plugin", type},
                                        {"command", invocation.command},
                                        {"ms", elapsedMs}});
    return result.stdoutData;
  }

  if (auto error = parseCniError(result.stdoutData)) {
    std::string meaning = cniErrorCodeName(error->code);
    std::string message = what + " failed: code " + std::to_string(error->code);
    if (!meaning.empty()) message += " (" + meaning + ")";
    if (!error->msg.empty()) message += ": " + error->msg;
    if (!error->details.empty()) message += ": " + error->details;
    fail(error->code == 11 ? ErrorCategory::UNAVAILABLE : ErrorCategory::INTERNAL, message);
  }
  std::string output = tail(result.stderrData, QUOTED_STDERR_BYTES);
  if (output.empty()) output = tail(result.stdoutData, QUOTED_STDERR_BYTES);
  fail(ErrorCategory::INTERNAL, what + " failed with " + result.describeEnd(request) +
                                    (output.empty() ? "" : ": " + output));
}

}  // namespace crio::cri
