#include "crio-cri/oci/capabilities.h"

#include <algorithm>
#include <bitset>
#include <cctype>

#include "common/error.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

// Names from linux/capability.h, indexed by capability number.
constexpr const char* CAPABILITY_NAMES[LAST_NAMED_CAPABILITY + 1] = {
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
};

using CapabilityBits = std::bitset<LAST_NAMED_CAPABILITY + 1>;

// The name in upper case without "CAP_".
std::string normalized(std::string_view name) {
  std::string upper(name);
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("CAP_", 0) == 0) upper.erase(0, 4);
  return upper;
}

bool isAll(std::string_view name) {
  return normalized(name) == "ALL";
}

bool grantable(const CapabilityRequest& request, int number) {
  return ((request.grantable >> number) & 1) != 0;
}

// Every capability of the kernel that the node can grant.
CapabilityBits allCapabilities(const CapabilityRequest& request) {
  CapabilityBits bits;
  for (int i = 0; i <= std::min(request.lastCapability, LAST_NAMED_CAPABILITY); i++) {
    if (grantable(request, i)) bits.set(i);
  }
  return bits;
}

int requireCapability(std::string_view name, std::string_view list) {
  auto number = capabilityNumber(name);
  if (!number) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string(list) + ": unknown capability " + quoteValue(name));
  }
  return *number;
}

}  // namespace

std::optional<int> capabilityNumber(std::string_view name) {
  std::string expected = normalized(name);
  for (int i = 0; i <= LAST_NAMED_CAPABILITY; i++) {
    if (expected == CAPABILITY_NAMES[i]) return i;
  }
  return std::nullopt;
}

std::string capabilityName(int number) {
  return std::string("CAP_") + CAPABILITY_NAMES[number];
}

std::vector<std::string> resolveCapabilities(const CapabilityRequest& request) {
  CapabilityBits bits;
  if (request.privileged) {
    bits = allCapabilities(request);
  } else {
    for (const auto& name : request.defaults) {
      bits.set(requireCapability(name, "[crio.runtime] default_capabilities"));
    }

    bool addAll = std::any_of(request.add.begin(), request.add.end(), isAll);
    bool dropAll = std::any_of(request.drop.begin(), request.drop.end(), isAll);
    if (addAll) bits = allCapabilities(request);
    if (dropAll) bits.reset();

    for (const auto& name : request.add) {
      if (!isAll(name)) bits.set(requireCapability(name, "capabilities.add_capabilities"));
    }
    for (const auto& name : request.drop) {
      if (!isAll(name)) bits.reset(requireCapability(name, "capabilities.drop_capabilities"));
    }
  }

  std::vector<std::string> names;
  for (int i = 0; i <= std::min(request.lastCapability, LAST_NAMED_CAPABILITY); i++) {
    if (!bits.test(i)) continue;
    if (!grantable(request, i)) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           capabilityName(i) +
               " is not in crio-cri's capability bounding set, so no container on this node can "
               "have it: drop it from the request (or from [crio.runtime] "
               "default_capabilities), or start crio-cri with it");
    }
    names.push_back(capabilityName(i));
  }
  return names;
}

nlohmann::json capabilitiesJson(const std::vector<std::string>& capabilities) {
  return {
      {"bounding", capabilities},           {"effective", capabilities},
      {"permitted", capabilities},          {"inheritable", nlohmann::json::array()},
      {"ambient", nlohmann::json::array()},
  };
}

}  // namespace crio::cri::oci
