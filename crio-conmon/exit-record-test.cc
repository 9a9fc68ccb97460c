#include "crio-conmon/exit-record.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::conmon {
namespace {

class ExitRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-exit-record-test-XXXXXX";
    root_ = mkdtemp(pattern);
    dir_ = root_ + "/exits";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string root_;
  std::string dir_;
};

TEST_F(ExitRecordTest, RoundTrips) {
  ExitRecord record;
  record.id = "abc123";
  record.pid = 4242;
  record.exitCode = 137;
  record.oomKilled = true;
  record.reason = "OOMKilled";
  record.message = "killed \"hard\"\n";
  record.createdAt = 1;
  record.startedAt = 2;
  record.finishedAt = 1700000000123456789;
  writeExitRecord(dir_, record);

  struct stat st;
  ASSERT_EQ(stat(exitRecordPath(dir_, "abc123").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/.abc123.tmp"));

  auto read = readExitRecord(dir_, "abc123");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->id, "abc123");
  EXPECT_EQ(read->pid, 4242);
  EXPECT_EQ(read->exitCode, 137);
  EXPECT_TRUE(read->oomKilled);
  EXPECT_EQ(read->reason, "OOMKilled");
  EXPECT_EQ(read->message, "killed \"hard\"\n");
  EXPECT_EQ(read->createdAt, 1);
  EXPECT_EQ(read->startedAt, 2);
  EXPECT_EQ(read->finishedAt, 1700000000123456789);
}

TEST_F(ExitRecordTest, AbsentIsNullopt) {
  EXPECT_FALSE(readExitRecord(dir_, "nothing").has_value());
}

TEST_F(ExitRecordTest, SecondWriteReplacesTheFirst) {
  ExitRecord record;
  record.id = "c";
  record.exitCode = 1;
  writeExitRecord(dir_, record);
  record.exitCode = 2;
  writeExitRecord(dir_, record);
  EXPECT_EQ(readExitRecord(dir_, "c")->exitCode, 2);
}

TEST_F(ExitRecordTest, LongMessageIsCut) {
  ExitRecord record;
  record.id = "c";
  record.message = std::string(3 * MAX_MESSAGE, 'm');
  writeExitRecord(dir_, record);
  EXPECT_EQ(readExitRecord(dir_, "c")->message.size(), MAX_MESSAGE);
}

TEST_F(ExitRecordTest, InvalidUtf8InMessageIsReplaced) {
  ExitRecord record;
  record.id = "c";
  record.message = "bad \xff byte";
  writeExitRecord(dir_, record);
  EXPECT_EQ(readExitRecord(dir_, "c")->message, "bad \xEF\xBF\xBD byte");
}

TEST_F(ExitRecordTest, MalformedAndNewerRecordsAreRejected) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/broken") << "{not json";
  std::ofstream(dir_ + "/newer") << R"({"version":99,"id":"newer","exitCode":0,"finishedAt":1})";
  std::ofstream(dir_ + "/huge") << std::string(MAX_EXIT_RECORD_SIZE + 10, ' ');
  for (const char* id : {"broken", "newer", "huge"}) {
    try {
      readExitRecord(dir_, id);
      FAIL() << id << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT) << id;
    }
  }
}

}  // namespace
}  // namespace crio::conmon
