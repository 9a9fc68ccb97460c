#include "ipc/errors.h"

#include <gtest/gtest.h>

namespace crio::ipc {
namespace {

TEST(IpcErrorsTest, CategorySurvivesTheRoundTrip) {
  Error original(ErrorCategory::ALREADY_EXISTS, "layer sha256:ab exists");
  kj::Exception wire = toKjException(original);
  Error back = fromKjException(wire, "crio-stored");
  EXPECT_EQ(back.category(), ErrorCategory::ALREADY_EXISTS);
  EXPECT_STREQ(back.what(), "layer sha256:ab exists");
}

TEST(IpcErrorsTest, RemotePrefixIsRemoved) {
  kj::Exception wire(kj::Exception::Type::FAILED, __FILE__, __LINE__,
                     kj::str("remote exception: [not_found] no such image"));
  Error back = fromKjException(wire, "crio-stored");
  EXPECT_EQ(back.category(), ErrorCategory::NOT_FOUND);
  EXPECT_STREQ(back.what(), "no such image");
}

TEST(IpcErrorsTest, DisconnectIsUnavailableNamingThePeer) {
  kj::Exception wire(kj::Exception::Type::DISCONNECTED, __FILE__, __LINE__,
                     kj::str("connection reset"));
  Error back = fromKjException(wire, "crio-imaged");
  EXPECT_EQ(back.category(), ErrorCategory::UNAVAILABLE);
  EXPECT_NE(std::string(back.what()).find("crio-imaged"), std::string::npos);
}

TEST(IpcErrorsTest, UncategorisedIsInternalNamingThePeer) {
  kj::Exception wire(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str("boom"));
  Error back = fromKjException(wire, "crio-imaged");
  EXPECT_EQ(back.category(), ErrorCategory::INTERNAL);
  EXPECT_STREQ(back.what(), "crio-imaged: boom");
}

}  // namespace
}  // namespace crio::ipc
