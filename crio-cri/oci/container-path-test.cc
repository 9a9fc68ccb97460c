#include "crio-cri/oci/container-path.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

TEST(OciContainerPath, CleansRedundantParts) {
  EXPECT_EQ(cleanContainerPath("/", "f"), "/");
  EXPECT_EQ(cleanContainerPath("/a//b/./c/", "f"), "/a/b/c");
  EXPECT_EQ(cleanContainerPath("//etc", "f"), "/etc");
}

TEST(OciContainerPath, RejectsRelativePath) {
  EXPECT_CRIO_ERROR(cleanContainerPath("data", "mounts[0].container_path"),
                    ErrorCategory::INVALID_ARGUMENT,
                    "mounts[0].container_path \"data\" is not an absolute path");
}

TEST(OciContainerPath, RejectsDotDotComponent) {
  EXPECT_CRIO_ERROR(cleanContainerPath("/a/../etc", "f"), ErrorCategory::INVALID_ARGUMENT,
                    "\"..\"");
  EXPECT_EQ(cleanContainerPath("/a/..b", "f"), "/a/..b");
}

TEST(OciContainerPath, RejectsEmptyNulAndLong) {
  EXPECT_CRIO_ERROR(cleanContainerPath("", "f"), ErrorCategory::INVALID_ARGUMENT, "f is empty");
  EXPECT_CRIO_ERROR(cleanContainerPath(std::string("/a\0b", 4), "f"),
                    ErrorCategory::INVALID_ARGUMENT, "NUL");
  EXPECT_CRIO_ERROR(cleanContainerPath("/" + std::string(5000, 'a'), "f"),
                    ErrorCategory::INVALID_ARGUMENT, "longer than 4096");
}

TEST(OciContainerPath, DepthAndContainment) {
  EXPECT_EQ(pathDepth("/"), 0u);
  EXPECT_EQ(pathDepth("/dev"), 1u);
  EXPECT_EQ(pathDepth("/dev/shm"), 2u);
  EXPECT_TRUE(isPathWithin("/dev/shm", "/dev"));
  EXPECT_TRUE(isPathWithin("/dev", "/dev"));
  EXPECT_FALSE(isPathWithin("/devices", "/dev"));
  EXPECT_TRUE(isPathWithin("/x", "/"));
}

}  // namespace
}  // namespace crio::cri::oci
