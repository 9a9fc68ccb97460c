#include "crio-conmon/fd-reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

namespace crio::conmon {
namespace {

class FdReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(pipe2(fds_, O_CLOEXEC), 0); }
  void TearDown() override {
    if (fds_[1] >= 0) close(fds_[1]);
  }

  kj::Own<FdReader> makeReader(std::string& out, int* bursts = nullptr) {
    return kj::heap<FdReader>(
        io_->unixEventPort, io_->provider->getTimer(), kj::AutoCloseFd(fds_[0]),
        [&out](std::string_view chunk) { out.append(chunk); },
        [bursts]() {
          if (bursts != nullptr) ++*bursts;
        });
  }

  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  int fds_[2] = {-1, -1};
};

TEST_F(FdReaderTest, ReadsUntilEnd) {
  std::string out;
  int bursts = 0;
  auto reader = makeReader(out, &bursts);
  ASSERT_EQ(write(fds_[1], "hello ", 6), 6);
  io_->provider->getTimer().afterDelay(10 * kj::MILLISECONDS).wait(io_->waitScope);
  ASSERT_EQ(write(fds_[1], "world", 5), 5);
  close(fds_[1]);
  fds_[1] = -1;
  reader->whenEnded().wait(io_->waitScope);
  EXPECT_TRUE(reader->ended());
  EXPECT_EQ(out, "hello world");
  EXPECT_GE(bursts, 1);
}

TEST_F(FdReaderTest, LargeInputArrivesWhole) {
  std::string out;
  auto reader = makeReader(out);
  // A writer thread is not needed: a forked child writes 8 MiB and exits.
  pid_t pid = fork();
  if (pid == 0) {
    std::string block(1 << 20, 'z');
    for (int i = 0; i < 8; ++i) {
      if (write(fds_[1], block.data(), block.size()) < 0) _exit(1);
    }
    _exit(0);
  }
  close(fds_[1]);
  fds_[1] = -1;
  reader->whenEnded().wait(io_->waitScope);
  EXPECT_EQ(out.size(), 8u << 20);
}

TEST_F(FdReaderTest, DrainStopsWhenQuietWhileWriterStaysOpen) {
  std::string out;
  auto reader = makeReader(out);
  ASSERT_EQ(write(fds_[1], "left over", 9), 9);
  auto begin = std::chrono::steady_clock::now();
  reader->drain(20 * kj::MILLISECONDS, 2 * kj::SECONDS).wait(io_->waitScope);
  auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_EQ(out, "left over");
  EXPECT_TRUE(reader->ended());
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
}

TEST_F(FdReaderTest, DrainEndsAtEndOfInput) {
  std::string out;
  auto reader = makeReader(out);
  ASSERT_EQ(write(fds_[1], "x", 1), 1);
  close(fds_[1]);
  fds_[1] = -1;
  reader->drain(5 * kj::SECONDS, 10 * kj::SECONDS).wait(io_->waitScope);
  EXPECT_EQ(out, "x");
}

}  // namespace
}  // namespace crio::conmon
