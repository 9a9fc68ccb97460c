#include "crio-stored/layer-stream.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "crio-stored/test-tarball.h"
#include "crio-stored/unique-fd.h"

namespace crio::stored {
namespace {

using testing::blobFd;

std::string sample() {
  std::string data;
  for (int i = 0; i < 200000; ++i)
    data += std::to_string(i * 7919) + "\n";
  return data;
}

// Reads the whole stream through read() in small pieces; returns what came out.
std::string drain(LayerStream& stream) {
  std::string out;
  char buffer[4096];
  while (size_t n = stream.read(buffer, sizeof(buffer)))
    out.append(buffer, n);
  return out;
}

ErrorCategory categoryOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.category();
  }
  return ErrorCategory::INTERNAL;
}

TEST(LayerStreamTest, DecodesEachCompressionAndHashesTheOutput) {
  std::string data = sample();
  struct Case {
    std::string blob;
    std::string mediaType;
    Compression expected;
  } cases[] = {
      {data, "application/vnd.oci.image.layer.v1.tar", Compression::NONE},
      {testing::gzip(data), "application/vnd.oci.image.layer.v1.tar+gzip", Compression::GZIP},
      {testing::gzip(data), "application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::GZIP},
      {testing::zstd(data), "application/vnd.oci.image.layer.v1.tar+zstd", Compression::ZSTD},
      {testing::zstd(data), "", Compression::ZSTD},
  };
  for (const auto& c : cases) {
    UniqueFd fd(blobFd(c.blob));
    LayerStream stream(fd.get(), c.mediaType);
    EXPECT_EQ(stream.compression(), c.expected);
    EXPECT_EQ(drain(stream), data);
    EXPECT_EQ(stream.finish(), testing::digestOf(data));
    EXPECT_EQ(stream.compressedBytes(), c.blob.size());
  }
}

TEST(LayerStreamTest, FinishHashesWhatWasNotRead) {
  std::string data = sample();
  UniqueFd fd(blobFd(testing::gzip(data)));
  LayerStream stream(fd.get(), "");
  char buffer[100];
  stream.read(buffer, sizeof(buffer));
  EXPECT_EQ(stream.finish(), testing::digestOf(data));
}

TEST(LayerStreamTest, MagicBytesWinOverTheMediaType) {
  std::string data = sample();
  UniqueFd fd(blobFd(data));
  LayerStream stream(fd.get(), "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(stream.compression(), Compression::NONE);
  EXPECT_EQ(stream.finish(), testing::digestOf(data));
}

TEST(LayerStreamTest, ConcatenatedGzipMembersAreOneStream) {
  std::string a = "first part ", b = "second part";
  UniqueFd fd(blobFd(testing::gzip(a) + testing::gzip(b)));
  LayerStream stream(fd.get(), "");
  EXPECT_EQ(drain(stream), a + b);
}

TEST(LayerStreamTest, TruncatedStreamsFail) {
  std::string data = sample();
  for (const std::string& blob : {testing::gzip(data), testing::zstd(data)}) {
    UniqueFd fd(blobFd(blob.substr(0, blob.size() / 2)));
    LayerStream stream(fd.get(), "");
    try {
      stream.finish();
      FAIL() << "truncated " << compressionName(stream.compression()) << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
      EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
  }
}

TEST(LayerStreamTest, CorruptGzipFails) {
  std::string blob = testing::gzip(sample());
  for (size_t i = 100; i < 200; ++i)
    blob[i] = static_cast<char>(blob[i] ^ 0x5a);
  UniqueFd fd(blobFd(blob));
  LayerStream stream(fd.get(), "");
  try {
    stream.finish();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt gzip stream"), std::string::npos) << e.what();
  }
}

TEST(LayerStreamTest, GarbageAfterGzipFails) {
  UniqueFd fd(blobFd(testing::gzip("data") + "garbage"));
  LayerStream stream(fd.get(), "");
  EXPECT_THROW(stream.finish(), Error);
}

TEST(LayerStreamTest, MediaTypesAreChecked) {
  UniqueFd fd(blobFd("x"));
  EXPECT_EQ(categoryOf([&] { LayerStream(fd.get(), "application/vnd.oci.image.config.v1+json"); }),
            ErrorCategory::INVALID_ARGUMENT);
  EXPECT_EQ(categoryOf([&] {
              LayerStream(fd.get(), "application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
            }),
            ErrorCategory::UNIMPLEMENTED);
  UniqueFd xz(
      blobFd(std::string("\xfd"
                         "7zXZ\0rest",
                         10)));
  EXPECT_EQ(categoryOf([&] { LayerStream(xz.get(), ""); }), ErrorCategory::UNIMPLEMENTED);
}

}  // namespace
}  // namespace crio::stored
