// SHA-256 of a byte stream, fed in pieces (OpenSSL's libcrypto underneath, which uses the CPU's
// SHA extensions where there are any). Digests are written the OCI way: "sha256:" + 64 lower-case
// hex digits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crio {

class Sha256 {
 public:
  Sha256();
  ~Sha256();

  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }

  // The 64 hex digits of everything fed so far. Ends the hash: call once.
  std::string hexDigest();

  // Total bytes fed.
  uint64_t bytes() const { return bytes_; }

 private:
  void* ctx_;
  uint64_t bytes_ = 0;
};

// Hex digest of one buffer.
std::string sha256Hex(std::string_view data);

}  // namespace crio
