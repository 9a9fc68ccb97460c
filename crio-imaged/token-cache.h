// Bearer tokens from a registry's token service: parsing the token response and keeping tokens
// until they expire, per registry, scope and credentials.
//
// Token response (Docker token authentication specification): a JSON object with "token" (or
// "access_token", the OAuth2 name), optional "expires_in" in seconds (60 when absent) and
// optional "issued_at". Used only on the event-loop thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace crio::imaged {

using Clock = std::chrono::steady_clock;

constexpr size_t MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
// A token is sent in a request header, so it must fit well inside the header limits of servers.
constexpr size_t MAX_TOKEN_BYTES = 64 * 1024;
// Cached tokens across all registries; the oldest go first when it is full.
constexpr size_t MAX_CACHED_TOKENS = 1024;
constexpr std::chrono::seconds DEFAULT_TOKEN_LIFETIME{60};

struct BearerToken {
  std::string token;
  Clock::time_point expiry;
};

// Parses a token response received at `now`. A token is kept for 90% of its lifetime so that it
// is not sent just as it expires. Throws UNAVAILABLE when the response has no usable token.
BearerToken parseTokenResponse(std::string_view body, Clock::time_point now);

class TokenCache {
 public:
  // `registry` is host[:port], `scope` as in the challenge, `credentialsKey` from
  // RegistryCredentials::cacheKey().
  static std::string key(std::string_view registry, std::string_view scope,
                         std::string_view credentialsKey);

  std::optional<std::string> find(const std::string& key, Clock::time_point now);
  void store(const std::string& key, BearerToken token, Clock::time_point now);
  size_t size() const { return tokens_.size(); }

 private:
  std::map<std::string, BearerToken> tokens_;
};

}  // namespace crio::imaged
