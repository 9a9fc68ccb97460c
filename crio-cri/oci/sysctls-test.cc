#include "crio-cri/oci/sysctls.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

class OciSysctls : public ::testing::Test {
 protected:
  void SetUp() override { request_.podSysctls = &sysctls_; }

  google::protobuf::Map<std::string, std::string> sysctls_;
  SysctlRequest request_;
};

TEST_F(OciSysctls, NamespacedNamesPass) {
  sysctls_["net.ipv4.ip_unprivileged_port_start"] = "0";
  sysctls_["kernel.shm_rmid_forced"] = "1";
  sysctls_["kernel.msgmax"] = "65536";
  sysctls_["kernel.sem"] = "250 32000 100 128";
  sysctls_["fs.mqueue.msg_max"] = "20";
  nlohmann::json json = buildSysctls(request_);
  EXPECT_EQ(json.size(), 5u);
  EXPECT_EQ(json["kernel.sem"], "250 32000 100 128");
}

TEST_F(OciSysctls, UtsNamesFollowTheNetwork) {
  sysctls_["kernel.domainname"] = "example.internal";
  EXPECT_EQ(buildSysctls(request_)["kernel.domainname"], "example.internal");
  request_.hostNetwork = true;
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT,
                    "cannot be set for a pod in the host's network namespace");
}

TEST_F(OciSysctls, SlashFormIsNormalized) {
  sysctls_["net/ipv4/conf/eth0.100/forwarding"] = "1";
  nlohmann::json json = buildSysctls(request_);
  EXPECT_TRUE(json.contains("net.ipv4.conf.eth0/100.forwarding"));
}

TEST_F(OciSysctls, NonNamespacedIsRejected) {
  sysctls_["kernel.panic"] = "1";
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT,
                    "sysctl \"kernel.panic\" is not namespaced");
  sysctls_.clear();
  sysctls_["vm.overcommit_memory"] = "1";
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT, "not namespaced");
}

TEST_F(OciSysctls, HostNamespacesRejectTheirSysctls) {
  sysctls_["net.core.somaxconn"] = "1024";
  request_.hostNetwork = true;
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT,
                    "sysctl \"net.core.somaxconn\" cannot be set for a pod in the host's network");
  sysctls_.clear();
  sysctls_["kernel.shmmax"] = "1";
  request_.hostNetwork = false;
  request_.hostIpc = true;
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT,
                    "host's IPC namespace");
  sysctls_.clear();
  sysctls_["net.core.somaxconn"] = "1024";
  EXPECT_EQ(buildSysctls(request_).size(), 1u);
}

TEST_F(OciSysctls, DefaultsApplyAndPodOverrides) {
  request_.defaults = {"net.ipv4.ping_group_range=0 2147483647", "kernel.msgmax=1"};
  sysctls_["kernel.msgmax"] = "2";
  nlohmann::json json = buildSysctls(request_);
  EXPECT_EQ(json["net.ipv4.ping_group_range"], "0 2147483647");
  EXPECT_EQ(json["kernel.msgmax"], "2");
}

TEST_F(OciSysctls, DefaultsForHostNamespacesAreSkipped) {
  request_.defaults = {"net.ipv4.ping_group_range=0 1"};
  request_.hostNetwork = true;
  EXPECT_TRUE(buildSysctls(request_).empty());
  request_.defaults = {"noequals"};
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT,
                    "default_sysctls entry \"noequals\" is not NAME=VALUE");
}

TEST_F(OciSysctls, BadNamesAndValues) {
  sysctls_["net.a b"] = "1";
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT,
                    "is not a valid sysctl name");
  sysctls_.clear();
  sysctls_["net.core.somaxconn"] = "1\n2";
  EXPECT_CRIO_ERROR(buildSysctls(request_), ErrorCategory::INVALID_ARGUMENT, "newline");
}

}  // namespace
}  // namespace crio::cri::oci
