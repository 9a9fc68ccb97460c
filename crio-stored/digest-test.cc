#include "crio-stored/digest.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::stored {
namespace {

const std::string A = "sha256:" + std::string(64, 'a');
const std::string B = "sha256:" + std::string(64, 'b');

TEST(DigestTest, AcceptsOnlyLowerCaseSha256) {
  EXPECT_TRUE(isDigest(A));
  EXPECT_FALSE(isDigest("sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(isDigest("sha256:" + std::string(63, 'a')));
  EXPECT_FALSE(isDigest("sha512:" + std::string(64, 'a')));
  EXPECT_FALSE(isDigest("sha256:../" + std::string(61, 'a')));
  EXPECT_THROW(requireDigest("nope", "diff id"), Error);
}

TEST(DigestTest, ChainIdOfABaseLayerIsItsDiffId) {
  EXPECT_EQ(chainId("", A), A);
}

TEST(DigestTest, ChainIdFollowsTheOciFormula) {
  // python3: hashlib.sha256((A + " " + B).encode()).hexdigest()
  EXPECT_EQ(chainId(A, B),
            "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c");
  EXPECT_NE(chainId(A, B), chainId(B, A));
}

}  // namespace
}  // namespace crio::stored
