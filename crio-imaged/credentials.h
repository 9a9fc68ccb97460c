// Credentials for one registry, as a pull request carries them (CRI AuthConfig) or as an auth
// file stores them. They are secrets: no function here logs them or puts them in an error
// message, and callers must not either.
#pragma once

#include <string>
#include <string_view>

namespace crio::imaged {

struct RegistryCredentials {
  std::string username;
  std::string password;
  std::string identityToken;  // an OAuth2 refresh token, exchanged at the token realm
  std::string registryToken;  // a bearer token sent to the registry as it is

  bool empty() const {
    return username.empty() && password.empty() && identityToken.empty() && registryToken.empty();
  }

  // A key for caching tokens obtained with these credentials: a SHA-256 over every field, or
  // "anonymous". Tokens of one set of credentials are never handed to a pull with another.
  std::string cacheKey() const;
};

// Builds credentials from the fields of a CRI AuthConfig. `auth` ("user:password" in base64) is
// used when username and password are empty. Throws INVALID_ARGUMENT (without echoing the value)
// when `auth` is not valid base64 or has no colon.
RegistryCredentials credentialsFromAuthConfig(std::string_view username, std::string_view password,
                                              std::string_view auth, std::string_view identityToken,
                                              std::string_view registryToken);

// "Basic <base64(user:password)>", the value of an Authorization header.
std::string basicAuthorization(std::string_view username, std::string_view password);

std::string base64Encode(std::string_view data);
// Standard alphabet with padding; false on any invalid character or length.
bool base64Decode(std::string_view text, std::string& out);

}  // namespace crio::imaged
