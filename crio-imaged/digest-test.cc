#include "crio-imaged/digest.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::imaged {
namespace {

constexpr const char* EMPTY_SHA256 =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Digest, ParsesCanonicalSha256) {
  Digest digest = Digest::parse(EMPTY_SHA256);
  EXPECT_EQ(digest.text(), EMPTY_SHA256);
  EXPECT_EQ(digest.hex().size(), 64u);
}

TEST(Digest, RejectsOtherAlgorithmsByName) {
  try {
    Digest::parse("sha512:abcd", "layer digest");
    FAIL() << "sha512 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("unsupported algorithm \"sha512\""), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("layer digest"), std::string::npos) << e.what();
  }
}

TEST(Digest, RejectsMalformedText) {
  EXPECT_FALSE(Digest::isValid(""));
  EXPECT_FALSE(Digest::isValid("sha256:"));
  EXPECT_FALSE(Digest::isValid(std::string(EMPTY_SHA256) + "0"));
  EXPECT_FALSE(
      Digest::isValid("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  EXPECT_FALSE(
      Digest::isValid("sha256:../../../../etc/passwd0000000000000000000000000000000000000000"));
  EXPECT_THROW(Digest::parse("sha256:xyz"), Error);
}

TEST(Sha256, HashesStreamedBytesLikeOneBuffer) {
  Sha256 hasher;
  hasher.update("hello ");
  Digest partial = hasher.digest();
  hasher.update("world");
  EXPECT_EQ(hasher.digest(), sha256Of("hello world"));
  EXPECT_EQ(partial, sha256Of("hello "));
  EXPECT_EQ(sha256Of("").text(), EMPTY_SHA256);
}

TEST(Sha256, ResetStartsOver) {
  Sha256 hasher;
  hasher.update("junk");
  hasher.reset();
  EXPECT_EQ(hasher.digest().text(), EMPTY_SHA256);
}

}  // namespace
}  // namespace crio::imaged
