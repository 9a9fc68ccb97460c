#include "crio-imaged/reference.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"

namespace crio::imaged {
namespace {

const std::string HEX = "1e5ef7c1bd2c1d9e7b8f3f0e44bb3d7e4e37c22b4b8c6c1bc3d1e3ad0b1dc5f0";
const std::string DIGEST = "sha256:" + HEX;

// Returns the message of the crio::Error that parseReference() throws, or "" when it parses.
std::string parseError(std::string_view text) {
  try {
    parseReference(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT) << text;
    return e.what();
  }
  return "";
}

struct NormalizationCase {
  std::string input;
  std::string expected;  // parseDockerReference(input).string()
};

TEST(ReferenceTest, DockerNormalizationTable) {
  const std::vector<NormalizationCase> cases = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:1.36", "docker.io/library/busybox:1.36"},
      {"library/busybox", "docker.io/library/busybox:latest"},
      {"user/app", "docker.io/user/app:latest"},
      {"user/team/app:v1", "docker.io/user/team/app:v1"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest"},
      {"index.docker.io/busybox", "docker.io/library/busybox:latest"},
      {"index.docker.io/user/app:2", "docker.io/user/app:2"},
      {"quay.io/coreos/etcd", "quay.io/coreos/etcd:latest"},
      {"registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"},
      {"localhost/app", "localhost/app:latest"},
      {"localhost:5000/app:dev", "localhost:5000/app:dev"},
      {"myhost:5000/a/b/c", "myhost:5000/a/b/c:latest"},
      {"[::1]:5000/app:1", "[::1]:5000/app:1"},
      {"[fe80::1]/app", "[fe80::1]/app:latest"},
      {"Example.COM/app", "Example.COM/app:latest"},
      {"a.b/c__d/e-f/g.h/i_j/k---l", "a.b/c__d/e-f/g.h/i_j/k---l:latest"},
      {"busybox@" + DIGEST, "docker.io/library/busybox@" + DIGEST},
      {"busybox:1.36@" + DIGEST, "docker.io/library/busybox:1.36@" + DIGEST},
      {"gcr.io/a/b:TAG_1.x-y", "gcr.io/a/b:TAG_1.x-y"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(parseDockerReference(c.input).string(), c.expected) << c.input;
  }
}

TEST(ReferenceTest, PartsOfAQualifiedReference) {
  Reference r = parseReference("localhost:5000/ns/app:v2");
  EXPECT_EQ(r.domain, "localhost:5000");
  EXPECT_EQ(r.path, "ns/app");
  EXPECT_EQ(r.tag, "v2");
  EXPECT_EQ(r.digest, "");
  EXPECT_FALSE(r.isShortName());
  EXPECT_EQ(r.name(), "localhost:5000/ns/app");
}

TEST(ReferenceTest, ShortNameKeepsEmptyDomainAndNoTag) {
  Reference r = parseReference("library/busybox");
  EXPECT_TRUE(r.isShortName());
  EXPECT_EQ(r.domain, "");
  EXPECT_EQ(r.path, "library/busybox");
  EXPECT_EQ(r.tag, "");
  EXPECT_EQ(r.string(), "library/busybox");
}

TEST(ReferenceTest, IsShortNameFollowsDomainDetection) {
  EXPECT_TRUE(isShortName("busybox"));
  EXPECT_TRUE(isShortName("busybox:1"));
  EXPECT_TRUE(isShortName("library/busybox"));
  EXPECT_TRUE(isShortName("foo/bar/baz"));
  EXPECT_FALSE(isShortName("docker.io/busybox"));
  EXPECT_FALSE(isShortName("localhost/busybox"));
  EXPECT_FALSE(isShortName("host:5000/busybox"));
  EXPECT_FALSE(isShortName("[::1]/busybox"));
  EXPECT_FALSE(isShortName("my.registry/busybox"));
}

TEST(ReferenceTest, LocalhostWithoutSlashIsANameWithATag) {
  // As in docker: without a '/', "localhost:5000" is the repository "localhost" tagged "5000".
  Reference r = parseReference("localhost:5000");
  EXPECT_TRUE(r.isShortName());
  EXPECT_EQ(r.path, "localhost");
  EXPECT_EQ(r.tag, "5000");
}

TEST(ReferenceTest, DefaultTagOnlyWithoutDigest) {
  EXPECT_EQ(parseDockerReference("busybox").tag, "latest");
  Reference digested = parseDockerReference("busybox@" + DIGEST);
  EXPECT_EQ(digested.tag, "");
  EXPECT_EQ(digested.digest, DIGEST);
}

TEST(ReferenceTest, TagAndDigestPullsByDigest) {
  Reference r = parseDockerReference("quay.io/app:1.2@" + DIGEST);
  EXPECT_EQ(r.tag, "1.2");
  EXPECT_EQ(r.digest, DIGEST);
  EXPECT_EQ(r.string(), "quay.io/app:1.2@" + DIGEST);
  EXPECT_EQ(r.pullString(), "quay.io/app@" + DIGEST);
  EXPECT_EQ(r.repoDigest(), "quay.io/app@" + DIGEST);
  EXPECT_EQ(r.manifestReference(), DIGEST);
}

TEST(ReferenceTest, StringForms) {
  Reference tagged = parseDockerReference("busybox");
  EXPECT_EQ(tagged.string(), "docker.io/library/busybox:latest");
  EXPECT_EQ(tagged.pullString(), "docker.io/library/busybox:latest");
  EXPECT_EQ(tagged.repoDigest(), "");
  EXPECT_EQ(tagged.manifestReference(), "latest");

  Reference digested = parseDockerReference("busybox@" + DIGEST);
  EXPECT_EQ(digested.repoDigest(), "docker.io/library/busybox@" + DIGEST);
  EXPECT_EQ(digested.pullString(), "docker.io/library/busybox@" + DIGEST);
}

TEST(ReferenceTest, QualifyAppliesDockerHubRules) {
  Reference shortName = parseReference("busybox:1");
  EXPECT_EQ(qualify(shortName, "docker.io").string(), "docker.io/library/busybox:1");
  EXPECT_EQ(qualify(shortName, "index.docker.io").string(), "docker.io/library/busybox:1");
  EXPECT_EQ(qualify(shortName, "quay.io").string(), "quay.io/busybox:1");
  EXPECT_EQ(qualify(parseReference("ns/app"), "docker.io").string(), "docker.io/ns/app");
}

TEST(ReferenceTest, WithDefaultTagKeepsExistingTagOrDigest) {
  EXPECT_EQ(withDefaultTag(parseReference("a.io/b")).tag, "latest");
  EXPECT_EQ(withDefaultTag(parseReference("a.io/b:1")).tag, "1");
  EXPECT_EQ(withDefaultTag(parseReference("a.io/b@" + DIGEST)).tag, "");
}

TEST(ReferenceTest, UppercaseRepositoryRejected) {
  std::string message = parseError("Busybox");
  EXPECT_NE(message.find("must be lowercase"), std::string::npos) << message;
  EXPECT_NE(message.find("\"Busybox\""), std::string::npos) << message;
  EXPECT_NE(parseError("quay.io/App").find("must be lowercase"), std::string::npos);
  // Without '.', ':' or "localhost" the first component is part of the path, as in
  // containers/image, so an uppercase one is a bad repository name, not a registry.
  EXPECT_NE(parseError("Foo/bar").find("must be lowercase"), std::string::npos);
}

TEST(ReferenceTest, InvalidReferencesNameTheProblem) {
  EXPECT_NE(parseError("").find("empty"), std::string::npos);
  EXPECT_NE(parseError("a//b").find("empty component"), std::string::npos);
  EXPECT_NE(parseError("/busybox").find("empty component"), std::string::npos);
  EXPECT_NE(parseError("busybox/").find("empty component"), std::string::npos);
  EXPECT_NE(parseError("quay.io/").find("empty"), std::string::npos);
  EXPECT_NE(parseError("-busybox").find("component"), std::string::npos);
  EXPECT_NE(parseError("busy..box").find("component"), std::string::npos);
  EXPECT_NE(parseError("busy___box").find("component"), std::string::npos);
  EXPECT_NE(parseError("busybox:").find("tag"), std::string::npos);
  EXPECT_NE(parseError("busybox:.x").find("tag"), std::string::npos);
  EXPECT_NE(parseError("busybox:a b").find("tag"), std::string::npos);
  EXPECT_NE(parseError("busy box").find("component"), std::string::npos);
  EXPECT_NE(parseError("quay.io:99999/app").find("registry"), std::string::npos);
  EXPECT_NE(parseError("quay.io:/app").find("registry"), std::string::npos);
  EXPECT_NE(parseError("-quay.io/app").find("registry"), std::string::npos);
  EXPECT_NE(parseError("qu_ay.io/app").find("registry"), std::string::npos);
  EXPECT_NE(parseError("[zz::1]/app").find("registry"), std::string::npos);
  EXPECT_NE(parseError("https://quay.io/app").find("registry"), std::string::npos);
}

TEST(ReferenceTest, TagLengthBound) {
  std::string tag128(128, 'a');
  EXPECT_EQ(parseError("app:" + tag128), "");
  EXPECT_NE(parseError("app:" + tag128 + "a").find("tag"), std::string::npos);
}

TEST(ReferenceTest, NameLengthBoundIncludesDomain) {
  std::string path(255 - std::string("quay.io/").size(), 'a');
  EXPECT_EQ(parseError("quay.io/" + path), "");
  std::string message = parseError("quay.io/" + path + "a");
  EXPECT_NE(message.find("more than 255"), std::string::npos) << message;
}

TEST(ReferenceTest, LibraryPrefixCountsTowardsLength) {
  std::string path(255 - std::string("docker.io/").size(), 'a');
  std::string message = parseError("docker.io/" + path);
  EXPECT_NE(message.find("more than 255"), std::string::npos) << message;
}

TEST(ReferenceTest, InputLengthBoundCheckedFirst) {
  std::string message = parseError(std::string(MAX_REFERENCE_LENGTH + 1, 'a'));
  EXPECT_NE(message.find("more than 512"), std::string::npos) << message;
  // The message quotes a bounded part of the input only.
  EXPECT_LT(message.size(), 400u);
}

TEST(ReferenceTest, DigestValidation) {
  EXPECT_EQ(parseError("app@" + DIGEST), "");
  EXPECT_NE(parseError("app@sha512:" + HEX + HEX).find("only sha256"), std::string::npos);
  EXPECT_NE(parseError("app@md5:abc").find("only sha256"), std::string::npos);
  EXPECT_NE(parseError("app@" + HEX).find("sha256:<64 hex digits>"), std::string::npos);
  EXPECT_NE(parseError("app@sha256:" + HEX.substr(1)).find("has 63"), std::string::npos);
  EXPECT_NE(parseError("app@sha256:" + HEX + "0").find("has 65"), std::string::npos);
  std::string upper = HEX;
  upper[0] = 'E';
  EXPECT_NE(parseError("app@sha256:" + upper).find("lowercase"), std::string::npos);
  EXPECT_NE(parseError("app@sha256:" + HEX.substr(1) + "g").find("not a hex digit"),
            std::string::npos);
  EXPECT_NE(parseError("app@").find("sha256:<64 hex digits>"), std::string::npos);
  EXPECT_NE(parseError("app@" + DIGEST + "@" + DIGEST).find("not a hex digit"), std::string::npos);
}

TEST(ReferenceTest, BareImageIdRejected) {
  std::string message = parseError(HEX);
  EXPECT_NE(message.find("image id"), std::string::npos) << message;
}

TEST(ReferenceTest, ControlCharactersEscapedInMessages) {
  std::string message = parseError("bad\nname\x01");
  EXPECT_NE(message.find("\"bad\\x0aname\\x01\""), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(ReferenceTest, DomainValidation) {
  EXPECT_TRUE(isValidDomain("docker.io"));
  EXPECT_TRUE(isValidDomain("localhost"));
  EXPECT_TRUE(isValidDomain("localhost:5000"));
  EXPECT_TRUE(isValidDomain("a-b.example.com:443"));
  EXPECT_TRUE(isValidDomain("[::1]"));
  EXPECT_TRUE(isValidDomain("[2001:db8::1]:5000"));
  EXPECT_TRUE(isValidDomain("10.0.0.1:5000"));
  EXPECT_FALSE(isValidDomain(""));
  EXPECT_FALSE(isValidDomain("example.com:"));
  EXPECT_FALSE(isValidDomain("example.com:65536"));
  EXPECT_FALSE(isValidDomain("example..com"));
  EXPECT_FALSE(isValidDomain("-example.com"));
  EXPECT_FALSE(isValidDomain("example.com/ns"));
  EXPECT_FALSE(isValidDomain("[::1"));
  EXPECT_FALSE(isValidDomain("[]:5000"));
}

TEST(ReferenceTest, DigestProblemEmptyForValid) {
  EXPECT_EQ(digestProblem(DIGEST), "");
  EXPECT_NE(digestProblem("sha256:"), "");
}

}  // namespace
}  // namespace crio::imaged
