#include "crio-stored/layer-stream.h"

#include <errno.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "common/log.h"

namespace crio::stored {

namespace {

// Bytes read from the blob at a time.
constexpr size_t INPUT_BUFFER = 1 << 20;

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

[[noreturn]] void corrupt(Compression compression, std::string_view why) {
  fail(ErrorCategory::INVALID_ARGUMENT,
       "corrupt " + std::string(compressionName(compression)) + " stream: " + std::string(why));
}

[[noreturn]] void truncated(Compression compression) {
  fail(ErrorCategory::INVALID_ARGUMENT,
       "truncated " + std::string(compressionName(compression)) + " stream");
}

}  // namespace

std::string_view compressionName(Compression compression) {
  switch (compression) {
    case Compression::NONE:
      return "uncompressed";
    case Compression::GZIP:
      return "gzip";
    case Compression::ZSTD:
      return "zstd";
  }
  return "unknown";
}

Compression declaredCompression(std::string_view mediaType) {
  if (mediaType.empty()) return Compression::NONE;
  if (endsWith(mediaType, "+encrypted")) {
    fail(ErrorCategory::UNIMPLEMENTED,
         "encrypted layers are not supported (" + std::string(mediaType) + ")");
  }
  bool oci = startsWith(mediaType, "application/vnd.oci.image.layer.v1.tar") ||
             startsWith(mediaType, "application/vnd.oci.image.layer.nondistributable.v1.tar");
  if (oci) {
    if (endsWith(mediaType, ".tar")) return Compression::NONE;
    if (endsWith(mediaType, ".tar+gzip")) return Compression::GZIP;
    if (endsWith(mediaType, ".tar+zstd")) return Compression::ZSTD;
  }
  if (mediaType == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
      mediaType == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") {
    return Compression::GZIP;
  }
  if (mediaType == "application/vnd.docker.image.rootfs.diff.tar") return Compression::NONE;
  fail(ErrorCategory::INVALID_ARGUMENT,
       "media type \"" + std::string(mediaType.substr(0, 200)) + "\" is not a layer type");
}

// ---------------------------------------------------------------------------------------------
// Decoders: each turns the stream's input buffer into uncompressed bytes.

class LayerStream::Decoder {
 public:
  virtual ~Decoder() = default;
  // Up to `size` bytes into `out`; 0 at the end. Throws on corrupt or truncated input.
  virtual size_t decode(LayerStream& stream, unsigned char* out, size_t size) = 0;
};

class LayerStream::GzipDecoder final : public Decoder {
 public:
  GzipDecoder() {
    // 16 + MAX_WBITS: gzip framing only, no zlib or raw deflate.
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) fail(ErrorCategory::INTERNAL, "inflateInit2");
  }
  ~GzipDecoder() override { inflateEnd(&z_); }

  size_t decode(LayerStream& s, unsigned char* out, size_t size) override {
    if (done_) return 0;
    z_.next_out = out;
    z_.avail_out = static_cast<uInt>(size);
    while (z_.avail_out == size) {
      if (s.inputStart_ == s.inputEnd_ && !s.fill()) {
        if (!memberEnded_) truncated(Compression::GZIP);
        done_ = true;
        break;
      }
      if (memberEnded_) {
        // A gzip file may hold several members one after the other; nothing else may follow.
        if (s.input_[s.inputStart_] != 0x1f) corrupt(Compression::GZIP, "data after the end");
        inflateReset(&z_);
        memberEnded_ = false;
      }
      z_.next_in = s.input_.data() + s.inputStart_;
      z_.avail_in = static_cast<uInt>(s.inputEnd_ - s.inputStart_);
      int rc = inflate(&z_, Z_NO_FLUSH);
      s.inputStart_ = s.inputEnd_ - z_.avail_in;
      if (rc == Z_STREAM_END) {
        memberEnded_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        corrupt(Compression::GZIP, z_.msg != nullptr ? z_.msg : "inflate failed");
      }
    }
    return size - z_.avail_out;
  }

 private:
  z_stream z_{};
  bool memberEnded_ = false;
  bool done_ = false;
};

class LayerStream::ZstdDecoder final : public Decoder {
 public:
  ZstdDecoder() : ctx_(ZSTD_createDCtx()) {
    if (ctx_ == nullptr) fail(ErrorCategory::INTERNAL, "ZSTD_createDCtx");
    ZSTD_DCtx_setParameter(ctx_, ZSTD_d_windowLogMax, ZSTD_MAX_WINDOW_LOG);
  }
  ~ZstdDecoder() override { ZSTD_freeDCtx(ctx_); }

  size_t decode(LayerStream& s, unsigned char* out, size_t size) override {
    ZSTD_outBuffer output{out, size, 0};
    while (true) {
      bool more = s.inputStart_ < s.inputEnd_ || s.fill();
      ZSTD_inBuffer input{s.input_.data() + s.inputStart_, s.inputEnd_ - s.inputStart_, 0};
      if (!more && frameEnded_) return output.pos;
      size_t rc = ZSTD_decompressStream(ctx_, &output, &input);
      s.inputStart_ += input.pos;
      if (ZSTD_isError(rc)) corrupt(Compression::ZSTD, ZSTD_getErrorName(rc));
      frameEnded_ = rc == 0;
      if (output.pos > 0) return output.pos;
      if (!more) truncated(Compression::ZSTD);
    }
  }

 private:
  ZSTD_DCtx* ctx_;
  bool frameEnded_ = true;  // an empty blob is an empty stream; the tar reader rejects it
};

// ---------------------------------------------------------------------------------------------

LayerStream::LayerStream(int fd, std::string_view mediaType) : fd_(fd), input_(INPUT_BUFFER) {
  Compression declared = declaredCompression(mediaType);
  fill();
  const unsigned char* head = input_.data();
  size_t available = inputEnd_ - inputStart_;
  auto magic = [&](std::initializer_list<unsigned char> bytes) {
    if (available < bytes.size()) return false;
    return std::equal(bytes.begin(), bytes.end(), head);
  };

  if (magic({0x1f, 0x8b})) {
    compression_ = Compression::GZIP;
  } else if (magic({0x28, 0xb5, 0x2f, 0xfd})) {
    compression_ = Compression::ZSTD;
  } else if (magic({'B', 'Z', 'h'})) {
    fail(ErrorCategory::UNIMPLEMENTED, "bzip2-compressed layers are not supported");
  } else if (magic({0xfd, '7', 'z', 'X', 'Z', 0x00})) {
    fail(ErrorCategory::UNIMPLEMENTED, "xz-compressed layers are not supported");
  }

  if (!mediaType.empty() && declared != compression_) {
    log::warn("layer compression differs from its media type; using what the bytes say",
              {{"media_type", mediaType}, {"detected", compressionName(compression_)}});
  }
  switch (compression_) {
    case Compression::NONE:
      break;  // read() copies the input as it is
    case Compression::GZIP:
      decoder_ = std::make_unique<GzipDecoder>();
      break;
    case Compression::ZSTD:
      decoder_ = std::make_unique<ZstdDecoder>();
      break;
  }
}

LayerStream::~LayerStream() = default;

bool LayerStream::fill() {
  if (inputStart_ < inputEnd_) return true;
  if (eof_) return false;
  ssize_t n;
  while (true) {
    n = seekable_ ? pread(fd_, input_.data(), input_.size(), static_cast<off_t>(offset_))
                  : ::read(fd_, input_.data(), input_.size());
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == ESPIPE && seekable_) {
      seekable_ = false;
      continue;
    }
    failSyscall("read layer blob");
  }
  inputStart_ = 0;
  inputEnd_ = static_cast<size_t>(n);
  offset_ += static_cast<uint64_t>(n);
  if (n == 0) eof_ = true;
  return n > 0;
}

size_t LayerStream::read(void* buffer, size_t size) {
  auto* out = static_cast<unsigned char*>(buffer);
  size_t produced;
  if (compression_ == Compression::NONE) {
    if (!fill()) return 0;
    produced = std::min(size, inputEnd_ - inputStart_);
    std::memcpy(out, input_.data() + inputStart_, produced);
    inputStart_ += produced;
  } else {
    produced = decoder_->decode(*this, out, size);
  }
  hash_.update(out, produced);
  return produced;
}

std::string LayerStream::finish() {
  std::vector<unsigned char> scratch(1 << 16);
  while (read(scratch.data(), scratch.size()) > 0) {
  }
  return "sha256:" + hash_.hexDigest();
}

}  // namespace crio::stored
