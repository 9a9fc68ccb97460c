#include "crio-imaged/platform.h"

#include <gtest/gtest.h>

namespace crio::imaged {
namespace {

TEST(Platform, MapsKernelMachinesToGoArch) {
  EXPECT_EQ(platformForMachine("x86_64").text(), "linux/amd64");
  EXPECT_EQ(platformForMachine("aarch64").text(), "linux/arm64/v8");
  EXPECT_EQ(platformForMachine("armv7l").text(), "linux/arm/v7");
  EXPECT_EQ(platformForMachine("i686").text(), "linux/386");
  EXPECT_EQ(platformForMachine("weird").text(), "linux/weird");
}

TEST(Platform, HostIsLinux) {
  Platform host = hostPlatform();
  EXPECT_EQ(host.os, "linux");
  EXPECT_FALSE(host.architecture.empty());
}

TEST(Platform, ScoreRequiresOsAndArchitecture) {
  Platform amd64{"linux", "amd64", ""};
  EXPECT_EQ(platformScore(amd64, {"windows", "amd64", ""}), 0);
  EXPECT_EQ(platformScore(amd64, {"linux", "arm64", "v8"}), 0);
  EXPECT_GT(platformScore(amd64, {"linux", "amd64", ""}), 0);
}

TEST(Platform, ScorePrefersExactVariant) {
  Platform arm64{"linux", "arm64", "v8"};
  int exact = platformScore(arm64, {"linux", "arm64", "v8"});
  int none = platformScore(arm64, {"linux", "arm64", ""});
  EXPECT_GT(exact, none);
  EXPECT_GT(none, 0);
  EXPECT_EQ(platformScore(arm64, {"linux", "arm64", "v9"}), 0);
}

TEST(Platform, ScoreAcceptsOlderArmVariants) {
  Platform armv7{"linux", "arm", "v7"};
  EXPECT_GT(platformScore(armv7, {"linux", "arm", "v6"}), 0);
  EXPECT_GT(platformScore(armv7, {"linux", "arm", "v6"}),
            platformScore(armv7, {"linux", "arm", "v5"}));
  EXPECT_EQ(platformScore(armv7, {"linux", "arm", "v8"}), 0);
}

TEST(Platform, ScoreAmd64Variants) {
  Platform amd64{"linux", "amd64", ""};
  EXPECT_GT(platformScore(amd64, {"linux", "amd64", "v1"}), 0);
  EXPECT_EQ(platformScore(amd64, {"linux", "amd64", "v3"}), 0);
}

}  // namespace
}  // namespace crio::imaged
