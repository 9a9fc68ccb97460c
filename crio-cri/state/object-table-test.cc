#include "crio-cri/state/object-table.h"

#include <gtest/gtest.h>

namespace crio::cri {
namespace {

TEST(ObjectTableTest, FindsByIdAndUniquePrefix) {
  ObjectTable<int> table("pod");
  table.add("abc123", 1);
  table.add("abd456", 2);
  EXPECT_EQ(table.get("abc123")->value, 1);
  EXPECT_EQ(table.get("abc")->value, 1);
  EXPECT_EQ(table.get("abd")->value, 2);
  EXPECT_EQ(table.find("abe"), nullptr);
  EXPECT_EQ(table.find(""), nullptr);
}

TEST(ObjectTableTest, AmbiguousPrefixIsInvalid) {
  ObjectTable<int> table("pod");
  table.add("abc123", 1);
  table.add("abc456", 2);
  try {
    table.find("abc");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  }
}

TEST(ObjectTableTest, MissingIsNotFoundAndDuplicateIsAlreadyExists) {
  ObjectTable<int> table("container");
  table.add("x1", 1);
  try {
    table.get("zz");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("container zz"), std::string::npos);
  }
  try {
    table.add("x1", 2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::ALREADY_EXISTS);
  }
  table.remove("x1");
  EXPECT_EQ(table.find("x1"), nullptr);
  EXPECT_TRUE(table.all().empty());
}

}  // namespace
TEST(ObjectTableTest, LongUnknownIdIsCut) {
  ObjectTable<int> table("container");
  std::string id(10000, 'a');
  try {
    table.get(id);
    FAIL() << "an unknown id was found";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
    EXPECT_LT(std::string(e.what()).size(), 300u) << e.what();
    EXPECT_NE(std::string(e.what()).find("(10000 bytes)"), std::string::npos) << e.what();
  }
}

}  // namespace crio::cri
