// policy.json (containers-policy.json(5)): whether an image may be pulled, by the name it is pulled
// under.
//
// Format: {"default": [REQUIREMENT...], "transports": {"docker": {SCOPE: [REQUIREMENT...]}}}.
// "default" is required; every requirement list must be non-empty. Parsing is strict, as in
// containers/image: an unknown field, a duplicated key or an invalid value rejects the whole file.
// Only the "docker" transport is used; the scopes of other transports are checked for shape and
// otherwise ignored.
//
// Scope lookup for a docker reference, first match wins (dockerScopes() lists them):
//   1. the identity: host[:port]/repo:tag, or host[:port]/repo@digest when pulled by digest;
//   2. the repository host[:port]/repo, then each parent namespace (host[:port]/ns);
//   3. the registry host[:port];
//   4. wildcard scopes for the host without its port, from the longest: *.b.example.com,
//      *.example.com, *.com;
//   5. the docker transport's default scope "";
//   6. the global "default".
// Every requirement of the chosen scope must accept the image:
//   insecureAcceptAnything  accepts;
//   reject                  rejects;
//   signedBy, sigstoreSigned, signedBaseLayer   need a SignatureVerifier registered for the type;
//                           without one the pull is rejected and the error states that verification
//                           of that type is not supported yet (fail closed);
//   any other type          rejects, naming the type (the file still loads, with a warning).
//
// The name evaluated is the logical name the image is pulled under, not the mirror or remapped
// location it is fetched from, so a scope written for gcr.io applies however gcr.io is mirrored.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "crio-imaged/reference.h"

namespace crio::imaged {

// Bounds on a policy file. The size allows for keyrings embedded in keyData fields.
constexpr size_t MAX_POLICY_FILE_SIZE = 4 * 1024 * 1024;
constexpr size_t MAX_POLICY_SCOPES = 16384;     // per transport
constexpr size_t MAX_POLICY_REQUIREMENTS = 64;  // per scope
constexpr int MAX_POLICY_DEPTH = 16;            // nesting of JSON objects and arrays

enum class RequirementType {
  INSECURE_ACCEPT_ANYTHING,
  REJECT,
  SIGNED_BY,
  SIGSTORE_SIGNED,
  SIGNED_BASE_LAYER,
  UNKNOWN,
};

struct Requirement {
  RequirementType type = RequirementType::UNKNOWN;
  std::string typeName;  // the "type" field as written
  nlohmann::json json;   // the whole requirement object, for a verifier
};

struct PolicyScope {
  std::string scope;    // "" for the docker transport's default scope
  bool global = false;  // true for the top-level "default"
  std::vector<Requirement> requirements;

  // "scope \"quay.io/ns\"", "the docker transport's default scope" or "the global default".
  std::string describe() const;
};

class Policy {
 public:
  // Parses a policy file's text. Throws crio::Error INVALID_ARGUMENT naming `fileName` and the
  // path of the offending field (transports.docker."quay.io"[0].keyType), RESOURCE_EXHAUSTED when
  // a bound is exceeded.
  static Policy parse(std::string_view text, const std::string& fileName);

  // Reads and parses `path`. A missing file is FAILED_PRECONDITION ("no policy.json at PATH"):
  // containers/image also refuses to pull without a policy, and the suite ships one.
  static Policy load(const std::string& path);

  // The scope whose requirements apply to the qualified `reference`.
  const PolicyScope& scopeFor(const Reference& reference) const;

  const std::string& file() const { return file_; }
  // Requirement types this runtime does not know, to be logged.
  const std::vector<ConfigWarning>& warnings() const { return warnings_; }

 private:
  std::string file_;
  PolicyScope default_;
  std::map<std::string, PolicyScope> docker_;
  std::vector<ConfigWarning> warnings_;
};

// The docker scopes tried for the qualified `reference`, most specific first, without the
// transport default "" and the global default.
std::vector<std::string> dockerScopes(const Reference& reference);

// The policy file for a pod namespace, as CRI-O chooses it: POLICY_DIR/NAMESPACE.json when
// `policyDir` and `podNamespace` are set and that file exists, else `defaultPath`. Throws
// INVALID_ARGUMENT when `podNamespace` is not a Kubernetes namespace name (a DNS label).
std::string policyPathFor(const std::string& defaultPath, const std::string& policyDir,
                          std::string_view podNamespace);

// ---------------------------------------------------------------------------------------------
// Signature verification, plugged in per requirement type.

enum class SignatureFormat { SIMPLE_SIGNING, SIGSTORE };

struct Signature {
  SignatureFormat format = SignatureFormat::SIMPLE_SIGNING;
  // Simple signing: the signature blob. Sigstore: the payload of the signature layer.
  std::string payload;
  // Sigstore: the annotations of the signature layer (the base64 signature, a certificate, a
  // Rekor bundle). Empty for simple signing.
  std::map<std::string, std::string> annotations;
};

// Fetches an image's signatures from where registries.d places them (a lookaside store or the
// registry's sigstore attachments). Implementations bound the count and the size of what they
// fetch.
class SignatureFetcher {
 public:
  virtual ~SignatureFetcher() = default;
  virtual std::vector<Signature> fetch(SignatureFormat format) = 0;
};

// The image under evaluation, after its manifest has been fetched and its digest checked.
struct PolicyImage {
  Reference name;              // the logical name, qualified, as pulled
  std::string_view manifest;   // the manifest bytes as served (after platform selection)
  std::string manifestDigest;  // sha256:... of `manifest`
  SignatureFetcher* signatures = nullptr;  // not owned, and null when no verifier needs it
};

class SignatureVerifier {
 public:
  virtual ~SignatureVerifier() = default;
  // Returns when `image` satisfies `requirement`, the requirement object with its fields already
  // checked. Otherwise throws crio::Error PERMISSION_DENIED with the reason. Several pulls may call
  // it at once.
  virtual void verify(const nlohmann::json& requirement, const PolicyImage& image) = 0;
};

class PolicyEvaluator {
 public:
  explicit PolicyEvaluator(std::shared_ptr<const Policy> policy);

  // Registers the verifier for a requirement type ("signedBy", "sigstoreSigned"). Verifiers are
  // set up before the first evaluation.
  void addVerifier(const std::string& type, std::shared_ptr<SignatureVerifier> verifier);

  // Checks what can be decided from the name alone, before any registry is contacted: throws
  // PERMISSION_DENIED when the scope for `name` contains a requirement that rejects every image
  // (reject, an unknown type, or a signature type without a verifier).
  void precheck(const Reference& name) const;

  // Throws PERMISSION_DENIED naming the policy file, the scope and the reason unless every
  // requirement of the scope for `image.name` accepts the image.
  void evaluate(const PolicyImage& image) const;

  const Policy& policy() const { return *policy_; }

 private:
  // Returns the verifier `requirement` needs, or nullptr for insecureAcceptAnything. Throws when
  // `requirement` rejects every image.
  SignatureVerifier* verifierFor(const Requirement& requirement, const PolicyScope& scope,
                                 const Reference& name) const;

  std::shared_ptr<const Policy> policy_;
  std::map<std::string, std::shared_ptr<SignatureVerifier>> verifiers_;
};

}  // namespace crio::imaged
