// Facts about the node that shape a container's spec, read once by the caller and passed in, so
// that the spec builder does not depend on the machine it runs on (and tests can set them).
#pragma once

#include <string>

#include "crio-cri/oci/capabilities.h"
#include "crio-cri/oci/resources.h"

namespace crio::cri::oci {

struct HostFacts {
  int oomScoreAdj = 0;                         // the daemon's /proc/self/oom_score_adj
  int lastCapability = LAST_NAMED_CAPABILITY;  // /proc/sys/kernel/cap_last_cap
  std::string machine = "x86_64";              // uname(2) machine
  int kernelMajor = 0;                         // uname(2) release
  int kernelMinor = 0;
  ResourceHost resources;  // cgroup v2, swap accounting, hugetlb
  std::string hostname;    // the node's, for pods in the host's network namespace
  std::string mountInfoPath = "/proc/self/mountinfo";
  std::string hostDevices = "/dev";

  // Reads the facts of this machine. Throws INTERNAL when /proc cannot be read.
  static HostFacts probe();
};

}  // namespace crio::cri::oci
