#include "crio-cri/oci/masked-paths.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using Strings = std::vector<std::string>;

TEST(OciMaskedPaths, DefaultsWhenRequestHasNone) {
  runtime::v1::LinuxContainerSecurityContext context;
  ProcPaths paths = buildProcPaths(context);
  EXPECT_EQ(paths.masked, defaultProcPaths().masked);
  EXPECT_EQ(paths.readonly, defaultProcPaths().readonly);
  EXPECT_NE(std::find(paths.masked.begin(), paths.masked.end(), "/proc/kcore"), paths.masked.end());
  EXPECT_NE(std::find(paths.readonly.begin(), paths.readonly.end(), "/proc/sys"),
            paths.readonly.end());
}

TEST(OciMaskedPaths, RequestListsReplaceDefaults) {
  runtime::v1::LinuxContainerSecurityContext context;
  context.add_masked_paths("/proc/secret");
  ProcPaths paths = buildProcPaths(context);
  EXPECT_EQ(paths.masked, Strings{"/proc/secret"});
  EXPECT_EQ(paths.readonly, defaultProcPaths().readonly);

  context.add_readonly_paths("/proc/sys/");
  EXPECT_EQ(buildProcPaths(context).readonly, Strings{"/proc/sys"});
}

TEST(OciMaskedPaths, PrivilegedGetsNone) {
  runtime::v1::LinuxContainerSecurityContext context;
  context.set_privileged(true);
  context.add_masked_paths("/proc/secret");
  ProcPaths paths = buildProcPaths(context);
  EXPECT_TRUE(paths.masked.empty());
  EXPECT_TRUE(paths.readonly.empty());
}

TEST(OciMaskedPaths, InvalidPathIsNamed) {
  runtime::v1::LinuxContainerSecurityContext context;
  context.add_readonly_paths("/proc");
  context.add_readonly_paths("proc/sys");
  EXPECT_CRIO_ERROR(buildProcPaths(context), ErrorCategory::INVALID_ARGUMENT,
                    "readonly_paths[1] \"proc/sys\" is not an absolute path");
}

}  // namespace
}  // namespace crio::cri::oci
