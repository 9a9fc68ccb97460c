#include "crio-imaged/token-cache.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/error.h"

namespace crio::imaged {

BearerToken parseTokenResponse(std::string_view body, Clock::time_point now) {
  if (body.size() > MAX_TOKEN_RESPONSE_BYTES) {
    fail(ErrorCategory::UNAVAILABLE, "the token response is larger than the limit of " +
                                         std::to_string(MAX_TOKEN_RESPONSE_BYTES) + " bytes");
  }
  auto json = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    fail(ErrorCategory::UNAVAILABLE, "the token response is not a JSON object");
  }

  BearerToken result;
  for (const char* name : {"token", "access_token"}) {
    auto it = json.find(name);
    if (it != json.end() && it->is_string() && !it->get<std::string>().empty()) {
      result.token = it->get<std::string>();
      break;
    }
  }
  if (result.token.empty()) {
    fail(ErrorCategory::UNAVAILABLE, "the token response has no \"token\" or \"access_token\"");
  }
  if (result.token.size() > MAX_TOKEN_BYTES) {
    fail(ErrorCategory::UNAVAILABLE,
         "the token is larger than the limit of " + std::to_string(MAX_TOKEN_BYTES) + " bytes");
  }
  // A header value cannot carry control characters; a token with them is not a token.
  for (char c : result.token) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      fail(ErrorCategory::UNAVAILABLE, "the token contains control characters");
    }
  }

  std::chrono::seconds lifetime = DEFAULT_TOKEN_LIFETIME;
  auto expires = json.find("expires_in");
  if (expires != json.end() && expires->is_number_integer() && expires->get<int64_t>() > 0) {
    // Bounded at a day so that the arithmetic below cannot overflow.
    lifetime = std::chrono::seconds(std::min<int64_t>(expires->get<int64_t>(), 86400));
  }
  result.expiry = now + lifetime * 9 / 10;
  return result;
}

std::string TokenCache::key(std::string_view registry, std::string_view scope,
                            std::string_view credentialsKey) {
  return std::string(registry) + "\n" + std::string(scope) + "\n" + std::string(credentialsKey);
}

std::optional<std::string> TokenCache::find(const std::string& key, Clock::time_point now) {
  auto it = tokens_.find(key);
  if (it == tokens_.end()) return std::nullopt;
  if (it->second.expiry <= now) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second.token;
}

void TokenCache::store(const std::string& key, BearerToken token, Clock::time_point now) {
  if (tokens_.size() >= MAX_CACHED_TOKENS && tokens_.find(key) == tokens_.end()) {
    std::erase_if(tokens_, [now](const auto& entry) { return entry.second.expiry <= now; });
  }
  while (tokens_.size() >= MAX_CACHED_TOKENS && tokens_.find(key) == tokens_.end()) {
    auto oldest = std::min_element(
        tokens_.begin(), tokens_.end(),
        [](const auto& a, const auto& b) { return a.second.expiry < b.second.expiry; });
    tokens_.erase(oldest);
  }
  tokens_[key] = std::move(token);
}

}  // namespace crio::imaged
