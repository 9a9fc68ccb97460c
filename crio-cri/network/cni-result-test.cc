#include "crio-cri/network/cni-result.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::cri {
namespace {

// The shape of what the bridge plugin (containernetworking-plugins 1.1.1) prints for 1.0.0.
constexpr const char* BRIDGE_RESULT_1_0 = R"({
  "cniVersion": "1.0.0",
  "interfaces": [
    {"name": "crt-br0", "mac": "6a:1b:2c:3d:4e:5f"},
    {"name": "veth1234", "mac": "aa:bb:cc:dd:ee:ff"},
    {"name": "eth0", "mac": "12:34:56:78:9a:bc", "sandbox": "/run/crio/ns/netns/pod-a"}
  ],
  "ips": [
    {"interface": 2, "address": "10.244.213.5/24", "gateway": "10.244.213.1"},
    {"interface": 2, "address": "fd00:213::5/64", "gateway": "fd00:213::1"}
  ],
  "routes": [{"dst": "0.0.0.0/0", "gw": "10.244.213.1"}, {"dst": "::/0"}],
  "dns": {"nameservers": ["10.96.0.10"], "domain": "cluster.local",
          "search": ["default.svc.cluster.local"], "options": ["ndots:5"]}
})";

constexpr const char* BRIDGE_RESULT_0_4 = R"({
  "cniVersion": "0.4.0",
  "interfaces": [
    {"name": "crt-br0", "mac": "6a:1b:2c:3d:4e:5f"},
    {"name": "eth0", "mac": "12:34:56:78:9a:bc", "sandbox": "/run/crio/ns/netns/pod-a"}
  ],
  "ips": [{"version": "4", "interface": 1, "address": "10.244.213.7/24",
           "gateway": "10.244.213.1"}],
  "dns": {}
})";

void expectInvalid(const std::string& json, const std::string& needle) {
  try {
    parseCniResult(json, "1.0.0");
    ADD_FAILURE() << "accepted: " << json;
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(CniResultTest, ParsesVersion100Result) {
  CniResult result = parseCniResult(BRIDGE_RESULT_1_0, "1.0.0");
  EXPECT_EQ(result.cniVersion, "1.0.0");
  ASSERT_EQ(result.interfaces.size(), 3u);
  EXPECT_EQ(result.interfaces[2].name, "eth0");
  EXPECT_EQ(result.interfaces[2].sandbox, "/run/crio/ns/netns/pod-a");
  EXPECT_EQ(result.interfaces[0].sandbox, "");
  ASSERT_EQ(result.ips.size(), 2u);
  EXPECT_EQ(result.ips[0].family, 4);
  EXPECT_EQ(result.ips[0].address, "10.244.213.5/24");
  EXPECT_EQ(result.ips[0].gateway, "10.244.213.1");
  EXPECT_EQ(result.ips[0].interfaceIndex, 2);
  EXPECT_EQ(result.ips[1].family, 6);
  ASSERT_EQ(result.routes.size(), 2u);
  EXPECT_EQ(result.routes[0].dst, "0.0.0.0/0");
  EXPECT_EQ(result.routes[0].gw, "10.244.213.1");
  EXPECT_EQ(result.routes[1].gw, "");
  EXPECT_EQ(result.dns.nameservers, std::vector<std::string>{"10.96.0.10"});
  EXPECT_EQ(result.dns.domain, "cluster.local");
  EXPECT_EQ(result.dns.options, std::vector<std::string>{"ndots:5"});
}

TEST(CniResultTest, ParsesVersion040Result) {
  CniResult result = parseCniResult(BRIDGE_RESULT_0_4, "0.4.0");
  EXPECT_EQ(result.cniVersion, "0.4.0");
  ASSERT_EQ(result.ips.size(), 1u);
  EXPECT_EQ(result.ips[0].family, 4);
  EXPECT_EQ(result.ips[0].interfaceIndex, 1);
  EXPECT_EQ(podIps(result, "eth0"), std::vector<std::string>{"10.244.213.7"});
}

TEST(CniResultTest, Version031ResultIsConverted) {
  CniResult result = parseCniResult(
      R"({"cniVersion":"0.3.1","ips":[{"version":"6","address":"fd00::9/64"}]})", "0.3.1");
  ASSERT_EQ(result.ips.size(), 1u);
  EXPECT_EQ(result.ips[0].family, 6);
  EXPECT_EQ(result.ips[0].interfaceIndex, -1);
}

TEST(CniResultTest, MissingVersionTakesConfigVersion) {
  CniResult result = parseCniResult(R"({"ips":[{"address":"10.0.0.2/8"}]})", "0.4.0");
  EXPECT_EQ(result.cniVersion, "0.4.0");
}

TEST(CniResultTest, VersionsBefore030AreRejected) {
  try {
    parseCniResult(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/8"}})", "0.2.0");
    FAIL() << "accepted 0.2.0";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0.2.0 is not supported"), std::string::npos) << e.what();
  }
}

TEST(CniResultTest, MalformedResultsAreRejected) {
  expectInvalid("not json", "not a JSON object");
  expectInvalid(R"({"ips":[{"address":"10.0.0.300/24"}]})", "is not a CIDR");
  expectInvalid(R"({"ips":[{"address":"10.0.0.3"}]})", "is not a CIDR");
  expectInvalid(R"({"ips":[{"address":"10.0.0.3/33"}]})", "is not a CIDR");
  expectInvalid(R"({"ips":[{"address":"10.0.0.3/24","gateway":"fd00::1"}]})", "gateway");
  expectInvalid(R"({"ips":[{"address":"10.0.0.3/24","interface":0}]})", "not an index");
  expectInvalid(R"({"interfaces":[{"mac":"aa"}]})", "has no name");
  expectInvalid(R"({"routes":[{"dst":"default"}]})", "routes[0].dst");
  expectInvalid(R"({"dns":{"nameservers":"10.0.0.1"}})", "dns.nameservers is not a list");
  expectInvalid(R"({"cniVersion":"2.0.0"})", "not supported");
  try {
    parseCniResult(R"({"cniVersion":"0.4.0","ips":[{"version":"6","address":"10.0.0.3/24"}]})",
                   "0.4.0");
    ADD_FAILURE() << "accepted a version that does not match the address";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
}

TEST(CniResultTest, PodIpsAreThoseOfTheSandboxInterface) {
  CniResult result = parseCniResult(R"({
    "cniVersion": "1.0.0",
    "interfaces": [{"name": "eth0"}, {"name": "eth0", "sandbox": "/ns"}, {"name": "net1",
                   "sandbox": "/ns"}],
    "ips": [{"address": "192.168.0.1/24", "interface": 0},
            {"address": "fd00::5/64", "interface": 1},
            {"address": "10.0.0.5/24", "interface": 1},
            {"address": "172.16.0.5/24", "interface": 2},
            {"address": "10.1.0.5/24"}]
  })",
                                    "1.0.0");
  std::vector<std::string> expected = {"fd00::5", "10.0.0.5", "10.1.0.5"};
  EXPECT_EQ(podIps(result, "eth0"), expected);
}

TEST(CniResultTest, ErrorResultsAreParsed) {
  auto error = parseCniError(
      R"({"cniVersion":"1.0.0","code":7,"msg":"Invalid Configuration","details":"too small"})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, 7);
  EXPECT_EQ(error->msg, "Invalid Configuration");
  EXPECT_EQ(error->details, "too small");
  EXPECT_EQ(cniErrorCodeName(7), "Invalid network config");
  EXPECT_EQ(cniErrorCodeName(11), "Try again later");
  EXPECT_EQ(cniErrorCodeName(123), "");
  EXPECT_FALSE(parseCniError(BRIDGE_RESULT_1_0).has_value());
  EXPECT_FALSE(parseCniError("plain text").has_value());
  EXPECT_FALSE(parseCniError(R"({"code":"7"})").has_value());
}

TEST(CniResultTest, VersionsCompareAndCheck) {
  EXPECT_LT(*parseCniVersion("0.3.1"), *parseCniVersion("0.4.0"));
  EXPECT_LT(*parseCniVersion("0.4.0"), *parseCniVersion("1.0.0"));
  EXPECT_GE(*parseCniVersion("1.0.0"), CNI_VERSION_CHECK);
  EXPECT_FALSE(parseCniVersion("1.0").has_value());
  EXPECT_FALSE(parseCniVersion("1.0.0-rc1").has_value());
  EXPECT_FALSE(parseCniVersion("").has_value());
  EXPECT_EQ(requireSupportedCniVersion("1.1.0").text(), "1.1.0");
  EXPECT_EQ(requireSupportedCniVersion("0.3.0").text(), "0.3.0");
  EXPECT_THROW(requireSupportedCniVersion("0.2.0"), Error);
  EXPECT_THROW(requireSupportedCniVersion("1.2.0"), Error);
  EXPECT_THROW(requireSupportedCniVersion("one"), Error);
}

}  // namespace
}  // namespace crio::cri
