#include "crio-cri/oci/quote.h"

#include <gtest/gtest.h>

namespace crio::cri::oci {
namespace {

TEST(OciQuote, EscapesControlBytesAndQuotes) {
  EXPECT_EQ(quoteValue("plain"), "\"plain\"");
  EXPECT_EQ(quoteValue("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoteValue("line\nnext"), "\"line\\nnext\"");
  EXPECT_EQ(quoteValue(std::string("nul\0x", 5)), "\"nul\\x00x\"");
}

TEST(OciQuote, CutsLongValues) {
  std::string quoted = quoteValue(std::string(1000, 'a'));
  EXPECT_EQ(quoted.size(), MAX_QUOTED_BYTES + 5);
  EXPECT_EQ(quoted.substr(quoted.size() - 4), "...\"");
}

}  // namespace
}  // namespace crio::cri::oci
