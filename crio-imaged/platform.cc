#include "crio-imaged/platform.h"

#include <sys/utsname.h>

#include <map>

namespace crio::imaged {

namespace {

// Kernel machine names and the GOARCH name and variant of each (uname(2) and the Go toolchain's
// list of architectures).
const std::map<std::string, Platform>& machines() {
  static const std::map<std::string, Platform> table = {
      {"x86_64", {"linux", "amd64", ""}},    {"amd64", {"linux", "amd64", ""}},
      {"aarch64", {"linux", "arm64", "v8"}}, {"arm64", {"linux", "arm64", "v8"}},
      {"armv8l", {"linux", "arm", "v8"}},    {"armv7l", {"linux", "arm", "v7"}},
      {"armv6l", {"linux", "arm", "v6"}},    {"armv5tel", {"linux", "arm", "v5"}},
      {"i386", {"linux", "386", ""}},        {"i486", {"linux", "386", ""}},
      {"i586", {"linux", "386", ""}},        {"i686", {"linux", "386", ""}},
      {"ppc64le", {"linux", "ppc64le", ""}}, {"ppc64", {"linux", "ppc64", ""}},
      {"s390x", {"linux", "s390x", ""}},     {"riscv64", {"linux", "riscv64", ""}},
      {"mips64", {"linux", "mips64", ""}},   {"loongarch64", {"linux", "loong64", ""}},
  };
  return table;
}

// "v7" -> 7; -1 for anything else.
int variantNumber(const std::string& variant) {
  if (variant.size() < 2 || variant[0] != 'v') return -1;
  int number = 0;
  for (size_t i = 1; i < variant.size(); ++i) {
    if (variant[i] < '0' || variant[i] > '9' || i > 3) return -1;
    number = number * 10 + (variant[i] - '0');
  }
  return number;
}

}  // namespace

std::string Platform::text() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Platform platformForMachine(const std::string& machine) {
  auto it = machines().find(machine);
  if (it != machines().end()) return it->second;
  return Platform{"linux", machine, ""};
}

Platform hostPlatform() {
  struct utsname name {};
  uname(&name);
  return platformForMachine(name.machine);
}

int platformScore(const Platform& wanted, const Platform& candidate) {
  if (candidate.os != wanted.os || candidate.architecture != wanted.architecture) return 0;
  if (candidate.variant == wanted.variant) return 100;
  if (candidate.variant.empty()) return 90;

  // Images for amd64 have no variant in practice; "v1" is the baseline every amd64 CPU runs.
  // TODO(someday): detect the CPU's x86-64 level to accept amd64 v2, v3 and v4 entries.
  if (wanted.architecture == "amd64" && candidate.variant == "v1") return 80;

  // A 32-bit ARM host runs code built for older ARM versions: v7 runs v6 and v5.
  if (wanted.architecture == "arm") {
    int have = variantNumber(wanted.variant);
    int need = variantNumber(candidate.variant);
    if (have > 0 && need > 0 && need < have) return 50 + need;
  }
  return 0;
}

}  // namespace crio::imaged
