#include "crio-imaged/credentials.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::imaged {
namespace {

TEST(Credentials, DecodesAuthField) {
  auto credentials = credentialsFromAuthConfig("", "", base64Encode("alice:s3cr:et"), "", "");
  EXPECT_EQ(credentials.username, "alice");
  EXPECT_EQ(credentials.password, "s3cr:et");
}

TEST(Credentials, UsernameAndPasswordWinOverAuth) {
  auto credentials = credentialsFromAuthConfig("bob", "pw", base64Encode("alice:x"), "", "");
  EXPECT_EQ(credentials.username, "bob");
  EXPECT_EQ(credentials.password, "pw");
}

TEST(Credentials, BadAuthFieldDoesNotEchoIt) {
  try {
    credentialsFromAuthConfig("", "", "not*base64!", "", "");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_EQ(std::string(e.what()).find("not*base64"), std::string::npos) << e.what();
  }
  EXPECT_THROW(credentialsFromAuthConfig("", "", base64Encode("nocolon"), "", ""), Error);
}

TEST(Credentials, CacheKeySeparatesCredentials) {
  RegistryCredentials none;
  EXPECT_EQ(none.cacheKey(), "anonymous");
  RegistryCredentials a{"ab", "c", "", ""};
  RegistryCredentials b{"a", "bc", "", ""};
  EXPECT_NE(a.cacheKey(), b.cacheKey());
  EXPECT_EQ(a.cacheKey(), (RegistryCredentials{"ab", "c", "", ""}).cacheKey());
  EXPECT_EQ(a.cacheKey().find("ab"), std::string::npos);
}

TEST(Base64, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 10; ++i) {
    std::string decoded;
    ASSERT_TRUE(base64Decode(base64Encode(data), decoded));
    EXPECT_EQ(decoded, data);
    data.push_back(static_cast<char>(0xf0 + i));
  }
  EXPECT_EQ(basicAuthorization("user", "pass"), "Basic dXNlcjpwYXNz");
  std::string out;
  EXPECT_FALSE(base64Decode("abc", out));
}

}  // namespace
}  // namespace crio::imaged
