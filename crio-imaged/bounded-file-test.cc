#include "crio-imaged/bounded-file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::imaged {
namespace {

namespace fs = std::filesystem;

class BoundedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-bounded-file-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ErrorCategory errorReading(const std::string& path, size_t maxBytes) {
    try {
      readBoundedFile(path, maxBytes);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      return e.category();
    }
    ADD_FAILURE() << "no error reading " << path;
    return ErrorCategory::INTERNAL;
  }

  std::string dir_;
};

TEST_F(BoundedFileTest, MissingFileIsNullopt) {
  EXPECT_FALSE(readBoundedFile(dir_ + "/absent", 10).has_value());
  EXPECT_FALSE(readBoundedFile(dir_ + "/absent/below", 10).has_value());
}

TEST_F(BoundedFileTest, ReadsUpToTheLimit) {
  std::ofstream(dir_ + "/f") << "0123456789";
  EXPECT_EQ(readBoundedFile(dir_ + "/f", 10).value(), "0123456789");
}

TEST_F(BoundedFileTest, LargerThanLimitRejected) {
  std::ofstream(dir_ + "/f") << "0123456789";
  EXPECT_EQ(errorReading(dir_ + "/f", 9), ErrorCategory::RESOURCE_EXHAUSTED);
}

TEST_F(BoundedFileTest, FolderAndFifoRejected) {
  EXPECT_EQ(errorReading(dir_, 10), ErrorCategory::INVALID_ARGUMENT);
  ASSERT_EQ(mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(errorReading(dir_ + "/fifo", 10), ErrorCategory::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace crio::imaged
