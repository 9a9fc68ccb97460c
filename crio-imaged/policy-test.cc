#include "crio-imaged/policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::imaged {
namespace {

namespace fs = std::filesystem;

const std::string DIGEST =
    "sha256:1e5ef7c1bd2c1d9e7b8f3f0e44bb3d7e4e37c22b4b8c6c1bc3d1e3ad0b1dc5f0";
const std::string FILE_NAME = "/etc/containers/policy.json";

const std::string ACCEPT = R"([{"type": "insecureAcceptAnything"}])";
const std::string REJECT = R"([{"type": "reject"}])";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Policy parse(const std::string& text) {
  return Policy::parse(text, FILE_NAME);
}

Error parseError(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "parsing succeeded: " << text;
  return Error(ErrorCategory::INTERNAL, "");
}

// A policy whose docker scopes each hold one "reject" requirement, so that scopeFor() shows
// which scope matched by its name.
Policy scopesPolicy(const std::vector<std::string>& scopes) {
  std::string text = R"({"default": [{"type": "reject"}], "transports": {"docker": {)";
  for (size_t i = 0; i < scopes.size(); ++i) {
    if (i > 0) text += ",";
    text += "\"" + scopes[i] + "\": " + REJECT;
  }
  return parse(text + "}}}");
}

std::string matchedScope(const Policy& policy, const std::string& reference) {
  const PolicyScope& scope = policy.scopeFor(parseDockerReference(reference));
  return scope.global ? "(global)" : scope.scope;
}

Error evaluateError(const PolicyEvaluator& evaluator, const PolicyImage& image) {
  try {
    evaluator.evaluate(image);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "evaluation accepted " << image.name.string();
  return Error(ErrorCategory::INTERNAL, "");
}

Error precheckError(const PolicyEvaluator& evaluator, const std::string& reference) {
  try {
    evaluator.precheck(parseDockerReference(reference));
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "precheck accepted " << reference;
  return Error(ErrorCategory::INTERNAL, "");
}

PolicyImage imageNamed(const std::string& reference) {
  PolicyImage image;
  image.name = parseDockerReference(reference);
  image.manifest = "{\"schemaVersion\": 2}";
  image.manifestDigest = DIGEST;
  return image;
}

std::shared_ptr<const Policy> shared(const std::string& text) {
  return std::make_shared<const Policy>(parse(text));
}

// ---------------------------------------------------------------------------------------------
// Scope lookup

TEST(PolicyTest, DockerScopesMostSpecificFirst) {
  EXPECT_EQ(dockerScopes(parseDockerReference("a.b.example.com:5000/ns/sub/repo:1")),
            (std::vector<std::string>{
                "a.b.example.com:5000/ns/sub/repo:1", "a.b.example.com:5000/ns/sub/repo",
                "a.b.example.com:5000/ns/sub", "a.b.example.com:5000/ns", "a.b.example.com:5000",
                "*.b.example.com", "*.example.com", "*.com"}));
  EXPECT_EQ(dockerScopes(parseDockerReference("localhost/app@" + DIGEST)),
            (std::vector<std::string>{"localhost/app@" + DIGEST, "localhost/app", "localhost"}));
  EXPECT_EQ(dockerScopes(parseDockerReference("[::1]:5000/app:1")),
            (std::vector<std::string>{"[::1]:5000/app:1", "[::1]:5000/app", "[::1]:5000"}));
}

TEST(PolicyTest, TagAndDigestUsesDigestIdentity) {
  std::vector<std::string> scopes = dockerScopes(parseDockerReference("quay.io/app:1@" + DIGEST));
  ASSERT_FALSE(scopes.empty());
  EXPECT_EQ(scopes[0], "quay.io/app@" + DIGEST);
}

TEST(PolicyTest, ScopePrecedence) {
  Policy policy = scopesPolicy({"", "*.example.com", "*.b.example.com", "a.b.example.com",
                                "a.b.example.com/ns", "a.b.example.com/ns/repo",
                                "a.b.example.com/ns/repo:1", "a.b.example.com/ns/repo@" + DIGEST});
  EXPECT_EQ(matchedScope(policy, "a.b.example.com/ns/repo:1"), "a.b.example.com/ns/repo:1");
  EXPECT_EQ(matchedScope(policy, "a.b.example.com/ns/repo@" + DIGEST),
            "a.b.example.com/ns/repo@" + DIGEST);
  EXPECT_EQ(matchedScope(policy, "a.b.example.com/ns/repo:2"), "a.b.example.com/ns/repo");
  EXPECT_EQ(matchedScope(policy, "a.b.example.com/ns/other:1"), "a.b.example.com/ns");
  EXPECT_EQ(matchedScope(policy, "a.b.example.com/other/repo:1"), "a.b.example.com");
  EXPECT_EQ(matchedScope(policy, "c.b.example.com/ns/repo:1"), "*.b.example.com");
  EXPECT_EQ(matchedScope(policy, "c.example.com/ns/repo:1"), "*.example.com");
  EXPECT_EQ(matchedScope(policy, "quay.io/ns/repo:1"), "");
}

TEST(PolicyTest, GlobalDefaultWithoutTransportDefault) {
  Policy policy = scopesPolicy({"quay.io"});
  EXPECT_EQ(matchedScope(policy, "quay.io/app"), "quay.io");
  EXPECT_EQ(matchedScope(policy, "docker.io/library/busybox"), "(global)");
}

TEST(PolicyTest, PortIsPartOfHostScope) {
  Policy policy = scopesPolicy({"example.com", "*.example.com"});
  EXPECT_EQ(matchedScope(policy, "example.com/app"), "example.com");
  EXPECT_EQ(matchedScope(policy, "example.com:5000/app"), "(global)");
  EXPECT_EQ(matchedScope(policy, "a.example.com:5000/app"), "*.example.com");
}

TEST(PolicyTest, DockerHubScopesUseNormalizedName) {
  Policy policy = scopesPolicy({"docker.io/library/busybox"});
  EXPECT_EQ(matchedScope(policy, "busybox"), "docker.io/library/busybox");
}

// ---------------------------------------------------------------------------------------------
// Evaluation

TEST(PolicyEvaluatorTest, InsecureAcceptAnythingAccepts) {
  PolicyEvaluator evaluator(shared(R"({"default": )" + ACCEPT + "}"));
  evaluator.precheck(parseDockerReference("busybox"));
  evaluator.evaluate(imageNamed("busybox"));
}

TEST(PolicyEvaluatorTest, RejectNamesScopeAndFile) {
  PolicyEvaluator evaluator(shared(R"({"default": )" + ACCEPT +
                                   R"(, "transports": {"docker": {"quay.io/bad": )" + REJECT +
                                   "}}}"));
  evaluator.evaluate(imageNamed("quay.io/good/app"));
  Error e = evaluateError(evaluator, imageNamed("quay.io/bad/app"));
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(), "pulling \"quay.io/bad/app:latest\" is rejected by " + FILE_NAME +
                                     ": scope \"quay.io/bad\" requires \"reject\""))
      << e.what();
  EXPECT_EQ(precheckError(evaluator, "quay.io/bad/app").category(),
            ErrorCategory::PERMISSION_DENIED);
}

TEST(PolicyEvaluatorTest, GlobalDefaultRejectDescribed) {
  PolicyEvaluator evaluator(shared(R"({"default": )" + REJECT + "}"));
  Error e = evaluateError(evaluator, imageNamed("busybox"));
  EXPECT_TRUE(contains(e.what(), "the global default requires \"reject\"")) << e.what();
}

TEST(PolicyEvaluatorTest, EveryRequirementMustAccept) {
  PolicyEvaluator evaluator(
      shared(R"({"default": [{"type": "insecureAcceptAnything"}, {"type": "reject"}]})"));
  EXPECT_EQ(evaluateError(evaluator, imageNamed("busybox")).category(),
            ErrorCategory::PERMISSION_DENIED);
}

const std::string SIGNED_BY = R"({"default": [{"type": "reject"}], "transports": {"docker": {
  "quay.io/signed": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/etc/keys/a.gpg"}],
  "quay.io/cosign": [{"type": "sigstoreSigned", "keyPath": "/etc/keys/cosign.pub",
                      "signedIdentity": {"type": "matchRepository"}}]}}})";

TEST(PolicyEvaluatorTest, SignedByRejectedWithoutVerifier) {
  PolicyEvaluator evaluator(shared(SIGNED_BY));
  Error e = evaluateError(evaluator, imageNamed("quay.io/signed/app:1"));
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  std::string message = e.what();
  EXPECT_TRUE(contains(message, "scope \"quay.io/signed\" requires a \"signedBy\" signature"))
      << message;
  EXPECT_TRUE(contains(message, "signature verification of that type is not supported yet"))
      << message;
  EXPECT_TRUE(contains(message, "the pull was rejected")) << message;
}

TEST(PolicyEvaluatorTest, SigstoreSignedRejectedWithoutVerifier) {
  PolicyEvaluator evaluator(shared(SIGNED_BY));
  Error e = precheckError(evaluator, "quay.io/cosign/app:1");
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(), "requires a \"sigstoreSigned\" signature")) << e.what();
  EXPECT_TRUE(contains(e.what(), "not supported yet")) << e.what();
}

// Records its arguments and accepts or rejects as configured.
class FakeVerifier : public SignatureVerifier {
 public:
  explicit FakeVerifier(bool accept) : accept_(accept) {}

  void verify(const nlohmann::json& requirement, const PolicyImage& image) override {
    requirement_ = requirement;
    manifest_ = std::string(image.manifest);
    signatures_ = image.signatures;
    if (!accept_) fail(ErrorCategory::PERMISSION_DENIED, "no signature by the expected key");
  }

  nlohmann::json requirement_;
  std::string manifest_;
  SignatureFetcher* signatures_ = nullptr;

 private:
  bool accept_;
};

class EmptyFetcher : public SignatureFetcher {
 public:
  std::vector<Signature> fetch(SignatureFormat) override { return {}; }
};

TEST(PolicyEvaluatorTest, RegisteredVerifierReceivesRequirementAndManifest) {
  PolicyEvaluator evaluator(shared(SIGNED_BY));
  auto verifier = std::make_shared<FakeVerifier>(true);
  evaluator.addVerifier("signedBy", verifier);
  EmptyFetcher fetcher;
  PolicyImage image = imageNamed("quay.io/signed/app:1");
  image.signatures = &fetcher;

  evaluator.precheck(image.name);
  evaluator.evaluate(image);
  EXPECT_EQ(verifier->requirement_["keyPath"], "/etc/keys/a.gpg");
  EXPECT_EQ(verifier->manifest_, "{\"schemaVersion\": 2}");
  EXPECT_EQ(verifier->signatures_, &fetcher);
  // The sigstore scope still has no verifier.
  EXPECT_EQ(evaluateError(evaluator, imageNamed("quay.io/cosign/app:1")).category(),
            ErrorCategory::PERMISSION_DENIED);
}

TEST(PolicyEvaluatorTest, VerifierRejectionGetsContext) {
  PolicyEvaluator evaluator(shared(SIGNED_BY));
  evaluator.addVerifier("signedBy", std::make_shared<FakeVerifier>(false));
  Error e = evaluateError(evaluator, imageNamed("quay.io/signed/app:1"));
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(), "pulling \"quay.io/signed/app:1\": " + FILE_NAME +
                                     ": scope \"quay.io/signed\": signedBy: no signature by"))
      << e.what();
}

TEST(PolicyEvaluatorTest, UnknownTypeLoadsWithWarningAndRejects) {
  auto policy = shared(R"({"default": [{"type": "insecureAcceptAnything"}],
      "transports": {"docker": {"quay.io": [{"type": "quantumSigned", "qubits": 3}]}}})");
  ASSERT_EQ(policy->warnings().size(), 1u);
  EXPECT_EQ(policy->warnings()[0].key, "transports.docker.\"quay.io\"[0]");
  EXPECT_TRUE(contains(policy->warnings()[0].message, "\"quantumSigned\""));

  PolicyEvaluator evaluator(policy);
  Error e = evaluateError(evaluator, imageNamed("quay.io/app"));
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(),
                       "requirement type \"quantumSigned\", which this runtime does "
                       "not know"))
      << e.what();
  EXPECT_EQ(precheckError(evaluator, "quay.io/app").category(), ErrorCategory::PERMISSION_DENIED);
}

// ---------------------------------------------------------------------------------------------
// Invalid files

struct InvalidCase {
  std::string text;
  std::string expected;  // part of the message after "FILE: "
};

TEST(PolicyTest, MalformedFilesNameFileAndField) {
  const std::vector<InvalidCase> cases = {
      {"{", "invalid JSON"},
      {"[]", "(document): expected an object"},
      {"{}", "default: is required"},
      {R"({"default": []})", "default: the list of requirements must not be empty"},
      {R"({"default": {}})", "default: expected an array of requirements"},
      {R"({"default": [{}]})", "default[0]: the \"type\" field is missing"},
      {R"({"default": [{"type": 1}]})", "default[0].type: expected a string"},
      {R"({"default": ["reject"]})", "default[0]: expected an object"},
      {R"({"default": [{"type": "reject", "why": "no"}]})", "default[0].why: unknown field"},
      {R"({"default": [{"type": "reject"}], "extra": 1})", "policy.json: extra: unknown field"},
      {R"({"default": [{"type": "reject"}], "transports": []})", "transports: expected an object"},
      {R"({"default": [{"type": "reject"}], "transports": {"docker": {"quay.io": []}}})",
       "transports.docker.\"quay.io\": the list of requirements must not be empty"},
      {R"({"default": [{"type": "reject"}], "transports": {"docker": {"a.io": [{"type":
        "signedBy", "keyPath": "/k"}]}}})",
       "transports.docker.\"a.io\"[0].keyType: is required"},
      {R"({"default": [{"type": "signedBy", "keyType": "PGP", "keyPath": "/k"}]})",
       "default[0].keyType: unknown key type \"PGP\""},
      {R"({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k",
        "keyData": "AAAA"}]})",
       "default[0]: exactly one of keyPath, keyPaths, keyData must be set"},
      {R"({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPaths": []}]})",
       "default[0].keyPaths: expected a non-empty array of strings"},
      {R"({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k",
        "signedIdentity": {"type": "matchEverything"}}]})",
       "default[0].signedIdentity.type: unknown identity type \"matchEverything\""},
      {R"({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k",
        "signedIdentity": {"type": "exactReference", "dockerReference": "quay.io/app"}}]})",
       "default[0].signedIdentity.dockerReference: must be a fully qualified name with a tag"},
      {R"({"default": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k",
        "signedIdentity": {"type": "remapIdentity", "prefix": "a.io"}}]})",
       "default[0].signedIdentity.signedPrefix: is required"},
      {R"({"default": [{"type": "sigstoreSigned"}]})",
       "default[0]: exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, pki must be set"},
      {R"({"default": [{"type": "sigstoreSigned", "keyPath": "/k", "fulcio": {"caPth": "/c"}}]})",
       "default[0]: exactly one of"},
      {R"({"default": [{"type": "sigstoreSigned", "fulcio": {"caPth": "/c"}}]})",
       "default[0].fulcio.caPth: unknown field"},
      {R"({"default": [{"type": "signedBaseLayer"}]})",
       "default[0].baseLayerIdentity: is required"},
      {R"({"default": [{"type": "reject"}], "transports": {"atomic": {"a.io": {}}}})",
       "transports.atomic.\"a.io\": expected a non-empty array of requirements"},
      {R"({"default": [{"type": "reject"}], "default": [{"type": "reject"}]})",
       "duplicated key \"default\""},
      {R"({"default": [{"type": "reject", "type": "insecureAcceptAnything"}]})",
       "duplicated key \"type\""},
      {R"({"default": [[[[[[[[[[[[[[[[[[[[{"type": "reject"}]]]]]]]]]]]]]]]]]]]]})",
       "nested too deeply"},
  };
  for (const auto& c : cases) {
    Error e = parseError(c.text);
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT) << c.text;
    EXPECT_TRUE(contains(e.what(), FILE_NAME + ": ")) << e.what();
    EXPECT_TRUE(contains(e.what(), c.expected))
        << "got: " << e.what() << "\nexpected: " << c.expected;
  }
}

TEST(PolicyTest, ValidSignatureRequirementsParse) {
  Policy policy = parse(R"({"default": [{"type": "reject"}], "transports": {"docker": {
    "a.io": [{"type": "signedBy", "keyType": "GPGKeys", "keyPaths": ["/k1", "/k2"],
              "signedIdentity": {"type": "remapIdentity", "prefix": "a.io",
                                 "signedPrefix": "b.io"}}],
    "b.io": [{"type": "sigstoreSigned", "fulcio": {"caPath": "/ca", "oidcIssuer": "https://i",
              "subjectEmail": "x@y"}, "rekorPublicKeyPath": "/rekor"}],
    "c.io": [{"type": "sigstoreSigned", "keyDatas": ["AAAA"],
              "signedIdentity": {"type": "exactRepository", "dockerRepository": "c.io/app"}}],
    "d.io": [{"type": "signedBaseLayer", "baseLayerIdentity": {"type": "exactReference",
              "dockerReference": "d.io/base:1"}}]}}})");
  EXPECT_EQ(policy.scopeFor(parseDockerReference("a.io/x")).requirements[0].type,
            RequirementType::SIGNED_BY);
  EXPECT_EQ(policy.scopeFor(parseDockerReference("b.io/x")).requirements[0].type,
            RequirementType::SIGSTORE_SIGNED);
  EXPECT_EQ(policy.scopeFor(parseDockerReference("d.io/x")).requirements[0].type,
            RequirementType::SIGNED_BASE_LAYER);
  EXPECT_TRUE(policy.warnings().empty());
}

TEST(PolicyTest, OtherTransportsIgnored) {
  Policy policy = parse(R"({"default": [{"type": "reject"}], "transports": {
    "atomic": {"a.io": [{"type": "whatever"}]},
    "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}}})");
  EXPECT_TRUE(policy.scopeFor(parseDockerReference("a.io/x")).global);
  EXPECT_TRUE(policy.warnings().empty());
}

// ---------------------------------------------------------------------------------------------
// Files

class PolicyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-policy-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string dir_;
};

TEST_F(PolicyFileTest, MissingFileIsFailedPrecondition) {
  std::string path = dir_ + "/policy.json";
  try {
    Policy::load(path);
    ADD_FAILURE() << "loading a missing policy succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::FAILED_PRECONDITION);
    EXPECT_TRUE(contains(e.what(), "no policy.json at " + path)) << e.what();
  }
}

TEST_F(PolicyFileTest, LoadNamesTheFile) {
  std::string path = dir_ + "/policy.json";
  std::ofstream(path) << R"({"default": [{"type": "insecureAcceptAnything"}]})";
  EXPECT_EQ(Policy::load(path).file(), path);

  std::ofstream(path) << R"({"default": "accept"})";
  try {
    Policy::load(path);
    ADD_FAILURE() << "loading a malformed policy succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_TRUE(contains(e.what(), path + ": default: expected an array")) << e.what();
  }
}

TEST_F(PolicyFileTest, OversizedFileRejected) {
  std::string path = dir_ + "/policy.json";
  std::ofstream(path) << std::string(MAX_POLICY_FILE_SIZE + 1, ' ');
  try {
    Policy::load(path);
    ADD_FAILURE() << "loading an oversized policy succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::RESOURCE_EXHAUSTED);
  }
}

TEST_F(PolicyFileTest, PolicyPathPerNamespace) {
  std::string defaultPath = dir_ + "/policy.json";
  std::ofstream(dir_ + "/team-a.json") << "{}";
  EXPECT_EQ(policyPathFor(defaultPath, dir_, "team-a"), dir_ + "/team-a.json");
  EXPECT_EQ(policyPathFor(defaultPath, dir_, "team-b"), defaultPath);
  EXPECT_EQ(policyPathFor(defaultPath, dir_, ""), defaultPath);
  EXPECT_EQ(policyPathFor(defaultPath, "", "team-a"), defaultPath);
  for (const char* bad : {"../etc", "Team", "a/b", "-a", "a.b"}) {
    try {
      policyPathFor(defaultPath, dir_, bad);
      ADD_FAILURE() << "accepted namespace " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT) << bad;
    }
  }
}

}  // namespace
}  // namespace crio::imaged
