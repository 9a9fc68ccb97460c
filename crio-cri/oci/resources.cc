#include "crio-cri/oci/resources.h"

#include <algorithm>

#include "common/error.h"
#include "crio-cri/oci/container-path.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

namespace {

// Kernel bounds of the CFS bandwidth controller, in microseconds.
constexpr int64_t MIN_CPU_PERIOD_US = 1000;
constexpr int64_t MAX_CPU_PERIOD_US = 1000000;
constexpr int64_t MIN_CPU_QUOTA_US = 1000;
// cgroup v1's cpu.shares range; runc maps it onto cgroup v2's cpu.weight.
constexpr int64_t MIN_CPU_SHARES = 2;
constexpr int64_t MAX_CPU_SHARES = 262144;
constexpr size_t MAX_CPUSET_BYTES = 1024;

[[noreturn]] void invalid(const std::string& field, const std::string& value,
                          const std::string& reason) {
  fail(ErrorCategory::INVALID_ARGUMENT, "resources." + field + " " + value + " " + reason);
}

// A cpuset list: "0-3,6,8-9".
void checkCpuList(const std::string& value, const std::string& field) {
  bool valid = value.size() <= MAX_CPUSET_BYTES &&
               value.find_first_not_of("0123456789,-") == std::string::npos && value[0] != ',' &&
               value[0] != '-' && value.back() != ',' && value.back() != '-' &&
               value.find(",,") == std::string::npos && value.find("--") == std::string::npos;
  if (!valid) invalid(field, quoteValue(value), "is not a list such as \"0-3,6\"");
}

// "2MB", "1GB": the page size names of the hugetlb controller's files.
bool isPageSize(const std::string& size) {
  if (size.size() < 3 || size.size() > 16) return false;
  std::string unit = size.substr(size.size() - 2);
  std::string number = size.substr(0, size.size() - 2);
  bool knownUnit = unit == "KB" || unit == "MB" || unit == "GB" || unit == "TB" || unit == "PB";
  return knownUnit && number.find_first_not_of("0123456789") == std::string::npos &&
         number[0] != '0';
}

// A cgroup v2 interface file name: "memory.high", "cpu.weight".
bool isCgroupFileName(const std::string& name) {
  size_t dot = name.find('.');
  return !name.empty() && name.size() <= 64 && dot != std::string::npos && dot > 0 &&
         dot + 1 < name.size() &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._") == std::string::npos;
}

}  // namespace

nlohmann::json buildResources(const runtime::v1::LinuxContainerResources& r, int64_t pidsLimit,
                              const ResourceHost& host) {
  nlohmann::json resources = nlohmann::json::object();

  nlohmann::json cpu = nlohmann::json::object();
  if (r.cpu_shares() != 0) {
    if (r.cpu_shares() < MIN_CPU_SHARES || r.cpu_shares() > MAX_CPU_SHARES) {
      invalid("cpu_shares", std::to_string(r.cpu_shares()),
              "is out of range " + std::to_string(MIN_CPU_SHARES) + ".." +
                  std::to_string(MAX_CPU_SHARES));
    }
    cpu["shares"] = r.cpu_shares();
  }
  if (r.cpu_quota() != 0) {
    if (r.cpu_quota() != -1 && r.cpu_quota() < MIN_CPU_QUOTA_US) {
      invalid("cpu_quota", std::to_string(r.cpu_quota()),
              "is below " + std::to_string(MIN_CPU_QUOTA_US) + " microseconds (-1 is unlimited)");
    }
    cpu["quota"] = r.cpu_quota();
  }
  if (r.cpu_period() != 0) {
    if (r.cpu_period() < MIN_CPU_PERIOD_US || r.cpu_period() > MAX_CPU_PERIOD_US) {
      invalid("cpu_period", std::to_string(r.cpu_period()),
              "is out of range " + std::to_string(MIN_CPU_PERIOD_US) + ".." +
                  std::to_string(MAX_CPU_PERIOD_US) + " microseconds");
    }
    cpu["period"] = r.cpu_period();
  }
  if (!r.cpuset_cpus().empty()) {
    checkCpuList(r.cpuset_cpus(), "cpuset_cpus");
    cpu["cpus"] = r.cpuset_cpus();
  }
  if (!r.cpuset_mems().empty()) {
    checkCpuList(r.cpuset_mems(), "cpuset_mems");
    cpu["mems"] = r.cpuset_mems();
  }
  if (!cpu.empty()) resources["cpu"] = cpu;

  nlohmann::json memory = nlohmann::json::object();
  int64_t limit = r.memory_limit_in_bytes();
  int64_t swap = r.memory_swap_limit_in_bytes();
  if (limit < 0) invalid("memory_limit_in_bytes", std::to_string(limit), "is negative");
  if (limit > 0 && limit < MIN_MEMORY_LIMIT_BYTES) {
    invalid("memory_limit_in_bytes", std::to_string(limit),
            "is below the minimum of " + std::to_string(MIN_MEMORY_LIMIT_BYTES) + " bytes");
  }
  if (swap < -1) invalid("memory_swap_limit_in_bytes", std::to_string(swap), "is below -1");
  if (swap > 0 && limit > 0 && swap < limit) {
    invalid("memory_swap_limit_in_bytes", std::to_string(swap),
            "is below memory_limit_in_bytes " + std::to_string(limit) +
                " (it counts memory plus swap)");
  }
  if (limit > 0) memory["limit"] = limit;
  if (host.swapAccounting) {
    if (swap != 0) {
      memory["swap"] = swap;
    } else if (limit > 0) {
      memory["swap"] = limit;
    }
  }
  if (!memory.empty()) resources["memory"] = memory;

  if (host.hugetlbController && r.hugepage_limits_size() > 0) {
    nlohmann::json hugepages = nlohmann::json::array();
    for (int i = 0; i < r.hugepage_limits_size(); i++) {
      const auto& page = r.hugepage_limits(i);
      if (!isPageSize(page.page_size())) {
        invalid("hugepage_limits[" + std::to_string(i) + "].page_size",
                quoteValue(page.page_size()), "is not a size such as \"2MB\" or \"1GB\"");
      }
      hugepages.push_back({{"pageSize", page.page_size()}, {"limit", page.limit()}});
    }
    resources["hugepageLimits"] = hugepages;
  }

  if (!r.unified().empty()) {
    if (!host.cgroupV2) {
      fail(ErrorCategory::FAILED_PRECONDITION,
           "resources.unified sets cgroup v2 files, but this host does not use cgroup v2 alone");
    }
    if (r.unified().size() > MAX_UNIFIED_ENTRIES) {
      invalid("unified", std::to_string(r.unified().size()) + " entries",
              "is more than " + std::to_string(MAX_UNIFIED_ENTRIES));
    }
    nlohmann::json unified = nlohmann::json::object();
    for (const auto& [name, value] : r.unified()) {
      if (!isCgroupFileName(name)) {
        invalid("unified", "key " + quoteValue(name), "is not a cgroup file name");
      }
      if (value.size() > MAX_UNIFIED_VALUE_BYTES || value.find('\0') != std::string::npos) {
        invalid("unified", "value of " + name, "is longer than 4096 bytes or contains NUL");
      }
      unified[name] = value;
    }
    resources["unified"] = unified;
  }

  if (pidsLimit > 0) resources["pids"] = {{"limit", pidsLimit}};
  return resources;
}

int clampOomScoreAdj(int64_t requested, int daemonScore) {
  if (requested < -1000 || requested > 1000) {
    invalid("oom_score_adj", std::to_string(requested), "is out of range -1000..1000");
  }
  return static_cast<int>(std::max<int64_t>(requested, daemonScore));
}

std::string buildCgroupsPath(const std::string& manager, const std::string& parent,
                             const std::string& containerId) {
  bool looksLikeSlice = parent.size() > 6 && parent.compare(parent.size() - 6, 6, ".slice") == 0;

  if (manager == "systemd") {
    std::string slice = parent.empty() ? "system.slice" : parent;
    if (!looksLikeSlice && !parent.empty()) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "cgroup_parent " + quoteValue(parent) +
               " is not a systemd slice (NAME.slice), which the systemd cgroup manager needs");
    }
    if (slice.find_first_of("/:") != std::string::npos) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "cgroup_parent " + quoteValue(parent) + " must not contain \"/\" or \":\"");
    }
    return slice + ":crio:" + containerId;
  }

  if (manager == "cgroupfs") {
    if (looksLikeSlice) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "cgroup_parent " + quoteValue(parent) +
               " is a systemd slice, but the cgroup manager is cgroupfs");
    }
    std::string path = parent.empty() ? "/crio" : cleanContainerPath(parent, "cgroup_parent");
    return (path == "/" ? "" : path) + "/crio-" + containerId;
  }

  fail(ErrorCategory::INVALID_ARGUMENT,
       "cgroup manager " + quoteValue(manager) + " is not systemd or cgroupfs");
}

}  // namespace crio::cri::oci
