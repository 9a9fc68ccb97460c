#include "crio-cri/oci/capabilities.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using Strings = std::vector<std::string>;

const Strings CRIO_DEFAULTS = {"CHOWN",  "DAC_OVERRIDE", "FSETID",           "FOWNER", "SETGID",
                               "SETUID", "SETPCAP",      "NET_BIND_SERVICE", "KILL"};

bool contains(const Strings& caps, const std::string& name) {
  return std::find(caps.begin(), caps.end(), name) != caps.end();
}

TEST(OciCapabilities, NamesAndNumbers) {
  EXPECT_EQ(capabilityNumber("CAP_CHOWN"), 0);
  EXPECT_EQ(capabilityNumber("net_raw"), 13);
  EXPECT_EQ(capabilityNumber("Cap_Sys_Admin"), 21);
  EXPECT_EQ(capabilityNumber("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_FALSE(capabilityNumber("CAP_FLY").has_value());
  EXPECT_EQ(capabilityName(13), "CAP_NET_RAW");
}

TEST(OciCapabilities, DefaultsInNumericOrder) {
  CapabilityRequest request;
  request.defaults = CRIO_DEFAULTS;
  EXPECT_EQ(resolveCapabilities(request),
            (Strings{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
                     "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE"}));
}

TEST(OciCapabilities, AddAndDropNamed) {
  CapabilityRequest request;
  request.defaults = CRIO_DEFAULTS;
  request.add = {"CAP_NET_ADMIN", "sys_time"};
  request.drop = {"KILL", "CAP_SYS_TIME"};
  Strings caps = resolveCapabilities(request);
  EXPECT_TRUE(contains(caps, "CAP_NET_ADMIN"));
  EXPECT_FALSE(contains(caps, "CAP_SYS_TIME"));
  EXPECT_FALSE(contains(caps, "CAP_KILL"));
  EXPECT_TRUE(contains(caps, "CAP_CHOWN"));
}

TEST(OciCapabilities, DropAllThenAddSome) {
  CapabilityRequest request;
  request.defaults = CRIO_DEFAULTS;
  request.drop = {"all"};
  request.add = {"NET_BIND_SERVICE"};
  EXPECT_EQ(resolveCapabilities(request), (Strings{"CAP_NET_BIND_SERVICE"}));
}

TEST(OciCapabilities, AddAllMinusSome) {
  CapabilityRequest request;
  request.add = {"CAP_ALL"};
  request.drop = {"CAP_SYS_ADMIN"};
  request.lastCapability = 40;
  Strings caps = resolveCapabilities(request);
  EXPECT_EQ(caps.size(), 40u);
  EXPECT_FALSE(contains(caps, "CAP_SYS_ADMIN"));
}

TEST(OciCapabilities, AddAllAndDropAllIsEmpty) {
  CapabilityRequest request;
  request.defaults = CRIO_DEFAULTS;
  request.add = {"ALL"};
  request.drop = {"ALL"};
  EXPECT_TRUE(resolveCapabilities(request).empty());
}

TEST(OciCapabilities, PrivilegedGetsKernelSetAndIgnoresLists) {
  CapabilityRequest request;
  request.privileged = true;
  request.drop = {"ALL"};
  request.lastCapability = 37;
  Strings caps = resolveCapabilities(request);
  EXPECT_EQ(caps.size(), 38u);
  EXPECT_EQ(caps.back(), "CAP_AUDIT_READ");
}

TEST(OciCapabilities, CapabilitiesAboveKernelAreLeftOut) {
  CapabilityRequest request;
  request.add = {"CAP_BPF", "CAP_CHOWN"};
  request.lastCapability = 37;
  EXPECT_EQ(resolveCapabilities(request), (Strings{"CAP_CHOWN"}));
}

TEST(OciCapabilities, UnknownNamesAreNamedWithTheirList) {
  CapabilityRequest request;
  request.add = {"CAP_FLY"};
  EXPECT_CRIO_ERROR(resolveCapabilities(request), ErrorCategory::INVALID_ARGUMENT,
                    "capabilities.add_capabilities: unknown capability \"CAP_FLY\"");
  request.add.clear();
  request.drop = {"SWIM"};
  EXPECT_CRIO_ERROR(resolveCapabilities(request), ErrorCategory::INVALID_ARGUMENT,
                    "capabilities.drop_capabilities: unknown capability \"SWIM\"");
  request.drop.clear();
  request.defaults = {"WALK"};
  EXPECT_CRIO_ERROR(resolveCapabilities(request), ErrorCategory::INVALID_ARGUMENT,
                    "[crio.runtime] default_capabilities");
}

TEST(OciCapabilities, JsonHasEmptyInheritableAndAmbient) {
  nlohmann::json json = capabilitiesJson({"CAP_CHOWN"});
  EXPECT_EQ(json["bounding"], nlohmann::json::array({"CAP_CHOWN"}));
  EXPECT_EQ(json["effective"], json["bounding"]);
  EXPECT_EQ(json["permitted"], json["bounding"]);
  EXPECT_TRUE(json["inheritable"].empty());
  EXPECT_TRUE(json["ambient"].empty());
}

}  // namespace
TEST(OciCapabilities, AllLeavesOutWhatTheNodeCannotGrant) {
  CapabilityRequest request;
  request.add = {"ALL"};
  request.grantable = ~(uint64_t{1} << 24);  // CAP_SYS_RESOURCE
  Strings caps = resolveCapabilities(request);
  EXPECT_EQ(caps.size(), 40u);
  EXPECT_FALSE(contains(caps, "CAP_SYS_RESOURCE"));

  request.add.clear();
  request.privileged = true;
  EXPECT_FALSE(contains(resolveCapabilities(request), "CAP_SYS_RESOURCE"));
}

TEST(OciCapabilities, NamingAnUngrantableCapabilityFails) {
  CapabilityRequest request;
  request.defaults = CRIO_DEFAULTS;
  request.add = {"SYS_RESOURCE"};
  request.grantable = ~(uint64_t{1} << 24);
  EXPECT_CRIO_ERROR(resolveCapabilities(request), ErrorCategory::FAILED_PRECONDITION,
                    "CAP_SYS_RESOURCE is not in crio-cri's capability bounding set");

  request.drop = {"SYS_RESOURCE"};
  EXPECT_FALSE(contains(resolveCapabilities(request), "CAP_SYS_RESOURCE"));
}

}  // namespace crio::cri::oci
