#include "crio-cri/oci/host-facts.h"

#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace crio::cri::oci {

namespace {

// statfs(2) f_type of cgroup2 (linux/magic.h).
constexpr long CGROUP2_MAGIC = 0x63677270;

std::string readSmallFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

int readInt(const std::string& path) {
  std::ifstream file(path);
  int value = 0;
  if (!(file >> value)) fail(ErrorCategory::INTERNAL, "cannot read a number from " + path);
  return value;
}

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

// The daemon's own cgroup v2 path ("0::/system.slice/crio-cri.service" gives that path).
std::string ownUnifiedCgroup() {
  std::istringstream lines(readSmallFile("/proc/self/cgroup"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return "/";
}

// The hexadecimal CapBnd mask of /proc/self/status.
uint64_t ownBoundingSet() {
  std::istringstream lines(readSmallFile("/proc/self/status"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("CapBnd:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  fail(ErrorCategory::INTERNAL, "no CapBnd line in /proc/self/status");
}

}  // namespace

HostFacts HostFacts::probe() {
  HostFacts facts;
  facts.oomScoreAdj = readInt("/proc/self/oom_score_adj");
  facts.lastCapability = readInt("/proc/sys/kernel/cap_last_cap");
  facts.boundingSet = ownBoundingSet();

  struct utsname name {};
  if (uname(&name) != 0) failSyscall("uname");
  facts.machine = name.machine;
  std::sscanf(name.release, "%d.%d", &facts.kernelMajor, &facts.kernelMinor);

  struct statfs fs {};
  facts.resources.cgroupV2 =
      statfs("/sys/fs/cgroup", &fs) == 0 && static_cast<long>(fs.f_type) == CGROUP2_MAGIC;
  if (facts.resources.cgroupV2) {
    // The root cgroup has no memory.swap.max, so a child is checked: the daemon's own, or
    // system.slice when the daemon runs in the root.
    std::string own = ownUnifiedCgroup();
    std::string probe = own == "/" ? "/sys/fs/cgroup/system.slice" : "/sys/fs/cgroup" + own;
    facts.resources.swapAccounting = exists(probe + "/memory.swap.max");
    std::string controllers = readSmallFile("/sys/fs/cgroup/cgroup.controllers");
    facts.resources.hugetlbController = controllers.find("hugetlb") != std::string::npos;
  } else {
    facts.resources.swapAccounting = exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
    facts.resources.hugetlbController = exists("/sys/fs/cgroup/hugetlb");
  }

  char hostname[256] = {};
  if (gethostname(hostname, sizeof(hostname) - 1) == 0) facts.hostname = hostname;
  return facts;
}

}  // namespace crio::cri::oci
