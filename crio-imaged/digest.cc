#include "crio-imaged/digest.h"

#include "common/error.h"

namespace crio::imaged {

namespace {

bool isLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

// "sha512:..." -> "sha512"; "" when there is no algorithm part.
std::string_view algorithmOf(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return {};
  return text.substr(0, colon);
}

}  // namespace

bool Digest::isValid(std::string_view text) {
  if (text.size() != SHA256_PREFIX.size() + SHA256_HEX_LENGTH) return false;
  if (text.substr(0, SHA256_PREFIX.size()) != SHA256_PREFIX) return false;
  for (char c : text.substr(SHA256_PREFIX.size())) {
    if (!isLowerHex(c)) return false;
  }
  return true;
}

Digest Digest::parse(std::string_view text, std::string_view what) {
  if (isValid(text)) return Digest(std::string(text));

  // Bound what is echoed back: the text may come from a hostile manifest.
  std::string shown(text.substr(0, 100));
  if (text.size() > 100) shown += "...";
  std::string_view algorithm = algorithmOf(text);
  if (!algorithm.empty() && algorithm != "sha256") {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string(what) + " \"" + shown + "\" uses the unsupported algorithm \"" +
             std::string(algorithm.substr(0, 20)) + "\"; only sha256 digests are supported");
  }
  fail(ErrorCategory::INVALID_ARGUMENT, std::string(what) + " \"" + shown +
                                            "\" is not a valid digest; expected sha256: followed "
                                            "by 64 lowercase hex digits");
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (context_ == nullptr) fail(ErrorCategory::INTERNAL, "EVP_MD_CTX_new failed");
  reset();
}

Sha256::~Sha256() {
  if (context_ != nullptr) EVP_MD_CTX_free(context_);
}

Sha256::Sha256(Sha256&& other) noexcept : context_(other.context_) {
  other.context_ = nullptr;
}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  std::swap(context_, other.context_);
  return *this;
}

void Sha256::reset() {
  if (EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) != 1) {
    fail(ErrorCategory::INTERNAL, "EVP_DigestInit_ex(sha256) failed");
  }
}

void Sha256::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(context_, data, size) != 1) {
    fail(ErrorCategory::INTERNAL, "EVP_DigestUpdate failed");
  }
}

Digest Sha256::digest() const {
  // Finalizing consumes a context, so finalize a copy and keep this one going.
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  if (copy == nullptr || EVP_MD_CTX_copy_ex(copy, context_) != 1) {
    EVP_MD_CTX_free(copy);
    fail(ErrorCategory::INTERNAL, "EVP_MD_CTX_copy_ex failed");
  }
  unsigned char sum[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  int ok = EVP_DigestFinal_ex(copy, sum, &length);
  EVP_MD_CTX_free(copy);
  if (ok != 1) fail(ErrorCategory::INTERNAL, "EVP_DigestFinal_ex failed");

  static constexpr char HEX[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(HEX[sum[i] >> 4]);
    hex.push_back(HEX[sum[i] & 0xf]);
  }
  return Digest::ofHex(hex);
}

Digest sha256Of(std::string_view data) {
  Sha256 hasher;
  hasher.update(data);
  return hasher.digest();
}

}  // namespace crio::imaged
