#include "crio-cri/oci/resources.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using runtime::v1::LinuxContainerResources;

ResourceHost v1Host() {
  return {false, true, true};
}

TEST(OciResources, EmptyRequestSetsNothing) {
  EXPECT_EQ(buildResources(LinuxContainerResources{}, 0, v1Host()), nlohmann::json::object());
}

TEST(OciResources, CpuFieldsMap) {
  LinuxContainerResources r;
  r.set_cpu_shares(512);
  r.set_cpu_quota(50000);
  r.set_cpu_period(100000);
  r.set_cpuset_cpus("0-3,6");
  r.set_cpuset_mems("0");
  nlohmann::json json = buildResources(r, 0, v1Host());
  EXPECT_EQ(json["cpu"], (nlohmann::json{{"shares", 512},
                                         {"quota", 50000},
                                         {"period", 100000},
                                         {"cpus", "0-3,6"},
                                         {"mems", "0"}}));
}

TEST(OciResources, MemoryLimitAlsoCapsSwap) {
  LinuxContainerResources r;
  r.set_memory_limit_in_bytes(256 << 20);
  nlohmann::json json = buildResources(r, 0, v1Host());
  EXPECT_EQ(json["memory"]["limit"], 256 << 20);
  EXPECT_EQ(json["memory"]["swap"], 256 << 20);

  r.set_memory_swap_limit_in_bytes(512 << 20);
  EXPECT_EQ(buildResources(r, 0, v1Host())["memory"]["swap"], 512 << 20);

  ResourceHost noSwap = v1Host();
  noSwap.swapAccounting = false;
  EXPECT_FALSE(buildResources(r, 0, noSwap)["memory"].contains("swap"));
}

TEST(OciResources, HugepagesAndPids) {
  LinuxContainerResources r;
  auto* page = r.add_hugepage_limits();
  page->set_page_size("2MB");
  page->set_limit(4 << 20);
  nlohmann::json json = buildResources(r, 1024, v1Host());
  EXPECT_EQ(json["hugepageLimits"],
            nlohmann::json::parse(R"([{"pageSize":"2MB","limit":4194304}])"));
  EXPECT_EQ(json["pids"]["limit"], 1024);

  ResourceHost noHugetlb = v1Host();
  noHugetlb.hugetlbController = false;
  EXPECT_FALSE(buildResources(r, 0, noHugetlb).contains("hugepageLimits"));
  EXPECT_FALSE(buildResources(r, -1, noHugetlb).contains("pids"));
}

TEST(OciResources, UnifiedNeedsCgroupV2) {
  LinuxContainerResources r;
  (*r.mutable_unified())["memory.high"] = "1073741824";
  EXPECT_CRIO_ERROR(buildResources(r, 0, v1Host()), ErrorCategory::FAILED_PRECONDITION,
                    "resources.unified");
  ResourceHost v2 = {true, true, true};
  EXPECT_EQ(buildResources(r, 0, v2)["unified"]["memory.high"], "1073741824");

  (*r.mutable_unified())["../escape"] = "1";
  EXPECT_CRIO_ERROR(buildResources(r, 0, v2), ErrorCategory::INVALID_ARGUMENT,
                    "key \"../escape\" is not a cgroup file name");
}

struct InvalidCase {
  const char* name;
  void (*set)(LinuxContainerResources&);
  const char* fragment;
};

TEST(OciResources, InvalidFieldsAreNamed) {
  const InvalidCase cases[] = {
      {"shares", [](LinuxContainerResources& r) { r.set_cpu_shares(-5); },
       "resources.cpu_shares -5 is out of range"},
      {"quota", [](LinuxContainerResources& r) { r.set_cpu_quota(10); },
       "resources.cpu_quota 10 is below 1000"},
      {"period", [](LinuxContainerResources& r) { r.set_cpu_period(5000000); },
       "resources.cpu_period 5000000 is out of range"},
      {"cpus", [](LinuxContainerResources& r) { r.set_cpuset_cpus("0-3;rm"); },
       "resources.cpuset_cpus \"0-3;rm\""},
      {"memory", [](LinuxContainerResources& r) { r.set_memory_limit_in_bytes(4096); },
       "resources.memory_limit_in_bytes 4096 is below the minimum"},
      {"swap",
       [](LinuxContainerResources& r) {
         r.set_memory_limit_in_bytes(64 << 20);
         r.set_memory_swap_limit_in_bytes(32 << 20);
       },
       "resources.memory_swap_limit_in_bytes 33554432 is below memory_limit_in_bytes"},
      {"page size",
       [](LinuxContainerResources& r) { r.add_hugepage_limits()->set_page_size("2M"); },
       "resources.hugepage_limits[0].page_size \"2M\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    LinuxContainerResources r;
    c.set(r);
    EXPECT_CRIO_ERROR(buildResources(r, 0, v1Host()), ErrorCategory::INVALID_ARGUMENT, c.fragment);
  }
}

TEST(OciOomScore, ClampedToDaemonScore) {
  EXPECT_EQ(clampOomScoreAdj(-997, 0), 0);
  EXPECT_EQ(clampOomScoreAdj(-997, -999), -997);
  EXPECT_EQ(clampOomScoreAdj(1000, 0), 1000);
  EXPECT_EQ(clampOomScoreAdj(500, 600), 600);
  EXPECT_CRIO_ERROR(clampOomScoreAdj(1001, 0), ErrorCategory::INVALID_ARGUMENT,
                    "resources.oom_score_adj 1001 is out of range");
}

TEST(OciCgroupsPath, CgroupfsForm) {
  EXPECT_EQ(buildCgroupsPath("cgroupfs", "/kubepods/besteffort/pod1", "abc"),
            "/kubepods/besteffort/pod1/crio-abc");
  EXPECT_EQ(buildCgroupsPath("cgroupfs", "", "abc"), "/crio/crio-abc");
  EXPECT_EQ(buildCgroupsPath("cgroupfs", "/", "abc"), "/crio-abc");
  EXPECT_CRIO_ERROR(buildCgroupsPath("cgroupfs", "kubepods.slice", "abc"),
                    ErrorCategory::INVALID_ARGUMENT, "is a systemd slice");
  EXPECT_CRIO_ERROR(buildCgroupsPath("cgroupfs", "/a/../b", "abc"), ErrorCategory::INVALID_ARGUMENT,
                    "cgroup_parent \"/a/../b\"");
}

TEST(OciCgroupsPath, SystemdForm) {
  EXPECT_EQ(buildCgroupsPath("systemd", "kubepods-besteffort-pod1.slice", "abc"),
            "kubepods-besteffort-pod1.slice:crio:abc");
  EXPECT_EQ(buildCgroupsPath("systemd", "", "abc"), "system.slice:crio:abc");
  EXPECT_CRIO_ERROR(buildCgroupsPath("systemd", "/kubepods", "abc"),
                    ErrorCategory::INVALID_ARGUMENT, "is not a systemd slice");
  EXPECT_CRIO_ERROR(buildCgroupsPath("lxc", "", "abc"), ErrorCategory::INVALID_ARGUMENT,
                    "cgroup manager \"lxc\"");
}

}  // namespace
}  // namespace crio::cri::oci
