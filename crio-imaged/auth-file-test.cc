#include "crio-imaged/auth-file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::imaged {
namespace {

namespace fs = std::filesystem;

const std::string FILE_NAME = "/run/containers/0/auth.json";
// base64 of "alice:s3cret", "bob:pw", "carol:pw2", "nocolon", "dan:pw\0\0", "<token>:".
const std::string ALICE = "YWxpY2U6czNjcmV0";
const std::string BOB = "Ym9iOnB3";
const std::string CAROL = "Y2Fyb2w6cHcy";
const std::string NO_COLON = "bm9jb2xvbg==";
const std::string DAN_PADDED = "ZGFuOnB3AAA=";
const std::string TOKEN_USER = "PHRva2VuPjo=";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string entry(const std::string& key, const std::string& auth) {
  return "\"" + key + "\": {\"auth\": \"" + auth + "\"}";
}

AuthFile parse(const std::string& text) {
  return AuthFile::parse(text, FILE_NAME);
}

// The user name found for `name`, or "(none)".
std::string userFor(const AuthFile& file, const std::string& name) {
  std::optional<StoredCredentials> credentials = file.find(name);
  return credentials ? credentials->username : "(none)";
}

Error findError(const AuthFile& file, const std::string& name) {
  try {
    file.find(name);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "find succeeded for " << name;
  return Error(ErrorCategory::INTERNAL, "");
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

// ---------------------------------------------------------------------------------------------
// Matching within one file

TEST(AuthFileTest, MostSpecificKeyWins) {
  AuthFile file = parse("{\"auths\": {" + entry("reg.local/ns/user/image", ALICE) + ", " +
                        entry("reg.local/ns", BOB) + ", " + entry("reg.local", CAROL) + "}}");
  EXPECT_EQ(userFor(file, "reg.local/ns/user/image"), "alice");
  EXPECT_EQ(userFor(file, "reg.local/ns/user/other"), "bob");
  EXPECT_EQ(userFor(file, "reg.local/ns/app"), "bob");
  EXPECT_EQ(userFor(file, "reg.local/nsx/app"), "carol");
  EXPECT_EQ(userFor(file, "reg.local/app"), "carol");
  EXPECT_EQ(userFor(file, "other.local/ns/app"), "(none)");
}

TEST(AuthFileTest, CredentialsAndSource) {
  AuthFile file = parse("{\"auths\": {" + entry("quay.io", ALICE) + "}}");
  std::optional<StoredCredentials> credentials = file.find("quay.io/team/app");
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->username, "alice");
  EXPECT_EQ(credentials->password, "s3cret");
  EXPECT_EQ(credentials->identityToken, "");
  EXPECT_EQ(credentials->source, FILE_NAME + " (key quay.io)");
}

TEST(AuthFileTest, PortIsPartOfHost) {
  AuthFile file = parse("{\"auths\": {" + entry("localhost:5000", ALICE) + ", " +
                        entry("localhost", BOB) + "}}");
  EXPECT_EQ(userFor(file, "localhost:5000/app"), "alice");
  EXPECT_EQ(userFor(file, "localhost/app"), "bob");
  EXPECT_EQ(userFor(file, "localhost:5001/app"), "(none)");
}

TEST(AuthFileTest, DockerHubKeysNormalized) {
  for (const char* key : {"https://index.docker.io/v1/", "docker.io", "index.docker.io",
                          "registry-1.docker.io", "http://docker.io"}) {
    AuthFile file = parse("{\"auths\": {" + entry(key, ALICE) + "}}");
    EXPECT_EQ(userFor(file, "docker.io/library/busybox"), "alice") << key;
  }
}

TEST(AuthFileTest, UrlKeyReducedToHost) {
  AuthFile file = parse("{\"auths\": {" + entry("https://quay.io/v2/", ALICE) + "}}");
  EXPECT_EQ(userFor(file, "quay.io/team/app"), "alice");
  // A plain key with a path is a namespace, not a URL, and is matched only as one.
  AuthFile namespaced = parse("{\"auths\": {" + entry("quay.io/team", ALICE) + "}}");
  EXPECT_EQ(userFor(namespaced, "quay.io/other/app"), "(none)");
}

TEST(AuthFileTest, ExactKeyPreferredOverNormalizedOne) {
  AuthFile file = parse("{\"auths\": {" + entry("https://index.docker.io/v1/", ALICE) + ", " +
                        entry("docker.io/library", BOB) + "}}");
  EXPECT_EQ(userFor(file, "docker.io/library/busybox"), "bob");
  EXPECT_EQ(userFor(file, "docker.io/user/app"), "alice");
}

TEST(AuthFileTest, IdentityToken) {
  AuthFile file = parse(R"({"auths": {"quay.io": {"auth": ")" + TOKEN_USER +
                        R"(", "identitytoken": "refresh-123"}, "b.io": {"identitytoken": "t2"}}})");
  std::optional<StoredCredentials> credentials = file.find("quay.io/app");
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->username, "<token>");
  EXPECT_EQ(credentials->password, "");
  EXPECT_EQ(credentials->identityToken, "refresh-123");
  std::optional<StoredCredentials> tokenOnly = file.find("b.io/app");
  ASSERT_TRUE(tokenOnly.has_value());
  EXPECT_EQ(tokenOnly->identityToken, "t2");
}

TEST(AuthFileTest, EmptyEntryPassedOver) {
  AuthFile file = parse("{\"auths\": {\"quay.io/team\": {}, " + entry("quay.io", ALICE) + "}}");
  EXPECT_EQ(userFor(file, "quay.io/team/app"), "alice");
}

TEST(AuthFileTest, NulPaddingStrippedFromPassword) {
  AuthFile file = parse("{\"auths\": {" + entry("quay.io", DAN_PADDED) + "}}");
  std::optional<StoredCredentials> credentials = file.find("quay.io/app");
  ASSERT_TRUE(credentials.has_value());
  EXPECT_EQ(credentials->password, "pw");
}

TEST(AuthFileTest, InvalidBase64NamesKeyNotValue) {
  AuthFile file = parse("{\"auths\": {" + entry("quay.io", "c2VjcmV0!!") + ", " +
                        entry("other.io", "YWxpY2U6czNjcmV0=") + "}}");
  Error e = findError(file, "quay.io/app");
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), FILE_NAME + ": auths.\"quay.io\".auth: not valid base64"))
      << e.what();
  EXPECT_FALSE(contains(e.what(), "c2VjcmV0")) << e.what();
  // Padding where none belongs.
  EXPECT_EQ(findError(file, "other.io/app").category(), ErrorCategory::INVALID_ARGUMENT);
}

TEST(AuthFileTest, BadEntryForOtherRegistryIgnored) {
  AuthFile file =
      parse("{\"auths\": {" + entry("bad.io", "%%%") + ", " + entry("quay.io", ALICE) + "}}");
  EXPECT_EQ(userFor(file, "quay.io/app"), "alice");
}

TEST(AuthFileTest, MissingColonRejected) {
  AuthFile file = parse("{\"auths\": {" + entry("quay.io", NO_COLON) + "}}");
  Error e = findError(file, "quay.io/app");
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), "no ':' between user name and password")) << e.what();
  EXPECT_FALSE(contains(e.what(), "nocolon")) << e.what();
}

TEST(AuthFileTest, CredHelperForRegistryIsUnsupported) {
  AuthFile file = parse(R"({"auths": {"quay.io": {}, "b.io": {"auth": ")" + ALICE +
                        R"("}}, "credHelpers": {"quay.io": "secretservice"}})");
  Error e = findError(file, "quay.io/app");
  EXPECT_EQ(e.category(), ErrorCategory::UNIMPLEMENTED);
  EXPECT_TRUE(contains(e.what(), "credHelpers names \"secretservice\" for \"quay.io\""))
      << e.what();
  EXPECT_TRUE(contains(e.what(), "not supported")) << e.what();
  EXPECT_EQ(userFor(file, "b.io/app"), "alice");
}

TEST(AuthFileTest, CredsStoreIgnored) {
  AuthFile file = parse(R"({"auths": {"quay.io": {}}, "credsStore": "desktop"})");
  EXPECT_EQ(userFor(file, "quay.io/app"), "(none)");
}

TEST(AuthFileTest, MalformedFilesRejected) {
  Error syntax = parseError("{\"auths\": {\"quay.io\": {\"auth\": \"SECRETVALUE\"");
  EXPECT_EQ(syntax.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(syntax.what(), FILE_NAME + ": invalid JSON at byte")) << syntax.what();
  EXPECT_FALSE(contains(syntax.what(), "SECRETVALUE")) << syntax.what();

  EXPECT_TRUE(contains(parseError("[]").what(), "(document): expected an object"));
  EXPECT_TRUE(contains(parseError("{\"auths\": []}").what(), "auths: expected an object"));
  EXPECT_TRUE(contains(parseError("{\"auths\": {\"a.io\": \"x\"}}").what(),
                       "auths.\"a.io\": expected an object"));
  EXPECT_TRUE(contains(parseError("{\"auths\": {\"a.io\": {\"auth\": 1}}}").what(),
                       "auths.\"a.io\".auth: expected a string"));
  EXPECT_TRUE(contains(parseError("{\"credHelpers\": {\"a.io\": 1}}").what(),
                       "credHelpers.\"a.io\": expected a string"));
}

TEST(AuthFileTest, TooManyEntriesRejected) {
  std::string text = "{\"auths\": {";
  for (size_t i = 0; i <= MAX_AUTH_ENTRIES; ++i) {
    if (i > 0) text += ", ";
    text += entry("r" + std::to_string(i) + ".io", ALICE);
  }
  EXPECT_EQ(parseError(text + "}}").category(), ErrorCategory::RESOURCE_EXHAUSTED);
}

TEST(AuthFileTest, DecodeAuthForRequestCredentials) {
  UserPassword user = decodeAuth(BOB, "CRI AuthConfig.auth");
  EXPECT_EQ(user.username, "bob");
  EXPECT_EQ(user.password, "pw");
  EXPECT_EQ(decodeAuth("", "x").username, "");
  try {
    decodeAuth("Ym9i", "CRI AuthConfig.auth");
    ADD_FAILURE() << "decoded a value without ':'";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "CRI AuthConfig.auth: the decoded value has no ':'"))
        << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Files

class AuthFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-auth-file-test-XXXXXX";
    root_ = mkdtemp(pattern);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }

  std::string root_;
};

TEST_F(AuthFilesTest, DefaultOrderUnderRoot) {
  Paths paths(root_);
  EXPECT_EQ(defaultAuthFiles("", paths),
            (std::vector<std::string>{root_ + "/run/containers/0/auth.json",
                                      root_ + "/root/.config/containers/auth.json",
                                      root_ + "/root/.docker/config.json"}));
  EXPECT_EQ(defaultAuthFiles("/etc/crio/auth.json", paths),
            (std::vector<std::string>{"/etc/crio/auth.json"}));
}

TEST_F(AuthFilesTest, FirstFileWithMatchWins) {
  std::vector<std::string> files = defaultAuthFiles("", Paths(root_));
  write(files[1], "{\"auths\": {" + entry("quay.io", ALICE) + ", " + entry("b.io", ALICE) + "}}");
  write(files[2],
        "{\"auths\": {" + entry("quay.io/team/app", BOB) + ", " + entry("c.io", BOB) + "}}");

  std::optional<StoredCredentials> first = findCredentials(files, "quay.io/team/app");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->username, "alice");
  EXPECT_EQ(first->source, files[1] + " (key quay.io)");

  std::optional<StoredCredentials> last = findCredentials(files, "c.io/app");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->username, "bob");

  EXPECT_FALSE(findCredentials(files, "d.io/app").has_value());
}

TEST_F(AuthFilesTest, NoFilesNoCredentials) {
  EXPECT_FALSE(findCredentials(defaultAuthFiles("", Paths(root_)), "quay.io/app").has_value());
}

TEST_F(AuthFilesTest, InvalidFileStopsTheSearch) {
  std::vector<std::string> files = defaultAuthFiles("", Paths(root_));
  write(files[0], "not json");
  write(files[1], "{\"auths\": {" + entry("quay.io", ALICE) + "}}");
  try {
    findCredentials(files, "quay.io/app");
    ADD_FAILURE() << "an invalid auth file was skipped";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
    EXPECT_TRUE(contains(e.what(), files[0])) << e.what();
  }
}

TEST_F(AuthFilesTest, FolderInPlaceOfFileRejected) {
  std::string path = root_ + "/auth.json";
  fs::create_directories(path);
  try {
    AuthFile::load(path);
    ADD_FAILURE() << "a folder loaded as an auth file";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  }
}

}  // namespace
}  // namespace crio::imaged
