#include "crio-stored/digest.h"

#include "common/error.h"
#include "common/sha256.h"

namespace crio::stored {

bool isHex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool isDigest(std::string_view text) {
  return text.substr(0, SHA256_PREFIX.size()) == SHA256_PREFIX &&
         isHex64(text.substr(SHA256_PREFIX.size()));
}

void requireDigest(std::string_view text, std::string_view what) {
  if (isDigest(text)) return;
  std::string shown(text.substr(0, 80));
  fail(ErrorCategory::INVALID_ARGUMENT,
       std::string(what) + " is not a sha256 digest: \"" + shown + "\"");
}

std::string digestHex(std::string_view digest) {
  return std::string(digest.substr(SHA256_PREFIX.size()));
}

std::string chainId(std::string_view parentChainId, std::string_view diffId) {
  if (parentChainId.empty()) return std::string(diffId);
  std::string input;
  input.reserve(parentChainId.size() + 1 + diffId.size());
  input.append(parentChainId).append(" ").append(diffId);
  return std::string(SHA256_PREFIX) + sha256Hex(input);
}

}  // namespace crio::stored
