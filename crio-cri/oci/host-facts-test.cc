#include "crio-cri/oci/host-facts.h"

#include <gtest/gtest.h>

namespace crio::cri::oci {
namespace {

TEST(OciHostFacts, ProbeReadsThisMachine) {
  HostFacts facts = HostFacts::probe();
  EXPECT_FALSE(facts.machine.empty());
  EXPECT_GE(facts.kernelMajor, 3);
  // CAP_AUDIT_READ (37) arrived in Linux 3.16; every kernel a container runtime supports has it.
  EXPECT_GE(facts.lastCapability, 37);
  EXPECT_GE(facts.oomScoreAdj, -1000);
  EXPECT_LE(facts.oomScoreAdj, 1000);
}

}  // namespace
}  // namespace crio::cri::oci
