#include "common/error.h"

#include <gtest/gtest.h>

namespace crio {
namespace {

TEST(ErrorTest, ContextIsPrependedAndCategoryKept) {
  try {
    withContext("pull busybox",
                []() -> int { fail(ErrorCategory::NOT_FOUND, "manifest unknown"); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
    EXPECT_STREQ(e.what(), "pull busybox: manifest unknown");
  }
}

TEST(ErrorTest, SyscallErrorsNameOperationAndPath) {
  try {
    failSyscall("open", "/nonexistent", ENOENT);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
    EXPECT_STREQ(e.what(), "open /nonexistent: No such file or directory");
  }
}

TEST(ErrorTest, CategoryNamesRoundTrip) {
  for (auto category : {ErrorCategory::INVALID_ARGUMENT, ErrorCategory::UNAVAILABLE,
                        ErrorCategory::RESOURCE_EXHAUSTED, ErrorCategory::INTERNAL}) {
    EXPECT_EQ(categoryFromName(categoryName(category)), category);
  }
  EXPECT_EQ(categoryFromName("bogus"), ErrorCategory::INTERNAL);
}

}  // namespace
}  // namespace crio
