// Layer and image identifiers as the OCI image spec defines them.
//
// A digest is "sha256:" + 64 lower-case hex digits; nothing else is accepted from a client, so a
// digest can be used as a file name after its prefix is taken off. A layer's chain id names the
// layer together with everything below it:
//   chainId(L0) = diffId(L0)
//   chainId(Ln) = "sha256:" + hex(sha256(chainId(Ln-1) + " " + diffId(Ln)))
#pragma once

#include <string>
#include <string_view>

namespace crio::stored {

constexpr std::string_view SHA256_PREFIX = "sha256:";

// True for "sha256:" + 64 lower-case hex digits.
bool isDigest(std::string_view text);
// True for 64 lower-case hex digits.
bool isHex64(std::string_view text);

// Throws INVALID_ARGUMENT naming `what` unless isDigest(text).
void requireDigest(std::string_view text, std::string_view what);

// The 64 hex digits of a valid digest.
std::string digestHex(std::string_view digest);

// The chain id of a layer with `diffId` on top of `parentChainId` ("" for a base layer).
std::string chainId(std::string_view parentChainId, std::string_view diffId);

}  // namespace crio::stored
