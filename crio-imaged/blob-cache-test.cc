#include "crio-imaged/blob-cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "crio-imaged/async-error.h"

namespace crio::imaged {
namespace {

namespace fs = std::filesystem;

std::string readAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = pread(fd, buffer, sizeof(buffer), static_cast<off_t>(out.size()))) > 0)
    out.append(buffer, static_cast<size_t>(n));
  return out;
}

// Plays a registry: feeds `body` to the sink as a response of `status` with `headers`.
kj::Promise<std::unique_ptr<BodySink>> serve(std::unique_ptr<BodySink> sink, long status,
                                             const std::string& body, HttpHeaders headers = {}) {
  std::string reason = sink->begin(status, headers);
  if (reason.empty()) reason = sink->write(body.data(), body.size());
  if (!reason.empty()) failAsync(sink->failureCategory(), reason);
  return sink;
}

class BlobCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-blob-cache-test-XXXXXX";
    root_ = mkdtemp(pattern);
    cache_ = std::make_unique<BlobCache>(root_ + "/cache");
    cache_->prepare();
  }
  void TearDown() override {
    cache_.reset();
    fs::remove_all(root_);
  }

  // A source that serves `body` whole and counts its downloads.
  BlobSource source(const std::string& body, int* count, const void* owner = nullptr) {
    BlobSource s;
    s.subject = "reg.example/app";
    s.owner = owner;
    s.download = [body, count](std::unique_ptr<BodySink> sink) {
      ++*count;
      return serve(std::move(sink), 200, body);
    };
    return s;
  }

  kj::AutoCloseFd fetch(const std::string& body, BlobSource s) {
    return cache_->fetch(sha256Of(body), body.size(), kj::mv(s)).wait(io_->waitScope);
  }

  Error fetchError(const Digest& digest, uint64_t size, BlobSource s) {
    try {
      cache_->fetch(digest, size, kj::mv(s)).wait(io_->waitScope);
    } catch (const kj::Exception& e) {
      return errorOf(e);
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCategory::INTERNAL, "none");
  }

  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  std::string root_;
  std::unique_ptr<BlobCache> cache_;
};

TEST_F(BlobCacheTest, DownloadsVerifiesAndStores) {
  std::string body = "layer bytes";
  int count = 0;
  kj::AutoCloseFd fd = fetch(body, source(body, &count));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(readAll(fd.get()), body);
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
  EXPECT_TRUE(fs::exists(cache_->blobPath(sha256Of(body))));
  EXPECT_FALSE(fs::exists(cache_->partialPath(sha256Of(body))));
}

TEST_F(BlobCacheTest, CachedBlobNeedsNoDownload) {
  std::string body = "cached";
  int count = 0;
  fetch(body, source(body, &count));
  kj::AutoCloseFd fd = fetch(body, source(body, &count));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(readAll(fd.get()), body);
}

TEST_F(BlobCacheTest, ConcurrentFetchesShareOneDownload) {
  std::string body = "shared layer";
  int count = 0;
  auto paf = kj::newPromiseAndFulfiller<void>();
  kj::ForkedPromise<void> gate = paf.promise.fork();
  auto slowSource = [&](const void* owner) {
    BlobSource s;
    s.subject = "reg.example/app";
    s.owner = owner;
    s.download = [&, body](std::unique_ptr<BodySink> sink) {
      ++count;
      return gate.addBranch().then(
          [body, sink = std::move(sink)]() mutable { return serve(std::move(sink), 200, body); });
    };
    return s;
  };
  int a, b;
  auto first = cache_->fetch(sha256Of(body), body.size(), slowSource(&a));
  auto second = cache_->fetch(sha256Of(body), body.size(), slowSource(&b));
  io_->provider->getTimer().afterDelay(50 * kj::MILLISECONDS).wait(io_->waitScope);
  paf.fulfiller->fulfill();
  EXPECT_EQ(readAll(first.wait(io_->waitScope).get()), body);
  EXPECT_EQ(readAll(second.wait(io_->waitScope).get()), body);
  EXPECT_EQ(count, 1);
}

TEST_F(BlobCacheTest, RejectsDigestMismatch) {
  std::string expected = "the real layer";
  std::string served = "a fake layer!!";
  int count = 0;
  Error error = fetchError(sha256Of(expected), expected.size(), source(served, &count));
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.what()).find("does not match its digest"), std::string::npos)
      << error.what();
  EXPECT_NE(std::string(error.what()).find(sha256Of(served).text()), std::string::npos);
  EXPECT_FALSE(fs::exists(cache_->blobPath(sha256Of(expected))));
  EXPECT_FALSE(fs::exists(cache_->partialPath(sha256Of(expected))));
}

TEST_F(BlobCacheTest, RejectsTruncatedBlob) {
  std::string expected = "0123456789";
  int count = 0;
  Error error = fetchError(sha256Of(expected), expected.size(), source("01234", &count));
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.what()).find("truncated"), std::string::npos) << error.what();
}

TEST_F(BlobCacheTest, RejectsMoreBytesThanDeclared) {
  std::string expected = "short";
  int count = 0;
  Error error = fetchError(sha256Of(expected), expected.size(), source("much longer", &count));
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.what()).find("more than the 5 bytes"), std::string::npos)
      << error.what();
}

TEST_F(BlobCacheTest, ResumesFromPartialFile) {
  std::string body = "first half|second half";
  Digest digest = sha256Of(body);
  std::ofstream(cache_->partialPath(digest)) << body.substr(0, 11);
  uint64_t offsetSeen = 0;
  BlobSource s;
  s.subject = "reg.example/app";
  s.download = [&](std::unique_ptr<BodySink> sink) {
    offsetSeen = sink->resumeOffset();
    HttpHeaders headers;
    headers.entries.push_back({"content-range", "bytes 11-21/22"});
    return serve(std::move(sink), 206, body.substr(11), headers);
  };
  kj::AutoCloseFd fd = fetch(body, kj::mv(s));
  EXPECT_EQ(offsetSeen, 11u);
  EXPECT_EQ(readAll(fd.get()), body);
}

TEST_F(BlobCacheTest, WholeResponseReplacesPartialFile) {
  std::string body = "complete body";
  Digest digest = sha256Of(body);
  std::ofstream(cache_->partialPath(digest)) << "garbage";
  int count = 0;
  kj::AutoCloseFd fd = fetch(body, source(body, &count));
  EXPECT_EQ(readAll(fd.get()), body);
}

TEST_F(BlobCacheTest, RejectsWrongContentRange) {
  std::string body = "abcdefghij";
  Digest digest = sha256Of(body);
  std::ofstream(cache_->partialPath(digest)) << "abc";
  BlobSource s;
  s.download = [&](std::unique_ptr<BodySink> sink) {
    HttpHeaders headers;
    headers.entries.push_back({"content-range", "bytes 0-9/10"});
    return serve(std::move(sink), 206, body, headers);
  };
  Error error = fetchError(digest, body.size(), kj::mv(s));
  EXPECT_EQ(error.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_NE(std::string(error.what()).find("Content-Range"), std::string::npos) << error.what();
}

TEST_F(BlobCacheTest, CompletePartialFileIsVerifiedWithoutDownload) {
  std::string body = "already complete";
  std::ofstream(cache_->partialPath(sha256Of(body))) << body;
  int count = 0;
  kj::AutoCloseFd fd = fetch(body, source(body, &count));
  EXPECT_EQ(count, 0);
  EXPECT_EQ(readAll(fd.get()), body);
}

TEST_F(BlobCacheTest, WaiterFromAnotherPullRetriesWithItsOwnSource) {
  std::string body = "retry me";
  int failing = 0;
  int working = 0;
  int ownerA, ownerB;
  BlobSource bad;
  bad.subject = "first";
  bad.owner = &ownerA;
  bad.download = [&failing](std::unique_ptr<BodySink>) -> kj::Promise<std::unique_ptr<BodySink>> {
    ++failing;
    failAsync(ErrorCategory::PERMISSION_DENIED, "denied");
  };
  auto first = cache_->fetch(sha256Of(body), body.size(), kj::mv(bad));
  auto second = cache_->fetch(sha256Of(body), body.size(), source(body, &working, &ownerB));
  EXPECT_THROW(first.wait(io_->waitScope), kj::Exception);
  EXPECT_EQ(readAll(second.wait(io_->waitScope).get()), body);
  EXPECT_EQ(failing, 1);
  EXPECT_EQ(working, 1);
}

TEST_F(BlobCacheTest, WrongSizeCachedBlobIsRemoved) {
  std::string body = "sized";
  int count = 0;
  fetch(body, source(body, &count));
  EXPECT_TRUE(cache_->openCached(sha256Of(body), body.size()) != nullptr);
  EXPECT_TRUE(cache_->openCached(sha256Of(body), body.size() + 1) == nullptr);
  EXPECT_FALSE(fs::exists(cache_->blobPath(sha256Of(body))));
}

TEST_F(BlobCacheTest, PrepareRemovesOnlyStalePartials) {
  std::string stale = root_ + "/cache/partial/sha256:" + std::string(64, 'a') + ".part";
  std::string fresh = root_ + "/cache/partial/sha256:" + std::string(64, 'b') + ".part";
  std::ofstream(stale) << "old";
  std::ofstream(fresh) << "new";
  timespec times[2];
  times[0].tv_sec = times[1].tv_sec = time(nullptr) - 2 * 24 * 3600;
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, stale.c_str(), times, 0), 0);
  cache_->prepare();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh));
}

}  // namespace
}  // namespace crio::imaged
