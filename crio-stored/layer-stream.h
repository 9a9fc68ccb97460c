// The uncompressed byte stream of a layer blob, hashed as it is read.
//
// The blob comes as a file descriptor (from crio-imaged, through crio-cri). It is read with pread
// from offset 0, so a descriptor whose file offset another process shares is read whole all the
// same. The compression is found from the first bytes (gzip 1f 8b, zstd 28 b5 2f fd, anything
// else is taken as a plain tar); the media type only has to name a layer type. Every byte handed
// out by read() and everything finish() drains after the tar's end goes into one SHA-256, whose
// result is compared with the layer's diff id: that is the only check on the uncompressed bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.h"

namespace crio::stored {

enum class Compression { NONE, GZIP, ZSTD };

std::string_view compressionName(Compression compression);

// The compression `mediaType` declares. Throws INVALID_ARGUMENT for a media type that is not a
// layer, UNIMPLEMENTED for encrypted layers and compressions this store does not read. "" (not
// known) returns NONE; detection decides then.
Compression declaredCompression(std::string_view mediaType);

// Bound on the zstd window a blob may ask for (2^27 = 128 MiB of memory per import).
constexpr int ZSTD_MAX_WINDOW_LOG = 27;

// TODO(perf): decompressing and hashing on a second thread, ahead of the tar reader, would
// overlap them with the file writes (about half of an unpack each, see bench/unpack-layer.sh).
class LayerStream {
 public:
  // Does not own `fd`. Throws INVALID_ARGUMENT when the media type and the bytes disagree on
  // anything but "gzip or not" (which a warning reports).
  LayerStream(int fd, std::string_view mediaType);
  ~LayerStream();

  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // Up to `size` uncompressed bytes, 0 at the end of the stream. Throws INVALID_ARGUMENT for a
  // corrupt or truncated blob.
  size_t read(void* buffer, size_t size);

  // Reads what is left, then returns "sha256:" + the hex digest of the whole uncompressed stream.
  std::string finish();

  Compression compression() const { return compression_; }
  uint64_t compressedBytes() const { return offset_; }
  uint64_t uncompressedBytes() const { return hash_.bytes(); }

 private:
  class Decoder;
  class GzipDecoder;
  class ZstdDecoder;

  // Refills the input buffer; false at the end of the file.
  bool fill();

  int fd_;
  bool seekable_ = true;
  uint64_t offset_ = 0;
  std::vector<unsigned char> input_;
  size_t inputStart_ = 0;
  size_t inputEnd_ = 0;
  bool eof_ = false;
  Compression compression_ = Compression::NONE;
  std::unique_ptr<Decoder> decoder_;
  Sha256 hash_;
};

}  // namespace crio::stored
