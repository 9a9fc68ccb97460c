#include "crio-cri/oci/pod-cgroup.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::cri::oci {
namespace {

namespace fs = std::filesystem;

// Fake cgroup hierarchies under a temporary folder, mounted (in the mount table handed to the
// function) where a hybrid host mounts them.
class PodCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-pod-cgroup-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  // Creates HIERARCHY/PATH/cgroup.procs, and cgroup.controllers with `controllers` when set.
  void makeCgroup(const std::string& hierarchy, const std::string& path,
                  const char* controllers = nullptr) {
    std::string dir = root_ + "/" + hierarchy + path;
    fs::create_directories(dir);
    std::ofstream(dir + "/cgroup.procs") << "";
    if (controllers) std::ofstream(dir + "/cgroup.controllers") << controllers;
  }

  std::vector<MountInfoEntry> mounts() {
    return parseMountInfo("30 25 0:26 / " + root_ + "/memory rw - cgroup cgroup rw,memory\n" +
                          "31 25 0:27 / " + root_ + "/pids rw - cgroup cgroup rw,pids\n" +
                          "32 25 0:28 / " + root_ + "/unified rw - cgroup2 cgroup2 rw\n" +
                          "33 25 0:26 /kubepods " + root_ + "/bound rw - cgroup cgroup rw\n" +
                          "34 25 0:29 / " + root_ + "/data rw - ext4 /dev/vda rw\n");
  }

  std::string root_;
};

TEST_F(PodCgroupTest, JoinsExistingV1AndControllerlessV2) {
  makeCgroup("memory", "/kubepods/pod1");
  makeCgroup("unified", "/kubepods/pod1", "\n");
  makeCgroup("bound", "/kubepods/pod1");
  makeCgroup("data", "/kubepods/pod1");
  auto files = podCgroupProcsFiles("cgroupfs", "/kubepods/pod1", mounts());
  EXPECT_EQ(files, (std::vector<std::string>{root_ + "/memory/kubepods/pod1/cgroup.procs",
                                             root_ + "/unified/kubepods/pod1/cgroup.procs"}));
  EXPECT_EQ(podCgroupProcsFiles("cgroupfs", "/kubepods//pod1/", mounts()), files)
      << "the parent is cleaned first";
}

TEST_F(PodCgroupTest, SkipsV2WithControllers) {
  makeCgroup("pids", "/kubepods/pod2");
  makeCgroup("unified", "/kubepods/pod2", "cpu memory pids\n");
  EXPECT_EQ(podCgroupProcsFiles("cgroupfs", "/kubepods/pod2", mounts()),
            std::vector<std::string>{root_ + "/pids/kubepods/pod2/cgroup.procs"});
}

TEST_F(PodCgroupTest, NothingForOtherManagersAndParents) {
  makeCgroup("memory", "/kubepods.slice");
  EXPECT_TRUE(podCgroupProcsFiles("systemd", "/kubepods/pod1", mounts()).empty());
  EXPECT_TRUE(podCgroupProcsFiles("cgroupfs", "", mounts()).empty());
  EXPECT_TRUE(podCgroupProcsFiles("cgroupfs", "/", mounts()).empty());
  EXPECT_TRUE(podCgroupProcsFiles("cgroupfs", "/kubepods.slice", mounts()).empty());
  EXPECT_TRUE(podCgroupProcsFiles("cgroupfs", "/absent", mounts()).empty());
}

TEST_F(PodCgroupTest, RejectsParentOutsideTheHierarchy) {
  try {
    podCgroupProcsFiles("cgroupfs", "/kubepods/../../etc", mounts());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("cgroup_parent"), std::string::npos) << e.what();
  }
  EXPECT_THROW(podCgroupProcsFiles("cgroupfs", "kubepods", mounts()), Error);
}

}  // namespace
}  // namespace crio::cri::oci
