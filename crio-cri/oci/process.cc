#include "crio-cri/oci/process.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <unordered_map>

#include "common/error.h"
#include "crio-cri/oci/container-path.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

// Resource names of setrlimit(2) as default_ulimits spells them (ulimit's names, as CRI-O's).
constexpr const char* RLIMIT_NAMES[] = {
    "as",   "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue",
    "nice", "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",
};

void checkNoNul(const std::string& value, const std::string& field) {
  if (value.find('\0') != std::string::npos) {
    fail(ErrorCategory::INVALID_ARGUMENT, field + " " + quoteValue(value) + " contains a NUL byte");
  }
}

// An environment under construction: variables in first-set order, found by key in constant
// time, because an image's Env is untrusted and may be long.
class Environment {
 public:
  void set(const std::string& key, const std::string& value) {
    auto [it, inserted] = index_.emplace(key, entries_.size());
    if (inserted) {
      entries_.emplace_back(key, value);
    } else {
      entries_[it->second].second = value;
    }
  }

  bool has(const std::string& key) const { return index_.count(key) > 0; }

  std::vector<std::string> list() const {
    std::vector<std::string> result;
    result.reserve(entries_.size());
    for (const auto& [key, value] : entries_)
      result.push_back(key + "=" + value);
    return result;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

std::string lower(std::string_view text) {
  std::string result(text);
  for (char& c : result)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return result;
}

// Parses one rlimit value: a decimal count or -1 for unlimited (OCI's 2^64-1).
bool parseLimit(std::string_view text, uint64_t& value) {
  if (text == "-1") {
    value = std::numeric_limits<uint64_t>::max();
    return true;
  }
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::vector<std::string> resolveArgs(const std::vector<std::string>& command,
                                     const std::vector<std::string>& args,
                                     const ImageConfig& image) {
  std::vector<std::string> result;
  if (!command.empty()) {
    result = command;
    result.insert(result.end(), args.begin(), args.end());
  } else if (!args.empty()) {
    result = image.entrypoint;
    result.insert(result.end(), args.begin(), args.end());
  } else {
    result = image.entrypoint;
    result.insert(result.end(), image.cmd.begin(), image.cmd.end());
  }

  if (result.empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "no command specified: the request has no command or args and the image has no "
         "Entrypoint or Cmd");
  }
  for (size_t i = 0; i < result.size(); i++) {
    checkNoNul(result[i], "argument " + std::to_string(i));
  }
  return result;
}

std::vector<std::string> buildEnv(const ImageConfig& image, const EnvRequest& request) {
  Environment env;
  for (const auto& entry : image.env) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) continue;
    env.set(entry.substr(0, equals), entry.substr(equals + 1));
  }

  if (!request.hostname.empty()) env.set("HOSTNAME", request.hostname);

  for (size_t i = 0; i < request.envs.size(); i++) {
    const auto& [key, value] = request.envs[i];
    std::string field = "envs[" + std::to_string(i) + "]";
    if (key.empty()) fail(ErrorCategory::INVALID_ARGUMENT, field + ".key is empty");
    if (key.find('=') != std::string::npos) {
      fail(ErrorCategory::INVALID_ARGUMENT, field + ".key " + quoteValue(key) + " contains \"=\"");
    }
    checkNoNul(key, field + ".key");
    checkNoNul(value, field + ".value of " + key);
    env.set(key, value);
  }

  if (!env.has("PATH")) env.set("PATH", DEFAULT_PATH);
  if (request.tty && !env.has("TERM")) env.set("TERM", "xterm");
  return env.list();
}

std::string resolveWorkingDir(const std::string& requested, const ImageConfig& image) {
  if (!requested.empty()) return cleanContainerPath(requested, "working_dir");
  if (!image.workingDir.empty()) {
    std::string path = image.workingDir;
    if (path[0] != '/') path = "/" + path;
    return cleanContainerPath(path, "image config WorkingDir");
  }
  return "/";
}

void checkArgsAndEnvSize(const std::vector<std::string>& args,
                         const std::vector<std::string>& env) {
  size_t total = 0;
  for (const auto& arg : args)
    total += arg.size() + 1;
  for (const auto& entry : env)
    total += entry.size() + 1;
  if (total > MAX_ARGS_AND_ENV_BYTES) {
    fail(ErrorCategory::INVALID_ARGUMENT, "arguments and environment are " + std::to_string(total) +
                                              " bytes, more than the bound of " +
                                              std::to_string(MAX_ARGS_AND_ENV_BYTES));
  }
}

nlohmann::json buildRlimits(const std::vector<std::string>& ulimits) {
  nlohmann::json rlimits = nlohmann::json::array();
  for (const auto& entry : ulimits) {
    auto reject = [&](const std::string& reason) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "[crio.runtime] default_ulimits entry " + quoteValue(entry) + ": " + reason);
    };

    size_t equals = entry.find('=');
    if (equals == std::string::npos) reject("expected NAME=SOFT[:HARD], such as nofile=1024:2048");
    std::string name = lower(entry.substr(0, equals));
    if (std::find_if(std::begin(RLIMIT_NAMES), std::end(RLIMIT_NAMES),
                     [&](const char* known) { return name == known; }) == std::end(RLIMIT_NAMES)) {
      reject("unknown resource name " + quoteValue(name));
    }

    std::string_view values = std::string_view(entry).substr(equals + 1);
    size_t colon = values.find(':');
    uint64_t soft = 0;
    uint64_t hard = 0;
    if (!parseLimit(values.substr(0, colon), soft)) reject("the soft limit is not a number or -1");
    hard = soft;
    if (colon != std::string_view::npos && !parseLimit(values.substr(colon + 1), hard)) {
      reject("the hard limit is not a number or -1");
    }
    if (soft > hard) reject("the soft limit is above the hard limit");

    std::string type = "RLIMIT_" + name;
    for (char& c : type)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // A later entry for the same resource replaces an earlier one.
    auto same = std::find_if(rlimits.begin(), rlimits.end(),
                             [&](const nlohmann::json& r) { return r["type"] == type; });
    nlohmann::json rlimit = {{"type", type}, {"soft", soft}, {"hard", hard}};
    if (same != rlimits.end()) {
      *same = rlimit;
    } else {
      rlimits.push_back(rlimit);
    }
  }
  return rlimits;
}

}  // namespace crio::cri::oci
