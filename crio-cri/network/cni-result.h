// CNI versions, plugin results and plugin errors (CNI spec 0.3.0 to 1.1.0).
//
// A success result (spec 1.0.0 section 5; 0.4.0 "Result"):
//   {"cniVersion": "1.0.0",
//    "interfaces": [{"name": "eth0", "mac": "..", "sandbox": "/run/crio/ns/netns/POD"}],
//    "ips": [{"address": "10.0.0.5/24", "gateway": "10.0.0.1", "interface": 0}],
//    "routes": [{"dst": "0.0.0.0/0", "gw": "10.0.0.1"}],
//    "dns": {"nameservers": [..], "domain": "..", "search": [..], "options": [..]}}
// Versions 0.3.x and 0.4.0 add "version": "4" or "6" to each entry of "ips"; 1.0.0 dropped it.
// Results older than 0.3.0 ("ip4"/"ip6" objects) are rejected rather than converted, because
// every plugin still maintained speaks 0.3.0 or later.
// An error result: {"cniVersion": "..", "code": 7, "msg": "..", "details": ".."}.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace crio::cri {

struct CniVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;

  auto operator<=>(const CniVersion&) const = default;
  std::string text() const;
};

// Parses "MAJOR.MINOR.PATCH"; nullopt for anything else.
std::optional<CniVersion> parseCniVersion(const std::string& text);

// Checks that this runtime speaks `text` (0.3.0 up to 1.1.x). Throws INVALID_ARGUMENT naming the
// version and what is supported.
CniVersion requireSupportedCniVersion(const std::string& text);

// CHECK exists from 0.4.0 on, and so does prevResult on DEL.
constexpr CniVersion CNI_VERSION_CHECK{0, 4, 0};

struct CniInterface {
  std::string name;
  std::string mac;
  std::string sandbox;  // the netns path for an interface inside the pod, "" on the host
};

struct CniIpConfig {
  int family = 4;           // 4 or 6, from the address
  std::string address;      // CIDR: "10.244.213.5/24"
  std::string gateway;      // "" when none
  int interfaceIndex = -1;  // index into interfaces, -1 when absent (IPAM results)

  // The address without its prefix length: "10.244.213.5".
  std::string ip() const;
};

struct CniRoute {
  std::string dst;
  std::string gw;
};

struct CniDns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
};

struct CniResult {
  std::string cniVersion;
  std::vector<CniInterface> interfaces;
  std::vector<CniIpConfig> ips;
  std::vector<CniRoute> routes;
  CniDns dns;
};

// Parses and checks a success result: a supported version, addresses that are valid CIDRs of
// the family "version" names, interface indexes inside the list. Throws INVALID_ARGUMENT with
// the reason. A result without cniVersion is read as `configVersion`.
CniResult parseCniResult(const std::string& json, const std::string& configVersion);

// The pod's addresses: those of `ifName` inside the sandbox (or with no interface named), in the
// result's order, without prefix length. CRI reports the first as PodSandboxNetworkStatus.ip and
// the rest as additional_ips.
std::vector<std::string> podIps(const CniResult& result, const std::string& ifName);

struct CniError {
  int code = 0;
  std::string msg;
  std::string details;
};

// Reads an error result; nullopt when the text is not one (no numeric "code").
std::optional<CniError> parseCniError(const std::string& json);

// The well-known meaning of error codes 1 to 11 ("Incompatible CNI version"), "" for the rest.
std::string cniErrorCodeName(int code);

}  // namespace crio::cri
