#include "crio-cri/network/cni-request.h"

#include <arpa/inet.h>

#include "common/error.h"

namespace crio::cri {

namespace {

using nlohmann::json;

std::string protocolName(PortProtocol protocol) {
  switch (protocol) {
    case PortProtocol::TCP:
      return "tcp";
    case PortProtocol::UDP:
      return "udp";
    case PortProtocol::SCTP:
      return "sctp";
  }
  return "tcp";
}

bool validIp(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

void checkArgValue(const char* key, const std::string& value) {
  bool valid = value.size() <= MAX_CNI_ARG_VALUE_LENGTH;
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (c == ';' || c == '=' || byte < 0x20 || byte == 0x7f) valid = false;
  }
  if (!valid) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string("invalid ") + key + " for CNI_ARGS: \"" +
             value.substr(0, MAX_CNI_ARG_VALUE_LENGTH) + "\" (at most " +
             std::to_string(MAX_CNI_ARG_VALUE_LENGTH) + " characters, no ';', '=' or control)");
  }
}

json stringList(const std::vector<std::string>& values, const char* what) {
  if (values.size() > MAX_CNI_DNS_ENTRIES) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string("more than ") + std::to_string(MAX_CNI_DNS_ENTRIES) + " DNS " + what);
  }
  return json(values);
}

}  // namespace

std::vector<CniPortMapping> translatePortMappings(const std::vector<PodPortMapping>& mappings) {
  if (mappings.size() > MAX_POD_PORT_MAPPINGS) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "more than " + std::to_string(MAX_POD_PORT_MAPPINGS) + " port mappings");
  }
  std::vector<CniPortMapping> out;
  for (const auto& mapping : mappings) {
    if (mapping.hostPort <= 0) continue;
    if (mapping.hostPort > 65535 || mapping.containerPort <= 0 || mapping.containerPort > 65535) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "invalid port mapping " + std::to_string(mapping.hostPort) + " -> " +
               std::to_string(mapping.containerPort) + ": ports must be 1 to 65535");
    }
    if (!mapping.hostIp.empty() && !validIp(mapping.hostIp)) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "invalid host IP \"" + mapping.hostIp.substr(0, 64) + "\" in a port mapping");
    }
    out.push_back(
        {mapping.hostPort, mapping.containerPort, protocolName(mapping.protocol), mapping.hostIp});
  }
  return out;
}

std::string composeCniArgs(const PodNetworkRequest& request) {
  checkArgValue("K8S_POD_NAMESPACE", request.podNamespace);
  checkArgValue("K8S_POD_NAME", request.podName);
  checkArgValue("K8S_POD_INFRA_CONTAINER_ID", request.podId);
  checkArgValue("K8S_POD_UID", request.podUid);
  return "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + request.podNamespace +
         ";K8S_POD_NAME=" + request.podName + ";K8S_POD_INFRA_CONTAINER_ID=" + request.podId +
         ";K8S_POD_UID=" + request.podUid;
}

json capabilityArgs(const PodNetworkRequest& request) {
  json args = json::object();

  std::vector<CniPortMapping> ports = translatePortMappings(request.portMappings);
  if (!ports.empty()) {
    json list = json::array();
    for (const auto& port : ports) {
      json entry = {{"hostPort", port.hostPort},
                    {"containerPort", port.containerPort},
                    {"protocol", port.protocol}};
      if (!port.hostIp.empty()) entry["hostIP"] = port.hostIp;
      list.push_back(std::move(entry));
    }
    args["portMappings"] = std::move(list);
  }

  if (request.bandwidth) {
    const CniBandwidth& b = *request.bandwidth;
    args["bandwidth"] = {{"ingressRate", b.ingressRate},
                         {"ingressBurst", b.ingressBurst},
                         {"egressRate", b.egressRate},
                         {"egressBurst", b.egressBurst}};
  }

  if (!request.ipRanges.empty()) {
    json outer = json::array();
    for (const auto& set : request.ipRanges) {
      json inner = json::array();
      for (const auto& range : set) {
        json entry = {{"subnet", range.subnet}};
        if (!range.rangeStart.empty()) entry["rangeStart"] = range.rangeStart;
        if (!range.rangeEnd.empty()) entry["rangeEnd"] = range.rangeEnd;
        if (!range.gateway.empty()) entry["gateway"] = range.gateway;
        inner.push_back(std::move(entry));
      }
      outer.push_back(std::move(inner));
    }
    args["ipRanges"] = std::move(outer);
  }

  if (request.dns) {
    args["dns"] = {{"servers", stringList(request.dns->servers, "servers")},
                   {"searches", stringList(request.dns->searches, "searches")},
                   {"options", stringList(request.dns->options, "options")}};
  }
  return args;
}

json derivePluginConfig(const json& plugin, const std::string& networkName,
                        const std::string& cniVersion, const json& capabilities,
                        const json& prevResult) {
  json config = plugin;
  config["cniVersion"] = cniVersion;
  config["name"] = networkName;

  json runtimeConfig = json::object();
  auto declared = plugin.find("capabilities");
  if (declared != plugin.end() && declared->is_object()) {
    for (const auto& [name, enabled] : declared->items()) {
      if (enabled.is_boolean() && enabled.get<bool>() && capabilities.contains(name)) {
        runtimeConfig[name] = capabilities[name];
      }
    }
  }
  config.erase("capabilities");
  if (!runtimeConfig.empty()) {
    config["runtimeConfig"] = std::move(runtimeConfig);
  } else {
    config.erase("runtimeConfig");
  }

  if (!prevResult.is_null()) {
    config["prevResult"] = prevResult;
  } else {
    config.erase("prevResult");
  }
  return config;
}

}  // namespace crio::cri
