#include "crio-imaged/auth-challenge.h"

#include <gtest/gtest.h>

namespace crio::imaged {
namespace {

TEST(AuthChallenge, ParsesBearerWithQuotedParams) {
  auto challenges = parseAuthChallenges(
      "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
      "scope=\"repository:library/busybox:pull\"");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].param("realm"), "https://auth.example/token");
  EXPECT_EQ(challenges[0].param("service"), "registry.example");
  EXPECT_EQ(challenges[0].param("scope"), "repository:library/busybox:pull");
  EXPECT_EQ(challenges[0].param("error"), "");
}

TEST(AuthChallenge, ParsesBasicAndTokenValues) {
  auto challenges = parseAuthChallenges("Basic realm=Registry");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].param("realm"), "Registry");
}

TEST(AuthChallenge, ParsesSeveralChallengesInOneValue) {
  auto challenges = parseAuthChallenges(
      "Basic realm=\"a, b\", Bearer realm=\"https://t/\", error=insufficient_scope");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].param("realm"), "a, b");
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_EQ(challenges[1].param("realm"), "https://t/");
  EXPECT_EQ(challenges[1].param("error"), "insufficient_scope");
}

TEST(AuthChallenge, NamesAreCaseInsensitiveAndEscapesRemoved) {
  auto challenges = parseAuthChallenges("BEARER Realm=\"x\\\"y\"");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].param("realm"), "x\"y");
}

TEST(AuthChallenge, MalformedInputStopsWithoutLooping) {
  EXPECT_TRUE(parseAuthChallenges("").empty());
  EXPECT_TRUE(parseAuthChallenges("   ,,, ").empty());
  auto unterminated = parseAuthChallenges("Bearer realm=\"never closed");
  ASSERT_EQ(unterminated.size(), 1u);
  auto garbage = parseAuthChallenges("Bearer realm=\"x\" \"stray\" = = ;;");
  ASSERT_EQ(garbage.size(), 1u);
  EXPECT_EQ(garbage[0].param("realm"), "x");
}

}  // namespace
}  // namespace crio::imaged
