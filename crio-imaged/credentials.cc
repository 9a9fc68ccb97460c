#include "crio-imaged/credentials.h"

#include <openssl/evp.h>

#include "common/error.h"
#include "crio-imaged/digest.h"

namespace crio::imaged {

std::string RegistryCredentials::cacheKey() const {
  if (empty()) return "anonymous";
  // Each field is length-prefixed so that moving bytes between fields changes the key.
  Sha256 hasher;
  for (const std::string* field : {&username, &password, &identityToken, &registryToken}) {
    std::string length = std::to_string(field->size()) + ":";
    hasher.update(length);
    hasher.update(*field);
  }
  return std::string(hasher.digest().hex());
}

RegistryCredentials credentialsFromAuthConfig(std::string_view username, std::string_view password,
                                              std::string_view auth, std::string_view identityToken,
                                              std::string_view registryToken) {
  RegistryCredentials credentials;
  credentials.username = username;
  credentials.password = password;
  credentials.identityToken = identityToken;
  credentials.registryToken = registryToken;
  if (credentials.username.empty() && credentials.password.empty() && !auth.empty()) {
    std::string decoded;
    if (!base64Decode(auth, decoded)) {
      fail(ErrorCategory::INVALID_ARGUMENT, "the \"auth\" field of the credentials is not base64");
    }
    auto colon = decoded.find(':');
    if (colon == std::string::npos) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "the \"auth\" field of the credentials does not decode to \"user:password\"");
    }
    credentials.username = decoded.substr(0, colon);
    credentials.password = decoded.substr(colon + 1);
  }
  return credentials;
}

std::string basicAuthorization(std::string_view username, std::string_view password) {
  std::string pair = std::string(username) + ":" + std::string(password);
  return "Basic " + base64Encode(pair);
}

std::string base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(data.data()),
                               static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(length));
  return out;
}

bool base64Decode(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  out.assign(3 * (text.size() / 4), '\0');
  int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                               reinterpret_cast<const unsigned char*>(text.data()),
                               static_cast<int>(text.size()));
  if (length < 0) return false;
  // EVP_DecodeBlock counts padding as zero bytes; drop one per '='.
  size_t padding = 0;
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && padding < 2; --i)
    ++padding;
  out.resize(static_cast<size_t>(length) - padding);
  return true;
}

}  // namespace crio::imaged
