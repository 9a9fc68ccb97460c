// Content digests as registries use them ("sha256:" followed by 64 lowercase hex digits) and a
// streaming SHA-256 to check content against them while it arrives.
//
// Only sha256 is accepted: it is what the Docker and OCI formats use in practice, and a digest
// with any other algorithm (sha512, or an unknown one) is rejected by name so that the error says
// why rather than "digest mismatch".
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace crio::imaged {

constexpr std::string_view SHA256_PREFIX = "sha256:";
constexpr size_t SHA256_HEX_LENGTH = 64;

// A validated "sha256:<hex>" digest, or empty when default-constructed.
class Digest {
 public:
  Digest() = default;

  // Throws INVALID_ARGUMENT naming `what` (such as "layer digest") when `text` is not a sha256
  // digest in canonical form.
  static Digest parse(std::string_view text, std::string_view what = "digest");
  // False instead of an exception.
  static bool isValid(std::string_view text);

  static Digest ofHex(std::string_view hex) {
    return parse(std::string(SHA256_PREFIX) + std::string(hex));
  }

  bool empty() const { return text_.empty(); }

  const std::string& text() const { return text_; }
  std::string_view hex() const { return std::string_view(text_).substr(SHA256_PREFIX.size()); }

  bool operator==(const Digest& other) const { return text_ == other.text_; }
  bool operator<(const Digest& other) const { return text_ < other.text_; }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// SHA-256 over a stream of bytes. Not thread-safe; one hasher per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Starts over, as if newly constructed.
  void reset();
  // The digest of everything so far; the hasher can keep going afterwards.
  Digest digest() const;

 private:
  EVP_MD_CTX* context_;
};

Digest sha256Of(std::string_view data);

}  // namespace crio::imaged
