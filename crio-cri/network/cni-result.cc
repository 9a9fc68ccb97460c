#include "crio-cri/network/cni-result.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace crio::cri {

namespace {

using nlohmann::json;

constexpr CniVersion OLDEST_SUPPORTED{0, 3, 0};
constexpr CniVersion NEWEST_SUPPORTED_MINOR{1, 1, 0};  // any 1.1.x patch release

[[noreturn]] void invalid(const std::string& reason) {
  fail(ErrorCategory::INVALID_ARGUMENT, "invalid CNI result: " + reason);
}

std::string optionalString(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (!it->is_string()) invalid(where + "." + key + " is not a string");
  return it->get<std::string>();
}

std::vector<std::string> optionalStrings(const json& object, const char* key,
                                         const std::string& where) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) invalid(where + "." + key + " is not a list");
  for (const auto& item : *it) {
    if (!item.is_string()) invalid(where + "." + key + " has an entry that is not a string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

const json* optionalArray(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  if (!it->is_array()) invalid(std::string(key) + " is not a list");
  return &*it;
}

// The family of a plain address, 0 when it is not one.
int addressFamily(const std::string& text) {
  unsigned char buffer[16];
  if (inet_pton(AF_INET, text.c_str(), buffer) == 1) return 4;
  if (inet_pton(AF_INET6, text.c_str(), buffer) == 1) return 6;
  return 0;
}

// The family of "ADDRESS/PREFIX", 0 when it is not a valid CIDR.
int cidrFamily(const std::string& text) {
  auto slash = text.find('/');
  if (slash == std::string::npos || slash + 1 >= text.size()) return 0;
  int family = addressFamily(text.substr(0, slash));
  std::string prefix = text.substr(slash + 1);
  if (family == 0 || prefix.size() > 3 ||
      prefix.find_first_not_of("0123456789") != std::string::npos) {
    return 0;
  }
  int length = std::stoi(prefix);
  return length <= (family == 4 ? 32 : 128) ? family : 0;
}

}  // namespace

std::string CniVersion::text() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

std::optional<CniVersion> parseCniVersion(const std::string& text) {
  CniVersion version;
  int* parts[] = {&version.major, &version.minor, &version.patch};
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t end = text.find('.', start);
    if (i < 2 && end == std::string::npos) return std::nullopt;
    if (i == 2) end = text.size();
    std::string part = text.substr(start, end - start);
    if (part.empty() || part.size() > 6 ||
        part.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    *parts[i] = std::stoi(part);
    start = end + 1;
  }
  return version;
}

CniVersion requireSupportedCniVersion(const std::string& text) {
  auto version = parseCniVersion(text);
  if (!version) {
    fail(ErrorCategory::INVALID_ARGUMENT, "invalid CNI version \"" + text + "\"");
  }
  bool tooNew = version->major > NEWEST_SUPPORTED_MINOR.major ||
                (version->major == NEWEST_SUPPORTED_MINOR.major &&
                 version->minor > NEWEST_SUPPORTED_MINOR.minor);
  if (*version < OLDEST_SUPPORTED || tooNew) {
    fail(ErrorCategory::INVALID_ARGUMENT, "CNI version " + text +
                                              " is not supported; supported are " +
                                              OLDEST_SUPPORTED.text() + " to 1.1.x");
  }
  return *version;
}

std::string CniIpConfig::ip() const {
  return address.substr(0, address.find('/'));
}

CniResult parseCniResult(const std::string& text, const std::string& configVersion) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) invalid("not a JSON object");

  CniResult result;
  result.cniVersion = optionalString(doc, "cniVersion", "result");
  if (result.cniVersion.empty()) result.cniVersion = configVersion;
  CniVersion version = requireSupportedCniVersion(result.cniVersion);
  bool versionedIps = version < CniVersion{1, 0, 0};

  if (const json* interfaces = optionalArray(doc, "interfaces")) {
    for (size_t i = 0; i < interfaces->size(); ++i) {
      const json& item = (*interfaces)[i];
      std::string where = "interfaces[" + std::to_string(i) + "]";
      if (!item.is_object()) invalid(where + " is not an object");
      CniInterface interface;
      interface.name = optionalString(item, "name", where);
      if (interface.name.empty()) invalid(where + " has no name");
      interface.mac = optionalString(item, "mac", where);
      interface.sandbox = optionalString(item, "sandbox", where);
      result.interfaces.push_back(std::move(interface));
    }
  }

  if (const json* ips = optionalArray(doc, "ips")) {
    for (size_t i = 0; i < ips->size(); ++i) {
      const json& item = (*ips)[i];
      std::string where = "ips[" + std::to_string(i) + "]";
      if (!item.is_object()) invalid(where + " is not an object");
      CniIpConfig ip;
      ip.address = optionalString(item, "address", where);
      ip.family = cidrFamily(ip.address);
      if (ip.family == 0) invalid(where + ".address \"" + ip.address + "\" is not a CIDR");
      std::string family = optionalString(item, "version", where);
      if (versionedIps && !family.empty() && family != std::to_string(ip.family)) {
        invalid(where + ".version \"" + family + "\" does not match " + ip.address);
      }
      ip.gateway = optionalString(item, "gateway", where);
      if (!ip.gateway.empty() && addressFamily(ip.gateway) != ip.family) {
        invalid(where + ".gateway \"" + ip.gateway + "\" is not an IPv" +
                std::to_string(ip.family) + " address");
      }
      auto index = item.find("interface");
      if (index != item.end() && !index->is_null()) {
        if (!index->is_number_integer() || index->get<int64_t>() < 0 ||
            index->get<int64_t>() >= static_cast<int64_t>(result.interfaces.size())) {
          invalid(where + ".interface is not an index into interfaces");
        }
        ip.interfaceIndex = index->get<int>();
      }
      result.ips.push_back(std::move(ip));
    }
  }

  if (const json* routes = optionalArray(doc, "routes")) {
    for (size_t i = 0; i < routes->size(); ++i) {
      const json& item = (*routes)[i];
      std::string where = "routes[" + std::to_string(i) + "]";
      if (!item.is_object()) invalid(where + " is not an object");
      CniRoute route{optionalString(item, "dst", where), optionalString(item, "gw", where)};
      if (cidrFamily(route.dst) == 0) invalid(where + ".dst \"" + route.dst + "\" is not a CIDR");
      result.routes.push_back(std::move(route));
    }
  }

  auto dns = doc.find("dns");
  if (dns != doc.end() && !dns->is_null()) {
    if (!dns->is_object()) invalid("dns is not an object");
    result.dns.nameservers = optionalStrings(*dns, "nameservers", "dns");
    result.dns.domain = optionalString(*dns, "domain", "dns");
    result.dns.search = optionalStrings(*dns, "search", "dns");
    result.dns.options = optionalStrings(*dns, "options", "dns");
  }
  return result;
}

std::vector<std::string> podIps(const CniResult& result, const std::string& ifName) {
  std::vector<std::string> out;
  for (const auto& ip : result.ips) {
    if (ip.interfaceIndex >= 0) {
      const CniInterface& interface = result.interfaces[static_cast<size_t>(ip.interfaceIndex)];
      if (interface.name != ifName || interface.sandbox.empty()) continue;
    }
    out.push_back(ip.ip());
  }
  return out;
}

std::optional<CniError> parseCniError(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto code = doc.find("code");
  if (code == doc.end() || !code->is_number_integer()) return std::nullopt;
  CniError error;
  error.code = code->get<int>();
  auto msg = doc.find("msg");
  if (msg != doc.end() && msg->is_string()) error.msg = msg->get<std::string>();
  auto details = doc.find("details");
  if (details != doc.end() && details->is_string()) error.details = details->get<std::string>();
  return error;
}

std::string cniErrorCodeName(int code) {
  switch (code) {
    case 1:
      return "Incompatible CNI version";
    case 2:
      return "Unsupported field in network configuration";
    case 3:
      return "Container unknown or does not exist";
    case 4:
      return "Invalid necessary environment variables";
    case 5:
      return "I/O failure";
    case 6:
      return "Failed to decode content";
    case 7:
      return "Invalid network config";
    case 11:
      return "Try again later";
    default:
      return "";
  }
}

}  // namespace crio::cri
