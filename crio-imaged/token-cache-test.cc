#include "crio-imaged/token-cache.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::imaged {
namespace {

using std::chrono::seconds;

TEST(TokenResponse, ReadsTokenAndLifetime) {
  Clock::time_point now{};
  BearerToken token = parseTokenResponse("{\"token\":\"abc\",\"expires_in\":300}", now);
  EXPECT_EQ(token.token, "abc");
  EXPECT_EQ(token.expiry, now + seconds(270));
}

TEST(TokenResponse, AcceptsAccessTokenWithDefaultLifetime) {
  Clock::time_point now{};
  BearerToken token = parseTokenResponse("{\"access_token\":\"xyz\"}", now);
  EXPECT_EQ(token.token, "xyz");
  EXPECT_EQ(token.expiry, now + seconds(54));
}

TEST(TokenResponse, RejectsMissingOrBadTokens) {
  Clock::time_point now{};
  EXPECT_THROW(parseTokenResponse("{}", now), Error);
  EXPECT_THROW(parseTokenResponse("not json", now), Error);
  EXPECT_THROW(parseTokenResponse("{\"token\":\"a\\r\\nX-Injected: 1\"}", now), Error);
  std::string huge = "{\"token\":\"" + std::string(MAX_TOKEN_BYTES + 1, 'a') + "\"}";
  EXPECT_THROW(parseTokenResponse(huge, now), Error);
}

TEST(TokenCache, ForgetsExpiredTokens) {
  TokenCache cache;
  Clock::time_point now{};
  std::string key = TokenCache::key("r.example", "repository:a:pull", "anonymous");
  cache.store(key, {"tok", now + seconds(10)}, now);
  EXPECT_EQ(cache.find(key, now + seconds(5)).value_or(""), "tok");
  EXPECT_FALSE(cache.find(key, now + seconds(10)).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(TokenCache, KeysSeparateScopesAndCredentials) {
  TokenCache cache;
  Clock::time_point now{};
  cache.store(TokenCache::key("r", "repository:a:pull", "k1"), {"one", now + seconds(60)}, now);
  EXPECT_FALSE(cache.find(TokenCache::key("r", "repository:b:pull", "k1"), now).has_value());
  EXPECT_FALSE(cache.find(TokenCache::key("r", "repository:a:pull", "k2"), now).has_value());
  EXPECT_FALSE(cache.find(TokenCache::key("s", "repository:a:pull", "k1"), now).has_value());
}

TEST(TokenCache, StaysWithinItsBound) {
  TokenCache cache;
  Clock::time_point now{};
  for (size_t i = 0; i < MAX_CACHED_TOKENS + 10; ++i) {
    cache.store("key" + std::to_string(i), {"t", now + seconds(100 + static_cast<int>(i))}, now);
  }
  EXPECT_EQ(cache.size(), MAX_CACHED_TOKENS);
  EXPECT_FALSE(cache.find("key0", now).has_value());
  EXPECT_TRUE(cache.find("key" + std::to_string(MAX_CACHED_TOKENS + 9), now).has_value());
}

}  // namespace
}  // namespace crio::imaged
