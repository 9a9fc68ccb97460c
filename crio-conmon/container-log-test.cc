#include "crio-conmon/container-log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace crio::conmon {
namespace {

// 2021-03-04T05:06:07.000000123Z
constexpr int64_t TIME = 1614834367000000123;

class ContainerLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-container-log-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/0.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static std::vector<LogEntry> entries(const std::string& text) {
    std::vector<LogEntry> result;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      auto entry = parseLogEntry(line);
      EXPECT_TRUE(entry.has_value()) << "unparsable line: " << line;
      if (entry) result.push_back(*entry);
    }
    return result;
  }

  // The container's output as the kubelet rebuilds it from the entries of one stream.
  static std::string reassemble(const std::vector<LogEntry>& list, Stream stream) {
    std::string out;
    for (const auto& entry : list) {
      if (entry.stream != stream) continue;
      out += entry.content;
      if (!entry.partial) out += '\n';
    }
    return out;
  }

  std::string dir_;
  std::string path_;
};

TEST(TimestampTest, NineDigitsInUtc) {
  EXPECT_EQ(formatTimestamp(TIME), "2021-03-04T05:06:07.000000123Z");
  EXPECT_EQ(formatTimestamp(0), "1970-01-01T00:00:00.000000000Z");
}

TEST_F(ContainerLogTest, CompleteLinesAreFullEntries) {
  {
    ContainerLog log(path_, -1);
    log.write(Stream::STDOUT, "hello\nworld\n", TIME);
    log.write(Stream::STDERR, "oops\n", TIME);
  }
  EXPECT_EQ(readFile(path_),
            "2021-03-04T05:06:07.000000123Z stdout F hello\n"
            "2021-03-04T05:06:07.000000123Z stdout F world\n"
            "2021-03-04T05:06:07.000000123Z stderr F oops\n");
}

TEST_F(ContainerLogTest, EmptyLineKeepsTheSeparator) {
  {
    ContainerLog log(path_, -1);
    log.write(Stream::STDOUT, "\n", TIME);
  }
  EXPECT_EQ(readFile(path_), "2021-03-04T05:06:07.000000123Z stdout F \n");
}

TEST_F(ContainerLogTest, LineSplitAcrossWritesIsJoined) {
  {
    ContainerLog log(path_, -1);
    log.write(Stream::STDOUT, "hel", TIME);
    EXPECT_TRUE(log.hasPartial(Stream::STDOUT));
    log.write(Stream::STDOUT, "lo\nnext", TIME);
    log.flushPartial(Stream::STDOUT, TIME);
    EXPECT_FALSE(log.hasPartial(Stream::STDOUT));
  }
  EXPECT_EQ(readFile(path_),
            "2021-03-04T05:06:07.000000123Z stdout F hello\n"
            "2021-03-04T05:06:07.000000123Z stdout P next\n");
}

TEST_F(ContainerLogTest, FlushedFragmentIsContinuedByFullEntry) {
  {
    ContainerLog log(path_, -1);
    log.write(Stream::STDOUT, "name: ", TIME);
    log.flushPartial(Stream::STDOUT, TIME);
    log.write(Stream::STDOUT, "bob\n", TIME);
  }
  auto list = entries(readFile(path_));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_TRUE(list[0].partial);
  EXPECT_FALSE(list[1].partial);
  EXPECT_EQ(reassemble(list, Stream::STDOUT), "name: bob\n");
}

TEST_F(ContainerLogTest, LongLineBecomesPartialsThenFull) {
  std::string line(100 * 1024, 'x');
  for (size_t i = 0; i < line.size(); i += 7)
    line[i] = static_cast<char>('a' + i % 26);
  {
    ContainerLog log(path_, -1);
    // Arrives in uneven reads, as from a pipe.
    std::string data = line + "\n";
    for (size_t pos = 0; pos < data.size(); pos += 5000) {
      log.write(Stream::STDOUT, std::string_view(data).substr(pos, 5000), TIME);
    }
  }
  auto list = entries(readFile(path_));
  ASSERT_EQ(list.size(), 7u);  // six of 16 KiB and the 4 KiB rest
  for (size_t i = 0; i + 1 < list.size(); ++i) {
    EXPECT_TRUE(list[i].partial) << i;
    EXPECT_EQ(list[i].content.size(), MAX_ENTRY_CONTENT) << i;
  }
  EXPECT_FALSE(list.back().partial);
  EXPECT_EQ(reassemble(list, Stream::STDOUT), line + "\n");
}

TEST_F(ContainerLogTest, StreamsKeepSeparateFragments) {
  {
    ContainerLog log(path_, -1);
    log.write(Stream::STDOUT, "out-", TIME);
    log.write(Stream::STDERR, "err-", TIME);
    log.write(Stream::STDOUT, "end\n", TIME);
    log.write(Stream::STDERR, "end\n", TIME);
  }
  auto list = entries(readFile(path_));
  EXPECT_EQ(reassemble(list, Stream::STDOUT), "out-end\n");
  EXPECT_EQ(reassemble(list, Stream::STDERR), "err-end\n");
}

TEST_F(ContainerLogTest, EveryByteSurvivesBuffering) {
  std::string expected;
  {
    ContainerLog log(path_, -1);
    for (int i = 0; i < 20000; ++i) {
      std::string chunk = "line " + std::to_string(i) + (i % 3 == 0 ? "\n" : " ");
      expected += chunk;
      log.write(Stream::STDOUT, chunk, TIME + i);
    }
    log.flushPartial(Stream::STDOUT, TIME);
  }
  EXPECT_EQ(reassemble(entries(readFile(path_)), Stream::STDOUT), expected);
}

TEST_F(ContainerLogTest, SizeLimitTruncatesByReplacingTheFile) {
  constexpr int64_t LIMIT = 8192;
  std::ifstream* keep = nullptr;
  {
    ContainerLog log(path_, LIMIT);
    for (int i = 0; i < 200; ++i) {
      log.write(Stream::STDOUT, "entry number " + std::to_string(i) + "\n", TIME);
      if (i == 0) {
        log.flush();
        keep = new std::ifstream(path_);  // a reader holding the first file
      }
    }
    log.flush();
    struct stat st;
    ASSERT_EQ(stat(path_.c_str(), &st), 0);
    EXPECT_LE(st.st_size, LIMIT);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  std::string text = readFile(path_);
  EXPECT_NE(text.find("stdout F entry number 199\n"), std::string::npos);
  EXPECT_EQ(text.find("stdout F entry number 0\n"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));

  std::string first((std::istreambuf_iterator<char>(*keep)), std::istreambuf_iterator<char>());
  EXPECT_NE(first.find("stdout F entry number 0\n"), std::string::npos);
  delete keep;
}

TEST_F(ContainerLogTest, ReopenFollowsARename) {
  ContainerLog log(path_, -1);
  log.write(Stream::STDOUT, "before\n", TIME);
  log.flush();
  std::filesystem::rename(path_, path_ + ".1");
  log.reopen();
  log.write(Stream::STDOUT, "after\n", TIME);
  log.flush();

  EXPECT_EQ(reassemble(entries(readFile(path_ + ".1")), Stream::STDOUT), "before\n");
  EXPECT_EQ(reassemble(entries(readFile(path_)), Stream::STDOUT), "after\n");
}

TEST_F(ContainerLogTest, EmptyPathDiscards) {
  ContainerLog log("", -1);
  log.write(Stream::STDOUT, "gone\n", TIME);
  log.flush();
  EXPECT_EQ(log.droppedBytes(), 0u);
}

TEST_F(ContainerLogTest, MissingFolderIsAnError) {
  EXPECT_ANY_THROW(ContainerLog(dir_ + "/absent/0.log", -1));
}

TEST(ParseLogEntryTest, RejectsMalformedLines) {
  EXPECT_FALSE(parseLogEntry("").has_value());
  EXPECT_FALSE(parseLogEntry("ts stdin F x").has_value());
  EXPECT_FALSE(parseLogEntry("ts stdout X x").has_value());
  EXPECT_FALSE(parseLogEntry("ts stdout F").has_value());
  auto entry = parseLogEntry("ts stderr P a b ");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->content, "a b ");
  EXPECT_TRUE(entry->partial);
}

}  // namespace
}  // namespace crio::conmon
