// WWW-Authenticate challenges of a registry (RFC 7235 syntax): the scheme and its parameters,
// such as `Bearer realm="https://auth.example/token",service="registry.example",scope="..."`.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace crio::imaged {

struct AuthChallenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // names in lower case, values unquoted

  // The parameter's value, "" when absent.
  std::string param(const std::string& name) const;
};

// Parses one header value; a value may hold several challenges separated by commas. Malformed
// parts end the parse: what was understood before them is returned.
std::vector<AuthChallenge> parseAuthChallenges(std::string_view header);

}  // namespace crio::imaged
