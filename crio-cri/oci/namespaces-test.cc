#include "crio-cri/oci/namespaces.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using runtime::v1::NamespaceOption;

const PodNamespacePaths PINNED = {"/run/crio/ns/net-1", "/run/crio/ns/ipc-1", "/run/crio/ns/uts-1",
                                  "/run/crio/ns/pid-1", "/run/crio/ns/pid-target"};

std::string pathOf(const NamespacesResult& result, const std::string& type) {
  for (const auto& ns : result.namespaces) {
    if (ns["type"] == type) return ns.value("path", "(new)");
  }
  return "(host)";
}

TEST(OciNamespaces, PodModesJoinPinnedFiles) {
  NamespaceOption pod;
  NamespaceOption container;
  container.set_pid(runtime::v1::CONTAINER);
  NamespacesResult result = buildNamespaces(&pod, &container, PINNED, false, false);
  EXPECT_EQ(pathOf(result, "network"), "/run/crio/ns/net-1");
  EXPECT_EQ(pathOf(result, "ipc"), "/run/crio/ns/ipc-1");
  EXPECT_EQ(pathOf(result, "uts"), "/run/crio/ns/uts-1");
  EXPECT_EQ(pathOf(result, "pid"), "(new)");
  EXPECT_EQ(pathOf(result, "mount"), "(new)");
  EXPECT_EQ(pathOf(result, "cgroup"), "(host)");
  EXPECT_FALSE(result.hostNetwork);
}

TEST(OciNamespaces, NodeModesLeaveEntriesOut) {
  NamespaceOption pod;
  pod.set_network(runtime::v1::NODE);
  pod.set_ipc(runtime::v1::NODE);
  NamespaceOption container;
  container.set_pid(runtime::v1::NODE);
  NamespacesResult result = buildNamespaces(&pod, &container, PINNED, false, false);
  EXPECT_EQ(pathOf(result, "network"), "(host)");
  EXPECT_EQ(pathOf(result, "uts"), "(host)");
  EXPECT_EQ(pathOf(result, "ipc"), "(host)");
  EXPECT_EQ(pathOf(result, "pid"), "(host)");
  EXPECT_TRUE(result.hostNetwork);
  EXPECT_TRUE(result.hostIpc);
  EXPECT_TRUE(result.hostPid);
  EXPECT_TRUE(result.hostUts);
}

TEST(OciNamespaces, PidPodAndTarget) {
  NamespaceOption container;
  container.set_pid(runtime::v1::POD);
  EXPECT_EQ(pathOf(buildNamespaces(nullptr, &container, PINNED, false, false), "pid"),
            "/run/crio/ns/pid-1");
  container.set_pid(runtime::v1::TARGET);
  EXPECT_EQ(pathOf(buildNamespaces(nullptr, &container, PINNED, false, false), "pid"),
            "/run/crio/ns/pid-target");
  EXPECT_CRIO_ERROR(buildNamespaces(nullptr, &container, PodNamespacePaths{}, false, false),
                    ErrorCategory::FAILED_PRECONDITION, "target_id");
}

TEST(OciNamespaces, UnpinnedMeansNewNamespaces) {
  NamespacesResult result = buildNamespaces(nullptr, nullptr, PodNamespacePaths{}, true, false);
  for (const char* type : {"network", "uts", "ipc", "pid", "mount", "cgroup"}) {
    EXPECT_EQ(pathOf(result, type), "(new)") << type;
  }
}

TEST(OciNamespaces, PrivilegedKeepsHostCgroupNamespace) {
  EXPECT_EQ(pathOf(buildNamespaces(nullptr, nullptr, PINNED, true, true), "cgroup"), "(host)");
  EXPECT_EQ(pathOf(buildNamespaces(nullptr, nullptr, PINNED, true, false), "cgroup"), "(new)");
}

TEST(OciNamespaces, UserNamespaceIsUnimplemented) {
  NamespaceOption pod;
  pod.mutable_userns_options()->set_mode(runtime::v1::POD);
  EXPECT_CRIO_ERROR(buildNamespaces(&pod, nullptr, PINNED, false, false),
                    ErrorCategory::UNIMPLEMENTED, "user namespaces");
  pod.mutable_userns_options()->set_mode(runtime::v1::NODE);
  buildNamespaces(&pod, nullptr, PINNED, false, false);
}

TEST(OciNamespaces, ContainerNetworkModeIsInvalid) {
  NamespaceOption pod;
  pod.set_network(runtime::v1::CONTAINER);
  EXPECT_CRIO_ERROR(buildNamespaces(&pod, nullptr, PINNED, false, false),
                    ErrorCategory::INVALID_ARGUMENT, "network and ipc");
}

}  // namespace
}  // namespace crio::cri::oci
