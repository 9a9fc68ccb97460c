// Facts about the node that shape a container's spec, read once by the caller and passed in, so
// that the spec builder does not depend on the machine it runs on (and tests can set them).
#pragma once

#include <cstdint>
#include <string>

#include "crio-cri/oci/capabilities.h"
#include "crio-cri/oci/resources.h"

namespace crio::cri::oci {

struct HostFacts {
  int oomScoreAdj = 0;                         // the daemon's /proc/self/oom_score_adj
  int lastCapability = LAST_NAMED_CAPABILITY;  // /proc/sys/kernel/cap_last_cap
  // CapBnd of /proc/self/status when probed: the capabilities a runtime started by this process
  // can grant. probe() must run before the daemon drops its own capabilities.
  uint64_t boundingSet = ~uint64_t{0};
  std::string machine = "x86_64";  // uname(2) machine
  int kernelMajor = 0;             // uname(2) release
  int kernelMinor = 0;
  ResourceHost resources;  // cgroup v2, swap accounting, hugetlb
  std::string hostname;    // the node's, for pods in the host's network namespace
  std::string mountInfoPath = "/proc/self/mountinfo";
  std::string hostDevices = "/dev";

  // Reads the facts of this machine and process. Throws INTERNAL when /proc cannot be read.
  static HostFacts probe();
};

}  // namespace crio::cri::oci
