#include "crio-cri/oci/sysctls.h"

#include <map>
#include <optional>

#include "common/error.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

enum class SysctlNamespace { NETWORK, IPC, UTS };

// kubelet's normalization: with "/" as the separator, "/" and "." swap roles, so that a dot
// inside a component ("eth0.100") survives.
std::string normalizeName(const std::string& name) {
  size_t slash = name.find('/');
  size_t dot = name.find('.');
  if (slash == std::string::npos || (dot != std::string::npos && dot < slash)) return name;
  std::string normalized = name;
  for (char& c : normalized) {
    if (c == '/') {
      c = '.';
    } else if (c == '.') {
      c = '/';
    }
  }
  return normalized;
}

bool startsWith(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

std::optional<SysctlNamespace> namespaceOf(const std::string& name) {
  if (startsWith(name, "net.")) return SysctlNamespace::NETWORK;
  if (startsWith(name, "kernel.shm") || startsWith(name, "kernel.msg") || name == "kernel.sem" ||
      startsWith(name, "fs.mqueue.")) {
    return SysctlNamespace::IPC;
  }
  if (name == "kernel.hostname" || name == "kernel.domainname") return SysctlNamespace::UTS;
  return std::nullopt;
}

[[noreturn]] void rejectSysctl(const std::string& source, const std::string& name,
                               const std::string& reason) {
  fail(ErrorCategory::INVALID_ARGUMENT, source + " " + quoteValue(name) + " " + reason);
}

// Checks one sysctl. Returns false when it must be skipped (a default that does not apply);
// throws for a pod's sysctl that cannot be set.
bool checkSysctl(const std::string& name, const std::string& value, const SysctlRequest& request,
                 const std::string& source, bool skipInapplicable) {
  if (name.empty() || name.size() > MAX_SYSCTL_NAME_BYTES ||
      name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/") !=
          std::string::npos) {
    rejectSysctl(source, name, "is not a valid sysctl name");
  }
  if (value.size() > MAX_SYSCTL_VALUE_BYTES ||
      value.find_first_of(std::string("\n\0", 2)) != std::string::npos) {
    rejectSysctl(source, name, "has a value longer than 4096 bytes or with a newline or NUL");
  }

  auto kind = namespaceOf(name);
  if (!kind) {
    rejectSysctl(source, name,
                 "is not namespaced; only net.*, kernel.shm*, kernel.msg*, kernel.sem, "
                 "fs.mqueue.*, kernel.hostname and kernel.domainname can be set for a container");
  }
  bool shared = (*kind != SysctlNamespace::IPC && request.hostNetwork) ||
                (*kind == SysctlNamespace::IPC && request.hostIpc);
  if (!shared) return true;
  if (skipInapplicable) return false;
  rejectSysctl(source, name,
               *kind != SysctlNamespace::IPC
                   ? "cannot be set for a pod in the host's network namespace"
                   : "cannot be set for a pod in the host's IPC namespace");
}

}  // namespace

nlohmann::json buildSysctls(const SysctlRequest& request) {
  std::map<std::string, std::string> sysctls;

  for (const auto& entry : request.defaults) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "[crio.runtime] default_sysctls entry " + quoteValue(entry) + " is not NAME=VALUE");
    }
    std::string name = normalizeName(entry.substr(0, equals));
    std::string value = entry.substr(equals + 1);
    if (checkSysctl(name, value, request, "[crio.runtime] default_sysctls entry", true)) {
      sysctls[name] = value;
    }
  }

  if (request.podSysctls != nullptr) {
    if (request.podSysctls->size() > MAX_SYSCTLS) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "the pod has " + std::to_string(request.podSysctls->size()) + " sysctls, more than " +
               std::to_string(MAX_SYSCTLS));
    }
    for (const auto& [rawName, value] : *request.podSysctls) {
      std::string name = normalizeName(rawName);
      checkSysctl(name, value, request, "sysctl", false);
      sysctls[name] = value;
    }
  }

  nlohmann::json json = nlohmann::json::object();
  for (const auto& [name, value] : sysctls)
    json[name] = value;
  return json;
}

}  // namespace crio::cri::oci
