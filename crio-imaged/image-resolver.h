// Resolving an image reference to a verified image: the manifest (after platform selection from
// a list), the config and the layer descriptors, fetched from the first source that has them.
//
// Order: the reference is resolved through registries.conf (short-names.h) into candidate names,
// each with its sources (mirrors, then the primary or remapped location). For each candidate in
// order, policy.json is prechecked on the name before any network traffic, then its sources are
// tried in order. The first source that serves a verified manifest and config wins, and the image
// keeps the candidate's name (the logical name), not the source's. When everything fails, the error
// lists every candidate and source tried.
//
// Credentials: the CRI request's credentials are sent only to sources on the host of the logical
// name, because kubelet chose them for that name. Every other source, and every source when the
// request carries none, gets what the auth files hold for its own host[:port]/path.
//
// Verification: every manifest is hashed. A manifest requested by digest must match that digest.
// A tagged one must match the Docker-Content-Digest header when the registry sends a sha256 one.
// A manifest chosen from a list must match the list entry's digest and size.
// The config must match its descriptor's digest and size, and list one diff ID per layer.
// Only then is the policy evaluated on the logical name and the verified manifest.
// The config is fetched through the blob cache, which verifies it. Layers are verified later, when
// they are fetched (blob-cache.h).
#pragma once

#include <kj/async.h>

#include <string>
#include <vector>

#include "crio-imaged/blob-cache.h"
#include "crio-imaged/credentials.h"
#include "crio-imaged/digest.h"
#include "crio-imaged/manifest.h"
#include "crio-imaged/platform.h"
#include "crio-imaged/pull-settings.h"
#include "crio-imaged/registry-client.h"

namespace crio::imaged {

struct ResolvedLayer {
  Digest digest;
  uint64_t size = 0;
  std::string mediaType;
  Digest diffId;
};

struct ResolvedImage {
  // The logical name, fully qualified: registry/repository:tag (or @digest). With prefix
  // remapping or a mirror it differs from where the image was fetched.
  std::string name;
  // registry/repository@DIGEST (the logical name's) of what the reference resolved to: the
  // manifest list's digest when the tag names a list, so that pulling it again picks the same
  // image on this platform.
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
  // Configs are fetched through `cache`, like layers, so that concurrent pulls of one image
  // download the config once.
  ImageResolver(RegistryContext& context, const PullSettingsHolder& settings, BlobCache& cache,
                Platform platform);

  // Resolves `reference` as described at the top of this file. Throws (in the promise)
  // INVALID_ARGUMENT for an invalid or ambiguous reference, PERMISSION_DENIED when policy.json
  // rejects the image, FAILED_PRECONDITION when policy.json is missing, and otherwise the error of
  // the last source tried.
  kj::Promise<Resolution> resolve(const std::string& reference, RegistryCredentials credentials);

 private:
  struct PullState;

  kj::Promise<Resolution> tryNext(kj::Own<PullState> state);
  kj::Promise<ResolvedImage> resolveFrom(RegistryClient& client, const Reference& name);
  kj::Promise<std::string> fetchConfig(RegistryClient& client, const Descriptor& config);
  kj::Promise<ResolvedImage> resolveImageManifest(RegistryClient& client, ResolvedImage image,
                                                  std::string body, std::string mediaType,
                                                  Digest digest);

  RegistryContext& context_;
  const PullSettingsHolder& settings_;
  BlobCache& cache_;
  Platform platform_;
};

}  // namespace crio::imaged
