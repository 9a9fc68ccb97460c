// The seam between the network side of crio-imaged and name resolution: which registries and
// repositories an image reference stands for, in the order to try them, and what credentials an
// auth file holds for them.
//
// NOTE: this is a literal placeholder. A reference must be fully qualified,
// "HOST[:PORT]/REPOSITORY[:TAG][@sha256:HEX]", and yields exactly one source. A registry is
// insecure only when [crio.image] insecure_registries lists it, and no auth file is read. The
// registries.conf resolver (aliases, short names, search registries, prefix remapping, mirrors,
// blocked registries) and the auth.json lookup replace the bodies of these functions and keep
// their signatures.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "crio-imaged/credentials.h"

namespace crio::imaged {

// One place to pull an image from.
struct PullSource {
  std::string registry;    // host[:port], as used in URLs, certs.d folder names and auth files
  std::string repository;  // path inside the registry: "library/busybox"
  std::string tag;         // "" when pulling by digest alone
  std::string digest;      // "sha256:..." when pulling by digest, else ""
  bool insecure = false;   // plain HTTP and unverified TLS are allowed

  // "registry/repository:tag", "registry/repository@digest" or both forms combined.
  std::string name() const;
  // The REF of GET /v2/REPOSITORY/manifests/REF: the digest when there is one, else the tag.
  std::string manifestReference() const;
};

class SourceList {
 public:
  explicit SourceList(const Config& config);

  // The sources to try for `reference`, in order; the first that has the image wins. Throws
  // INVALID_ARGUMENT for a malformed reference.
  std::vector<PullSource> pullSources(std::string_view reference) const;

  // The fully qualified names `reference` may stand for, in search order, without network
  // access.
  std::vector<std::string> candidates(std::string_view reference) const;

  // Credentials an auth file holds for `source`, used when a pull carries none.
  std::optional<RegistryCredentials> storedCredentials(const PullSource& source) const;

 private:
  std::vector<std::string> insecureRegistries_;
};

}  // namespace crio::imaged
