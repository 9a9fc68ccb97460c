#include "crio-cri/network/cni-request.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::cri {
namespace {

using nlohmann::json;

PodNetworkRequest podRequest() {
  PodNetworkRequest request;
  request.podId = "0123abcd";
  request.netnsPath = "/run/crio/ns/netns/0123abcd";
  request.podName = "web-0";
  request.podNamespace = "shop";
  request.podUid = "5d0f8a4e-9d3c-4c2e-9f6e-1b2a3c4d5e6f";
  return request;
}

TEST(CniRequestTest, CniArgsCarryPodIdentity) {
  EXPECT_EQ(composeCniArgs(podRequest()),
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;"
            "K8S_POD_INFRA_CONTAINER_ID=0123abcd;K8S_POD_UID=5d0f8a4e-9d3c-4c2e-9f6e-1b2a3c4d5e6f");
}

TEST(CniRequestTest, CniArgsRejectSeparatorsAndLongValues) {
  const char* bad[] = {"a;b", "a=b", "tab\there", "new\nline"};
  for (const char* value : bad) {
    PodNetworkRequest request = podRequest();
    request.podName = value;
    EXPECT_THROW(composeCniArgs(request), Error) << value;
  }
  PodNetworkRequest request = podRequest();
  request.podNamespace = std::string(MAX_CNI_ARG_VALUE_LENGTH + 1, 'n');
  EXPECT_THROW(composeCniArgs(request), Error);
  request.podNamespace = std::string(MAX_CNI_ARG_VALUE_LENGTH, 'n');
  EXPECT_NO_THROW(composeCniArgs(request));
}

TEST(CniRequestTest, PortMappingsAreTranslated) {
  std::vector<PodPortMapping> mappings = {
      {PortProtocol::TCP, 80, 8080, ""},
      {PortProtocol::UDP, 53, 5353, "127.0.0.1"},
      {PortProtocol::SCTP, 9000, 9000, "::1"},
      {PortProtocol::TCP, 443, 0, ""},  // no host port: nothing to map
  };
  std::vector<CniPortMapping> out = translatePortMappings(mappings);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].hostPort, 8080);
  EXPECT_EQ(out[0].containerPort, 80);
  EXPECT_EQ(out[0].protocol, "tcp");
  EXPECT_EQ(out[0].hostIp, "");
  EXPECT_EQ(out[1].protocol, "udp");
  EXPECT_EQ(out[1].hostIp, "127.0.0.1");
  EXPECT_EQ(out[2].protocol, "sctp");
  EXPECT_EQ(out[2].hostIp, "::1");
}

TEST(CniRequestTest, InvalidPortMappingsAreRejected) {
  const PodPortMapping bad[] = {
      {PortProtocol::TCP, 0, 8080, ""},
      {PortProtocol::TCP, 70000, 8080, ""},
      {PortProtocol::TCP, 80, 65536, ""},
      {PortProtocol::TCP, 80, 8080, "localhost"},
  };
  for (const auto& mapping : bad) {
    EXPECT_THROW(translatePortMappings({mapping}), Error)
        << mapping.hostPort << "->" << mapping.containerPort << " " << mapping.hostIp;
  }
  std::vector<PodPortMapping> tooMany(MAX_POD_PORT_MAPPINGS + 1, {PortProtocol::TCP, 80, 0, ""});
  EXPECT_THROW(translatePortMappings(tooMany), Error);
}

TEST(CniRequestTest, CapabilityArgsLeaveOutEmptyOnes) {
  PodNetworkRequest request = podRequest();
  EXPECT_EQ(capabilityArgs(request), json::object());

  request.portMappings = {{PortProtocol::TCP, 80, 8080, "10.0.0.1"}};
  request.bandwidth = CniBandwidth{1000000, 2000000, 3000000, 4000000};
  request.ipRanges = {{{"10.244.0.0/16", "10.244.1.10", "10.244.1.20", "10.244.0.1"}}};
  request.dns = CniDnsCapability{{"10.96.0.10"}, {"svc.cluster.local"}, {"ndots:5"}};
  json args = capabilityArgs(request);
  EXPECT_EQ(args["portMappings"], json::parse(R"([{"hostPort":8080,"containerPort":80,
      "protocol":"tcp","hostIP":"10.0.0.1"}])"));
  EXPECT_EQ(args["bandwidth"]["ingressRate"], 1000000);
  EXPECT_EQ(args["bandwidth"]["egressBurst"], 4000000);
  EXPECT_EQ(args["ipRanges"][0][0]["subnet"], "10.244.0.0/16");
  EXPECT_EQ(args["ipRanges"][0][0]["rangeEnd"], "10.244.1.20");
  EXPECT_EQ(args["dns"]["servers"][0], "10.96.0.10");
  EXPECT_EQ(args["dns"]["searches"][0], "svc.cluster.local");
}

TEST(CniRequestTest, PluginConfigGetsListFieldsAndDeclaredCapabilities) {
  json plugin = json::parse(R"({"type":"portmap","cniVersion":"0.1.0","name":"other",
      "capabilities":{"portMappings":true,"bandwidth":false},"snat":true})");
  json caps = json::parse(R"({"portMappings":[{"hostPort":1,"containerPort":2,
      "protocol":"tcp"}],"bandwidth":{"ingressRate":1}})");
  json prev = json::parse(R"({"cniVersion":"1.0.0","ips":[]})");
  json config = derivePluginConfig(plugin, "crt-net", "1.0.0", caps, prev);
  EXPECT_EQ(config["cniVersion"], "1.0.0");
  EXPECT_EQ(config["name"], "crt-net");
  EXPECT_EQ(config["type"], "portmap");
  EXPECT_EQ(config["snat"], true);
  EXPECT_FALSE(config.contains("capabilities"));
  EXPECT_EQ(config["runtimeConfig"], json::parse(R"({"portMappings":[{"hostPort":1,
      "containerPort":2,"protocol":"tcp"}]})"));
  EXPECT_EQ(config["prevResult"], prev);
}

TEST(CniRequestTest, PluginConfigWithoutCapabilitiesOrPrevResult) {
  json plugin = json::parse(R"({"type":"bridge","bridge":"crt-br0","prevResult":{"x":1},
      "runtimeConfig":{"stale":true}})");
  json config =
      derivePluginConfig(plugin, "crt-net", "0.4.0", json::parse(R"({"portMappings":[]})"), json());
  EXPECT_FALSE(config.contains("runtimeConfig"));
  EXPECT_FALSE(config.contains("prevResult"));
  EXPECT_EQ(config["bridge"], "crt-br0");
  EXPECT_EQ(config["cniVersion"], "0.4.0");
}

}  // namespace
}  // namespace crio::cri
