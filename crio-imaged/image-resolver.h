// Resolving an image reference to a verified image: the manifest (after platform selection from
// a list), the config and the layer descriptors, fetched from the first source that has them.
//
// Verification: every manifest is hashed. A manifest requested by digest must match that digest.
// A tagged one must match the Docker-Content-Digest header when the registry sends a sha256 one.
// A manifest chosen from a list must match the list entry's digest and size.
// The config must match its descriptor's digest and size, and list one diff ID per layer.
// Layers are verified later, when they are fetched (blob-cache.h).
#pragma once

#include <kj/async.h>

#include <string>
#include <vector>

#include "crio-imaged/credentials.h"
#include "crio-imaged/digest.h"
#include "crio-imaged/platform.h"
#include "crio-imaged/registry-client.h"
#include "crio-imaged/source-list.h"

namespace crio::imaged {

struct ResolvedLayer {
  Digest digest;
  uint64_t size = 0;
  std::string mediaType;
  Digest diffId;
};

struct ResolvedImage {
  std::string name;  // fully qualified: registry/repository:tag (or @digest)
  // registry/repository@DIGEST of what the reference resolved to: the manifest list's digest
  // when the tag names a list, so that pulling it again picks the same image on this platform.
  std::string repoDigest;
  Digest manifestDigest;  // of the platform's image manifest
  std::string manifestMediaType;
  std::string manifest;
  Digest configDigest;
  std::string config;
  std::vector<ResolvedLayer> layers;
};

struct Resolution {
  kj::Own<RegistryClient> client;  // the source that served the image, for fetching the blobs
  ResolvedImage image;
};

class ImageResolver {
 public:
  ImageResolver(RegistryContext& context, const SourceList& sources, Platform platform);

  // Tries the sources of `reference` in order, moving on when one fails. When all fail, the
  // error of the last one is raised with the messages of every source tried. Empty credentials
  // are looked up in the auth file for each source.
  kj::Promise<Resolution> resolve(const std::string& reference, RegistryCredentials credentials);

 private:
  kj::Promise<Resolution> trySources(std::vector<PullSource> sources, size_t index,
                                     RegistryCredentials credentials,
                                     std::vector<std::string> failures);
  kj::Promise<ResolvedImage> resolveFrom(RegistryClient& client);
  kj::Promise<ResolvedImage> resolveImageManifest(RegistryClient& client, ResolvedImage image,
                                                  std::string body, std::string mediaType,
                                                  Digest digest);

  RegistryContext& context_;
  const SourceList& sources_;
  Platform platform_;
};

}  // namespace crio::imaged
