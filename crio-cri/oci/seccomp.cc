#include "crio-cri/oci/seccomp.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

// Largest errno value the kernel's seccomp return value can carry (MAX_ERRNO).
constexpr uint64_t MAX_ERRNO_VALUE = 4095;
// System calls have at most six arguments.
constexpr size_t MAX_SYSCALL_ARGS = 6;
constexpr size_t MAX_SYSCALL_NAME_BYTES = 64;

constexpr std::string_view ACTIONS[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE",        "SCMP_ACT_ALLOW",       "SCMP_ACT_LOG",
};

constexpr std::string_view OPERATORS[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

// Filter flags runc 1.1 passes to seccomp(2).
constexpr std::string_view FLAGS[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
};

constexpr std::string_view ARCHITECTURES[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

template <size_t N>
bool isOneOf(std::string_view value, const std::string_view (&list)[N]) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

// Architecture names a Docker profile's "arches" condition may use for `machine`: Go's names, as
// moby writes them, and the kernel's.
std::vector<std::string> architectureAliases(const std::string& machine) {
  if (machine == "x86_64") return {"amd64", "x86_64"};
  if (machine == "aarch64") return {"arm64", "aarch64"};
  if (machine == "i686" || machine == "i386") return {"386", "x86"};
  if (machine.rfind("arm", 0) == 0) return {"arm"};
  return {machine};
}

// Reads and checks a profile for one container; every error names the source.
class ProfileConverter {
 public:
  ProfileConverter(const SeccompContext& context, const std::string& source)
      : context_(context), source_(source) {}

  nlohmann::json convert(const nlohmann::json& profile) {
    if (!profile.is_object()) invalid("the profile is not a JSON object");

    nlohmann::json result;
    result["defaultAction"] = action(profile, "defaultAction", "defaultAction");
    if (profile.contains("defaultErrnoRet")) {
      result["defaultErrnoRet"] = errnoValue(profile["defaultErrnoRet"], "defaultErrnoRet");
    }
    result["architectures"] = architectures(profile);

    if (profile.contains("flags") && !profile["flags"].is_null()) {
      nlohmann::json flags = nlohmann::json::array();
      for (const auto& flag : stringList(profile["flags"], "flags")) {
        if (!isOneOf(flag, FLAGS)) invalid("flags: unknown flag " + quoteValue(flag));
        flags.push_back(flag);
      }
      result["flags"] = flags;
    }
    if (profile.contains("listenerPath") && profile["listenerPath"].is_string() &&
        !profile["listenerPath"].get<std::string>().empty()) {
      unsupported("listenerPath: seccomp notification listeners are not supported");
    }

    nlohmann::json rules = nlohmann::json::array();
    if (profile.contains("syscalls") && !profile["syscalls"].is_null()) {
      const auto& syscalls = profile["syscalls"];
      if (!syscalls.is_array()) invalid("syscalls is not a list");
      if (syscalls.size() > MAX_SECCOMP_RULES) {
        invalid("syscalls has " + std::to_string(syscalls.size()) + " rules, more than " +
                std::to_string(MAX_SECCOMP_RULES));
      }
      for (size_t i = 0; i < syscalls.size(); i++) {
        if (auto rule = convertRule(syscalls[i], "syscalls[" + std::to_string(i) + "]")) {
          rules.push_back(std::move(*rule));
        }
      }
    }
    result["syscalls"] = rules;
    return result;
  }

 private:
  [[noreturn]] void invalid(const std::string& reason) const {
    fail(ErrorCategory::INVALID_ARGUMENT, "seccomp profile " + source_ + ": " + reason);
  }
  [[noreturn]] void unsupported(const std::string& reason) const {
    fail(ErrorCategory::UNIMPLEMENTED, "seccomp profile " + source_ + ": " + reason);
  }

  std::vector<std::string> stringList(const nlohmann::json& value, const std::string& field) {
    if (!value.is_array()) invalid(field + " is not a list of strings");
    std::vector<std::string> items;
    for (const auto& item : value) {
      if (!item.is_string()) invalid(field + " is not a list of strings");
      items.push_back(item.get<std::string>());
    }
    return items;
  }

  uint64_t unsignedValue(const nlohmann::json& value, const std::string& field) {
    if (value.is_number_unsigned()) return value.get<uint64_t>();
    if (value.is_number_integer() && value.get<int64_t>() >= 0) return value.get<uint64_t>();
    invalid(field + " is not a non-negative integer");
  }

  uint64_t errnoValue(const nlohmann::json& value, const std::string& field) {
    uint64_t number = unsignedValue(value, field);
    if (number > MAX_ERRNO_VALUE) {
      invalid(field + " " + std::to_string(number) + " is above " +
              std::to_string(MAX_ERRNO_VALUE));
    }
    return number;
  }

  std::string action(const nlohmann::json& object, const char* key, const std::string& field) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) invalid(field + " is missing or not a string");
    std::string name = it->get<std::string>();
    if (name == "SCMP_ACT_NOTIFY") unsupported(field + ": SCMP_ACT_NOTIFY is not supported");
    if (!isOneOf(name, ACTIONS)) invalid(field + ": unknown action " + quoteValue(name));
    return name;
  }

  nlohmann::json architectures(const nlohmann::json& profile) {
    bool hasList = profile.contains("architectures") && !profile["architectures"].is_null() &&
                   !profile["architectures"].empty();
    bool hasMap =
        profile.contains("archMap") && !profile["archMap"].is_null() && !profile["archMap"].empty();
    if (hasList && hasMap) invalid("set either architectures or archMap, not both");

    std::vector<std::string> result;
    if (hasList) {
      result = stringList(profile["architectures"], "architectures");
    } else if (hasMap) {
      const auto& map = profile["archMap"];
      if (!map.is_array()) invalid("archMap is not a list");
      std::vector<std::string> native = seccompArchitectures(context_.machine);
      for (const auto& entry : map) {
        if (!entry.is_object() || !entry.contains("architecture") ||
            !entry["architecture"].is_string()) {
          invalid("archMap entry without an architecture");
        }
        if (native.empty() || entry["architecture"] != native.front()) continue;
        result.push_back(native.front());
        if (entry.contains("subArchitectures") && !entry["subArchitectures"].is_null()) {
          for (const auto& sub : stringList(entry["subArchitectures"], "subArchitectures")) {
            result.push_back(sub);
          }
        }
      }
    }
    for (const auto& arch : result) {
      if (!isOneOf(arch, ARCHITECTURES)) invalid("unknown architecture " + quoteValue(arch));
    }
    return result;
  }

  // Docker's "includes" or "excludes" object of a rule.
  struct Condition {
    std::vector<std::string> caps;
    std::vector<std::string> arches;
    std::optional<std::pair<int, int>> minKernel;
  };

  Condition readCondition(const nlohmann::json& object, const std::string& field) {
    if (!object.is_object()) invalid(field + " is not an object");
    Condition condition;
    if (object.contains("caps") && !object["caps"].is_null()) {
      condition.caps = stringList(object["caps"], field + ".caps");
    }
    if (object.contains("arches") && !object["arches"].is_null()) {
      condition.arches = stringList(object["arches"], field + ".arches");
    }
    if (object.contains("minKernel") && !object["minKernel"].is_null()) {
      if (!object["minKernel"].is_string()) invalid(field + ".minKernel is not a string");
      std::string version = object["minKernel"].get<std::string>();
      int major = 0;
      int minor = 0;
      if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) < 1) {
        invalid(field + ".minKernel " + quoteValue(version) + " is not a kernel version");
      }
      condition.minKernel = std::make_pair(major, minor);
    }
    return condition;
  }

  bool machineListed(const std::vector<std::string>& arches) const {
    std::vector<std::string> names = architectureAliases(context_.machine);
    std::vector<std::string> native = seccompArchitectures(context_.machine);
    if (!native.empty()) names.push_back(native.front());
    return std::any_of(arches.begin(), arches.end(), [&](const std::string& arch) {
      return std::find(names.begin(), names.end(), arch) != names.end();
    });
  }

  // "includes" holds when the container has every listed capability, the node's machine is
  // listed (or no arches are), and the kernel is at least minKernel.
  bool includesHold(const Condition& condition) const {
    bool caps = std::all_of(condition.caps.begin(), condition.caps.end(),
                            [&](const std::string& cap) { return context_.hasCapability(cap); });
    bool arches = condition.arches.empty() || machineListed(condition.arches);
    bool kernel = !condition.minKernel ||
                  context_.kernelAtLeast(condition.minKernel->first, condition.minKernel->second);
    return caps && arches && kernel;
  }

  // "excludes" drops the rule when the container has any listed capability, the machine is
  // listed, or the kernel is at least minKernel, as moby reads it.
  bool excludesHold(const Condition& condition) const {
    bool caps = std::any_of(condition.caps.begin(), condition.caps.end(),
                            [&](const std::string& cap) { return context_.hasCapability(cap); });
    bool kernel = condition.minKernel &&
                  context_.kernelAtLeast(condition.minKernel->first, condition.minKernel->second);
    return caps || machineListed(condition.arches) || kernel;
  }

  std::optional<nlohmann::json> convertRule(const nlohmann::json& rule, const std::string& field) {
    if (!rule.is_object()) invalid(field + " is not an object");

    if (rule.contains("includes") && !rule["includes"].is_null() &&
        !includesHold(readCondition(rule["includes"], field + ".includes"))) {
      return std::nullopt;
    }
    if (rule.contains("excludes") && !rule["excludes"].is_null() &&
        excludesHold(readCondition(rule["excludes"], field + ".excludes"))) {
      return std::nullopt;
    }

    std::vector<std::string> names;
    if (rule.contains("names") && !rule["names"].is_null()) {
      names = stringList(rule["names"], field + ".names");
    }
    if (rule.contains("name") && !rule["name"].is_null()) {
      if (!rule["name"].is_string()) invalid(field + ".name is not a string");
      names.push_back(rule["name"].get<std::string>());
    }
    if (names.empty()) invalid(field + " names no system call");
    for (const auto& name : names) {
      bool valid = !name.empty() && name.size() <= MAX_SYSCALL_NAME_BYTES &&
                   std::all_of(name.begin(), name.end(), [](char c) {
                     return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                   });
      if (!valid) invalid(field + ": invalid system call name " + quoteValue(name));
    }
    nameCount_ += names.size();
    if (nameCount_ > MAX_SECCOMP_NAMES) {
      invalid("more than " + std::to_string(MAX_SECCOMP_NAMES) + " system call names");
    }

    nlohmann::json converted = {{"names", names}, {"action", action(rule, "action", field)}};
    if (rule.contains("errnoRet") && !rule["errnoRet"].is_null()) {
      converted["errnoRet"] = errnoValue(rule["errnoRet"], field + ".errnoRet");
    }
    if (rule.contains("args") && !rule["args"].is_null()) {
      converted["args"] = arguments(rule["args"], field + ".args");
    }
    return converted;
  }

  nlohmann::json arguments(const nlohmann::json& args, const std::string& field) {
    if (!args.is_array()) invalid(field + " is not a list");
    if (args.size() > MAX_SYSCALL_ARGS) invalid(field + " has more than six entries");
    nlohmann::json result = nlohmann::json::array();
    for (size_t i = 0; i < args.size(); i++) {
      const auto& arg = args[i];
      std::string argField = field + "[" + std::to_string(i) + "]";
      if (!arg.is_object()) invalid(argField + " is not an object");
      if (!arg.contains("index") || !arg.contains("value") || !arg.contains("op")) {
        invalid(argField + " needs index, value and op");
      }
      uint64_t index = unsignedValue(arg["index"], argField + ".index");
      if (index >= MAX_SYSCALL_ARGS) invalid(argField + ".index is above 5");
      uint64_t value = unsignedValue(arg["value"], argField + ".value");
      uint64_t valueTwo = 0;
      if (arg.contains("valueTwo") && !arg["valueTwo"].is_null()) {
        valueTwo = unsignedValue(arg["valueTwo"], argField + ".valueTwo");
      }
      if (!arg["op"].is_string() || !isOneOf(arg["op"].get<std::string>(), OPERATORS)) {
        invalid(argField + ".op is not a known SCMP_CMP_ operator");
      }
      result.push_back(
          {{"index", index}, {"value", value}, {"valueTwo", valueTwo}, {"op", arg["op"]}});
    }
    return result;
  }

  const SeccompContext& context_;
  std::string source_;
  size_t nameCount_ = 0;
};

std::string readProfileFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) failSyscall("open seccomp profile", path);
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    fail(ErrorCategory::INVALID_ARGUMENT, "seccomp profile " + path + " is not a regular file");
  }
  std::string content;
  char buffer[16384];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      close(fd);
      failSyscall("read seccomp profile", path, saved);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > MAX_SECCOMP_PROFILE_BYTES) {
      close(fd);
      fail(ErrorCategory::INVALID_ARGUMENT,
           "seccomp profile " + path + " is larger than the bound of " +
               std::to_string(MAX_SECCOMP_PROFILE_BYTES) + " bytes");
    }
  }
  close(fd);
  return content;
}

}  // namespace

SeccompSelection parseSeccompProfilePath(const std::string& value) {
  if (value.empty()) return {};
  if (value == "runtime/default" || value == "docker/default") {
    return {SeccompKind::RUNTIME_DEFAULT, ""};
  }
  if (value == "unconfined") return {SeccompKind::UNCONFINED, ""};
  const std::string prefix = "localhost/";
  if (value.rfind(prefix, 0) == 0) return {SeccompKind::LOCALHOST, value.substr(prefix.size())};
  fail(ErrorCategory::INVALID_ARGUMENT,
       "seccomp_profile_path " + quoteValue(value) +
           " is not runtime/default, docker/default, unconfined or localhost/PATH");
}

nlohmann::json convertSeccompProfile(const nlohmann::json& profile, const SeccompContext& context,
                                     const std::string& source) {
  return ProfileConverter(context, source).convert(profile);
}

nlohmann::json loadSeccompProfileFile(const std::string& path, const SeccompContext& context) {
  if (path.empty() || path[0] != '/') {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "seccomp profile path " + quoteValue(path) + " is not an absolute path");
  }
  std::string text = readProfileFile(path);
  nlohmann::json profile;
  try {
    profile = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "seccomp profile " + path + " is not valid JSON: " + e.what());
  }
  return convertSeccompProfile(profile, context, path);
}

std::optional<nlohmann::json> chooseSeccomp(const SeccompSelection& selection, bool privileged,
                                            const SeccompContext& context,
                                            const std::string& configProfilePath) {
  if (privileged) return std::nullopt;

  switch (selection.kind) {
    case SeccompKind::UNSET:
    case SeccompKind::UNCONFINED:
      return std::nullopt;
    case SeccompKind::RUNTIME_DEFAULT: {
      struct stat st {};
      if (!configProfilePath.empty() && stat(configProfilePath.c_str(), &st) == 0) {
        return loadSeccompProfileFile(configProfilePath, context);
      }
      return defaultSeccompProfile(context);
    }
    case SeccompKind::LOCALHOST:
      return withContext("security_context.seccomp localhost_ref",
                         [&] { return loadSeccompProfileFile(selection.localhostPath, context); });
  }
  return std::nullopt;
}

}  // namespace crio::cri::oci
