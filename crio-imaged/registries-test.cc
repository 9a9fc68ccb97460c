#include "crio-imaged/registries.h"

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

class RegistriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-registries-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    fs::create_directories(dir_ + "/registries.conf.d");
    sources_.file = dir_ + "/registries.conf";
    sources_.dropInDir = dir_ + "/registries.conf.d";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void writeMain(const std::string& text) { std::ofstream(sources_.file) << text; }
  void writeDropIn(const std::string& name, const std::string& text) {
    std::ofstream(sources_.dropInDir + "/" + name) << text;
  }

  RegistriesConfig load() { return loadRegistries(sources_); }

  // The error loadRegistries() throws; fails the test when it throws none.
  Error loadError() {
    try {
      load();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "loading succeeded";
    return Error(ErrorCategory::INTERNAL, "");
  }

  // The sources for `text` as "reference[ insecure][ mirror]" strings.
  std::vector<std::string> sourcesOf(const RegistriesConfig& config, const std::string& text) {
    std::vector<std::string> out;
    for (const auto& source : pullSources(config, parseDockerReference(text))) {
      std::string line = source.reference.string();
      if (source.insecure) line += " insecure";
      if (source.mirror) line += " mirror";
      out.push_back(line);
    }
    return out;
  }

  Error sourcesError(const RegistriesConfig& config, const std::string& text) {
    try {
      pullSources(config, parseDockerReference(text));
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "pullSources succeeded for " << text;
    return Error(ErrorCategory::INTERNAL, "");
  }

  std::string dir_;
  RegistriesSources sources_;
};

using Lines = std::vector<std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Files and merging

TEST_F(RegistriesTest, MissingFilesGiveEmptyConfig) {
  fs::remove_all(sources_.dropInDir);
  RegistriesConfig config = load();
  EXPECT_TRUE(config.registries.empty());
  EXPECT_TRUE(config.unqualifiedSearchRegistries.empty());
  EXPECT_TRUE(config.filesRead.empty());
  EXPECT_EQ(config.shortNameMode, ShortNameMode::PERMISSIVE);
}

TEST_F(RegistriesTest, MissingExplicitFileIsNotFound) {
  sources_.fileExplicit = true;
  Error e = loadError();
  EXPECT_EQ(e.category(), ErrorCategory::NOT_FOUND);
  EXPECT_TRUE(contains(e.what(), sources_.file)) << e.what();
}

TEST_F(RegistriesTest, DropInsOverrideInLexicalOrder) {
  writeMain("unqualified-search-registries = [\"a.io\"]\nshort-name-mode = \"disabled\"\n");
  writeDropIn("20-b.conf", "unqualified-search-registries = [\"c.io\", \"d.io\"]\n");
  writeDropIn("10-a.conf",
              "unqualified-search-registries = [\"b.io\"]\nshort-name-mode = \"enforcing\"\n");
  writeDropIn("30-ignored.txt", "unqualified-search-registries = [\"x.io\"]\n");
  fs::create_directories(sources_.dropInDir + "/40-folder.conf");

  RegistriesConfig config = load();
  EXPECT_EQ(config.unqualifiedSearchRegistries, (Lines{"c.io", "d.io"}));
  EXPECT_EQ(config.searchRegistriesFile, sources_.dropInDir + "/20-b.conf");
  EXPECT_EQ(config.shortNameMode, ShortNameMode::ENFORCING);
  EXPECT_EQ(config.shortNameModeFile, sources_.dropInDir + "/10-a.conf");
  EXPECT_EQ(config.filesRead, (Lines{sources_.file, sources_.dropInDir + "/10-a.conf",
                                     sources_.dropInDir + "/20-b.conf"}));
}

TEST_F(RegistriesTest, EmptySearchListClearsEarlier) {
  writeMain("unqualified-search-registries = [\"a.io\"]\n");
  writeDropIn("10.conf", "unqualified-search-registries = []\n");
  EXPECT_TRUE(load().unqualifiedSearchRegistries.empty());
}

TEST_F(RegistriesTest, DropInWithoutKeyKeepsEarlierValues) {
  writeMain("unqualified-search-registries = [\"a.io\"]\nshort-name-mode = \"enforcing\"\n");
  writeDropIn("10.conf", "[aliases]\n\"x\" = \"a.io/x\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(config.unqualifiedSearchRegistries, (Lines{"a.io"}));
  EXPECT_EQ(config.shortNameMode, ShortNameMode::ENFORCING);
}

TEST_F(RegistriesTest, RegistryTablesMergeByPrefix) {
  writeMain(
      "[[registry]]\nprefix = \"gcr.io\"\nlocation = \"first.io\"\n"
      "[[registry]]\nlocation = \"quay.io\"\ninsecure = true\n");
  writeDropIn("10.conf",
              "[[registry]]\nprefix = \"gcr.io\"\nlocation = \"second.io\"\n"
              "[[registry]]\nlocation = \"added.io\"\n");

  RegistriesConfig config = load();
  ASSERT_EQ(config.registries.size(), 3u);
  EXPECT_EQ(config.registries[0].prefix, "added.io");
  EXPECT_EQ(config.registries[1].prefix, "gcr.io");
  EXPECT_EQ(config.registries[1].location, "second.io");
  EXPECT_EQ(config.registries[1].file, sources_.dropInDir + "/10.conf");
  EXPECT_EQ(config.registries[2].prefix, "quay.io");
  EXPECT_TRUE(config.registries[2].insecure);
  EXPECT_EQ(config.registries[2].file, sources_.file);
}

TEST_F(RegistriesTest, AliasesMergeAndEmptyValueRemoves) {
  writeMain("[aliases]\n\"a\" = \"one.io/a\"\n\"b\" = \"one.io/b\"\n\"c\" = \"one.io/c\"\n");
  writeDropIn("10.conf",
              "[aliases]\n\"b\" = \"two.io/b\"\n\"c\" = \"\"\n\"d\" = \"docker.io/d\"\n");

  RegistriesConfig config = load();
  ASSERT_EQ(config.aliases.size(), 3u);
  EXPECT_EQ(config.aliases.at("a").value.string(), "one.io/a");
  EXPECT_EQ(config.aliases.at("b").value.string(), "two.io/b");
  EXPECT_EQ(config.aliases.at("b").file, sources_.dropInDir + "/10.conf");
  EXPECT_EQ(config.aliases.at("d").value.string(), "docker.io/library/d");
  EXPECT_EQ(config.aliases.count("c"), 0u);
}

TEST_F(RegistriesTest, RepeatedPrefixKeepsFirst) {
  writeMain(
      "[[registry]]\nprefix = \"a.io\"\nlocation = \"first.io\"\n"
      "[[registry]]\nprefix = \"a.io\"\nlocation = \"second.io\"\n");
  RegistriesConfig config = load();
  ASSERT_EQ(config.registries.size(), 1u);
  EXPECT_EQ(config.registries[0].location, "first.io");
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_EQ(config.warnings[0].key, "registry[1]");
}

TEST_F(RegistriesTest, UnknownKeysWarned) {
  writeMain(
      "color = \"blue\"\n[[registry]]\nlocation = \"a.io\"\nshade = 1\n"
      "[[registry.mirror]]\nlocation = \"m.io\"\nhue = 2\n");
  RegistriesConfig config = load();
  ASSERT_EQ(config.warnings.size(), 3u);
  EXPECT_EQ(config.warnings[0].key, "color");
  EXPECT_EQ(config.warnings[1].key, "registry[0].mirror[0].hue");
  EXPECT_EQ(config.warnings[2].key, "registry[0].shade");
  EXPECT_EQ(config.warnings[0].file, sources_.file);
}

TEST_F(RegistriesTest, CredentialHelpersOtherThanAuthFilesWarned) {
  writeMain("credential-helpers = [\"containers-auth.json\", \"secretservice\"]\n");
  RegistriesConfig config = load();
  ASSERT_EQ(config.warnings.size(), 1u);
  EXPECT_TRUE(contains(config.warnings[0].message, "\"secretservice\" is not supported"));
}

TEST_F(RegistriesTest, SearchRegistriesNormalized) {
  writeMain(
      "unqualified-search-registries = [\"index.docker.io\", \"quay.io/\", "
      "\"localhost:5000\"]\n");
  EXPECT_EQ(load().unqualifiedSearchRegistries, (Lines{"docker.io", "quay.io", "localhost:5000"}));
}

// ---------------------------------------------------------------------------------------------
// Version 1 format

TEST_F(RegistriesTest, VersionOneMappedToVersionTwo) {
  writeMain(
      "[registries.search]\nregistries = ['one.io', 'two.io']\n"
      "[registries.insecure]\nregistries = ['three.io:5000']\n"
      "[registries.block]\nregistries = ['bad.io', 'three.io:5000']\n");
  RegistriesConfig config = load();
  EXPECT_EQ(config.unqualifiedSearchRegistries, (Lines{"one.io", "two.io"}));
  ASSERT_EQ(config.registries.size(), 2u);
  EXPECT_EQ(config.registries[0].prefix, "bad.io");
  EXPECT_TRUE(config.registries[0].blocked);
  EXPECT_FALSE(config.registries[0].insecure);
  EXPECT_EQ(config.registries[1].prefix, "three.io:5000");
  EXPECT_TRUE(config.registries[1].blocked);
  EXPECT_TRUE(config.registries[1].insecure);
}

TEST_F(RegistriesTest, VersionOneInDropInRejected) {
  writeDropIn("10.conf", "[registries.search]\nregistries = ['one.io']\n");
  Error e = loadError();
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), "10.conf: registries: drop-in files must use the version 2"))
      << e.what();
}

TEST_F(RegistriesTest, MixedVersionsRejected) {
  writeMain(
      "unqualified-search-registries = [\"a.io\"]\n"
      "[registries.search]\nregistries = ['one.io']\n");
  EXPECT_TRUE(contains(loadError().what(), "cannot be mixed"));
}

// ---------------------------------------------------------------------------------------------
// Invalid files

struct InvalidCase {
  std::string text;
  std::string expected;  // part of the message after "FILE: "
};

TEST_F(RegistriesTest, InvalidFilesNameFileAndKey) {
  const std::vector<InvalidCase> cases = {
      {"[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"\n",
       "registry[0].insecure: expected a boolean, got a string"},
      {"[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"m.io\"\n"
       "pull-from-mirror = \"sometimes\"\n",
       "registry[0].mirror[0].pull-from-mirror: \"sometimes\" is not one of"},
      {"[[registry]]\nlocation = \"a.io\"\nmirror-by-digest-only = true\n"
       "[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"all\"\n",
       "registry[0].mirror[0].pull-from-mirror: cannot be set when the registry sets "
       "mirror-by-digest-only"},
      {"[[registry]]\nlocation = \"a.io\"\npull-from-mirror = \"all\"\n",
       "registry[0].pull-from-mirror: only a [[registry.mirror]] table"},
      {"[[registry]]\ninsecure = true\n", "registry[0]: needs a location or a prefix"},
      {"[[registry]]\nprefix = \"a.io\"\n", "registry[0].location: needs a location unless"},
      {"[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n",
       "registry[0].mirror[0].location: a mirror needs a location"},
      {"[[registry]]\nlocation = \"https://a.io\"\n",
       "registry[0].location: \"https://a.io\" is invalid: must not include a URI scheme"},
      {"[[registry]]\nprefix = \"*.a.io/ns\"\n", "registry[0].prefix: \"*.a.io/ns\" is invalid"},
      {"[[registry]]\nprefix = \"a.*.io\"\nlocation = \"b.io\"\n",
       "registry[0].prefix: \"a.*.io\" is invalid: '*' is only allowed"},
      {"[[registry]]\nlocation = \"*.a.io\"\n",
       "registry[0].location: \"*.a.io\" is invalid: a wildcard is only allowed in a prefix"},
      {"[[registry]]\nlocation = \"registry/ns\"\n", "must contain '.' or ':' or be localhost"},
      {"[[registry]]\nlocation = \"a.io/UPPER\"\n", "repository path \"UPPER\" is invalid"},
      {"short-name-mode = \"strict\"\n", "short-name-mode: \"strict\" is not one of"},
      {"unqualified-search-registries = [\"quay.io/ns\"]\n",
       "unqualified-search-registries: \"quay.io/ns\" is not a registry"},
      {"unqualified-search-registries = \"quay.io\"\n",
       "unqualified-search-registries: expected an array of strings, got a string"},
      {"[aliases]\n\"busybox\" = \"docker.io/library/busybox:1\"\n",
       "aliases.\"busybox\": \"docker.io/library/busybox:1\" must not have a tag"},
      {"[aliases]\n\"busybox\" = \"library/busybox\"\n",
       "must be a fully qualified name with a registry"},
      {"[aliases]\n\"quay.io/busybox\" = \"quay.io/busybox\"\n",
       "an alias name must be a short name"},
      {"[aliases]\n\"busybox:1\" = \"quay.io/busybox\"\n",
       "an alias name must not have a tag or digest"},
      {"[aliases]\n\"Busybox\" = \"quay.io/busybox\"\n", "must be lowercase"},
      {"[[registry]]\nlocation = \"a.io\"\n[[registry]]\nprefix = \"a.io/x\"\n"
       "location = \"a.io\"\ninsecure = true\n",
       "location \"a.io\" is defined more than once with different \"insecure\" values"},
      {"[[registry]]\nlocation = \"a.io\"\nblocked = true\n[[registry]]\nprefix = \"b.io\"\n"
       "location = \"a.io\"\n",
       "location \"a.io\" is defined more than once with different \"blocked\" values"},
  };
  for (const auto& c : cases) {
    writeMain(c.text);
    Error e = loadError();
    EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT) << c.text;
    EXPECT_TRUE(contains(e.what(), sources_.file + ": ")) << e.what();
    EXPECT_TRUE(contains(e.what(), c.expected))
        << "got: " << e.what() << "\nexpected: " << c.expected;
  }
}

TEST_F(RegistriesTest, TomlSyntaxErrorNamesFileAndLine) {
  writeMain("unqualified-search-registries = [\"a.io\"]\n[[registry]\n");
  Error e = loadError();
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), sources_.file + ":2: ")) << e.what();
}

TEST_F(RegistriesTest, OversizedFileRejected) {
  writeMain("# " + std::string(MAX_REGISTRIES_FILE_SIZE, 'x') + "\n");
  Error e = loadError();
  EXPECT_EQ(e.category(), ErrorCategory::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(contains(e.what(), sources_.file)) << e.what();
}

TEST_F(RegistriesTest, TooManyMirrorsRejected) {
  std::string text = "[[registry]]\nlocation = \"a.io\"\n";
  for (size_t i = 0; i <= MAX_MIRRORS_PER_REGISTRY; ++i) {
    text += "[[registry.mirror]]\nlocation = \"m" + std::to_string(i) + ".io\"\n";
  }
  writeMain(text);
  Error e = loadError();
  EXPECT_EQ(e.category(), ErrorCategory::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(contains(e.what(), "registry[0].mirror: more than 64")) << e.what();
}

TEST_F(RegistriesTest, InvalidInsecureRegistriesEntryRejected) {
  sources_.insecureRegistries = {"http://a.io"};
  Error e = loadError();
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), "[crio.image] insecure_registries: \"http://a.io\"")) << e.what();
}

// ---------------------------------------------------------------------------------------------
// Prefix matching

TEST(MatchPrefixTest, Boundaries) {
  EXPECT_EQ(matchPrefix("gcr.io/a/b:1", "gcr.io"), 6u);
  EXPECT_EQ(matchPrefix("gcr.io/a/b:1", "gcr.io/a"), 8u);
  EXPECT_EQ(matchPrefix("gcr.io/a/b:1", "gcr.io/a/b"), 10u);
  EXPECT_EQ(matchPrefix("gcr.io/a/b:1", "gcr.io/a/b:1"), 12u);
  EXPECT_EQ(matchPrefix("gcr.io/a/b@" + DIGEST, "gcr.io/a/b"), 10u);
  EXPECT_EQ(matchPrefix("gcr.io/ab/c:1", "gcr.io/a"), std::string::npos);
  EXPECT_EQ(matchPrefix("gcr.io/a/b:10", "gcr.io/a/b:1"), std::string::npos);
  EXPECT_EQ(matchPrefix("gcr.iox/a:1", "gcr.io"), std::string::npos);
  EXPECT_EQ(matchPrefix("example.com:5000/app:1", "example.com"), std::string::npos);
  EXPECT_EQ(matchPrefix("example.com:5000/app:1", "example.com:5000"), 16u);
}

TEST(MatchPrefixTest, Wildcard) {
  EXPECT_EQ(matchPrefix("a.example.com/x:1", "*.example.com"), 13u);
  EXPECT_EQ(matchPrefix("b.a.example.com/x:1", "*.example.com"), 15u);
  EXPECT_EQ(matchPrefix("example.com/x:1", "*.example.com"), std::string::npos);
  EXPECT_EQ(matchPrefix("aexample.com/x:1", "*.example.com"), std::string::npos);
  EXPECT_EQ(matchPrefix("a.example.com:5000/x:1", "*.example.com"), std::string::npos);
  EXPECT_EQ(matchPrefix("other.io/a.example.com/x:1", "*.example.com"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Pull sources

TEST_F(RegistriesTest, NoMatchingTablePullsNameAsWritten) {
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "quay.io/a/b:1"), (Lines{"quay.io/a/b:1"}));
}

TEST_F(RegistriesTest, PrefixRemappedToLocationKeepsName) {
  writeMain("[[registry]]\nprefix = \"gcr.io\"\nlocation = \"localhost:5000\"\n");
  RegistriesConfig config = load();
  Reference name = parseDockerReference("gcr.io/a/b:1");
  std::vector<PullSource> sources = pullSources(config, name);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].reference.string(), "localhost:5000/a/b:1");
  EXPECT_EQ(sources[0].reference.domain, "localhost:5000");
  EXPECT_EQ(sources[0].reference.path, "a/b");
  EXPECT_FALSE(sources[0].insecure);
  EXPECT_FALSE(sources[0].mirror);
  EXPECT_EQ(name.string(), "gcr.io/a/b:1");
}

TEST_F(RegistriesTest, LongestPrefixWins) {
  writeMain(
      "[[registry]]\nprefix = \"gcr.io\"\nlocation = \"one.io\"\n"
      "[[registry]]\nprefix = \"gcr.io/team\"\nlocation = \"two.io/mirrored\"\n"
      "[[registry]]\nprefix = \"gcr.io/team/app:1\"\nlocation = \"three.io/pinned:7\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "gcr.io/other/app:1"), (Lines{"one.io/other/app:1"}));
  EXPECT_EQ(sourcesOf(config, "gcr.io/team/app:2"), (Lines{"two.io/mirrored/app:2"}));
  EXPECT_EQ(sourcesOf(config, "gcr.io/team/app:1"), (Lines{"three.io/pinned:7"}));
  EXPECT_EQ(sourcesOf(config, "gcr.io/teams/app:1"), (Lines{"one.io/teams/app:1"}));
}

TEST_F(RegistriesTest, DockerHubPrefixNeedsLibrary) {
  writeMain("[[registry]]\nprefix = \"docker.io/library\"\nlocation = \"mirror.local/hub\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "busybox"), (Lines{"mirror.local/hub/busybox:latest"}));
  EXPECT_EQ(sourcesOf(config, "docker.io/user/app"), (Lines{"docker.io/user/app:latest"}));
}

TEST_F(RegistriesTest, LocationOnDockerHubNormalized) {
  writeMain("[[registry]]\nprefix = \"mirror.local\"\nlocation = \"docker.io\"\n");
  EXPECT_EQ(sourcesOf(load(), "mirror.local/busybox"), (Lines{"docker.io/library/busybox:latest"}));
}

TEST_F(RegistriesTest, InvalidRewriteNamesTheTable) {
  writeMain("[[registry]]\nprefix = \"gcr.io/a/b\"\nlocation = \"localhost:5000\"\n");
  Error e = sourcesError(load(), "gcr.io/a/b:1");
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), "prefix \"gcr.io/a/b\": location \"localhost:5000\" turns"))
      << e.what();
}

TEST_F(RegistriesTest, TagAndDigestPulledByDigest) {
  writeMain("[[registry]]\nprefix = \"gcr.io\"\nlocation = \"localhost:5000\"\n");
  EXPECT_EQ(sourcesOf(load(), "gcr.io/a/b:1@" + DIGEST), (Lines{"localhost:5000/a/b@" + DIGEST}));
}

TEST_F(RegistriesTest, WildcardPrefixWithoutLocationKeepsName) {
  writeMain(
      "[[registry]]\nprefix = \"*.example.com\"\ninsecure = true\n"
      "[[registry.mirror]]\nlocation = \"mirror.io/ex\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "a.example.com/x/y:1"),
            (Lines{"mirror.io/ex/x/y:1 mirror", "a.example.com/x/y:1 insecure"}));
  EXPECT_EQ(sourcesOf(config, "example.com/x/y:1"), (Lines{"example.com/x/y:1"}));
}

TEST_F(RegistriesTest, ManPageMirrorExample) {
  writeMain(
      "[[registry]]\nprefix = \"example.com/foo\"\nlocation = \"internal.example.net/bar\"\n"
      "[[registry.mirror]]\nlocation = \"example-mirror-0.local/mirror-for-foo\"\n"
      "[[registry.mirror]]\nlocation = \"example-mirror-1.local/mirrors/foo\"\ninsecure = true\n"
      "[[registry]]\nlocation = \"registry.com\"\n"
      "[[registry.mirror]]\nlocation = \"mirror.registry.com\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "example.com/foo/image:latest"),
            (Lines{"example-mirror-0.local/mirror-for-foo/image:latest mirror",
                   "example-mirror-1.local/mirrors/foo/image:latest insecure mirror",
                   "internal.example.net/bar/image:latest"}));
  EXPECT_EQ(sourcesOf(config, "registry.com/image:latest"),
            (Lines{"mirror.registry.com/image:latest mirror", "registry.com/image:latest"}));
}

TEST_F(RegistriesTest, PullFromMirrorVariants) {
  writeMain(
      "[[registry]]\nlocation = \"r.io\"\n"
      "[[registry.mirror]]\nlocation = \"all.io\"\npull-from-mirror = \"all\"\n"
      "[[registry.mirror]]\nlocation = \"digest.io\"\npull-from-mirror = \"digest-only\"\n"
      "[[registry.mirror]]\nlocation = \"tag.io\"\npull-from-mirror = \"tag-only\"\n"
      "[[registry.mirror]]\nlocation = \"default.io\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "r.io/app:1"), (Lines{"all.io/app:1 mirror", "tag.io/app:1 mirror",
                                                    "default.io/app:1 mirror", "r.io/app:1"}));
  EXPECT_EQ(sourcesOf(config, "r.io/app@" + DIGEST),
            (Lines{"all.io/app@" + DIGEST + " mirror", "digest.io/app@" + DIGEST + " mirror",
                   "default.io/app@" + DIGEST + " mirror", "r.io/app@" + DIGEST}));
}

TEST_F(RegistriesTest, MirrorByDigestOnly) {
  writeMain(
      "[[registry]]\nlocation = \"r.io\"\nmirror-by-digest-only = true\n"
      "[[registry.mirror]]\nlocation = \"m.io\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "r.io/app:1"), (Lines{"r.io/app:1"}));
  EXPECT_EQ(sourcesOf(config, "r.io/app@" + DIGEST),
            (Lines{"m.io/app@" + DIGEST + " mirror", "r.io/app@" + DIGEST}));
  EXPECT_EQ(sourcesOf(config, "r.io/app:1@" + DIGEST),
            (Lines{"m.io/app@" + DIGEST + " mirror", "r.io/app@" + DIGEST}));
}

TEST_F(RegistriesTest, BlockedWithoutMirrorRejected) {
  writeMain("[[registry]]\nlocation = \"bad.io\"\nblocked = true\n");
  Error e = sourcesError(load(), "bad.io/app:1");
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(),
                       "pulling \"bad.io/app:1\" is blocked: the registry with prefix "
                       "\"bad.io\" in " +
                           sources_.file +
                           " is blocked; it has no "
                           "mirrors"))
      << e.what();
}

TEST_F(RegistriesTest, BlockedWithMirrorUsesOnlyMirror) {
  writeMain(
      "[[registry]]\nlocation = \"bad.io\"\nblocked = true\n"
      "[[registry.mirror]]\nlocation = \"good.io/copy\"\npull-from-mirror = \"digest-only\"\n");
  RegistriesConfig config = load();
  EXPECT_EQ(sourcesOf(config, "bad.io/app@" + DIGEST),
            (Lines{"good.io/copy/app@" + DIGEST + " mirror"}));
  Error e = sourcesError(config, "bad.io/app:1");
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(), "none of its mirrors serves references by tag")) << e.what();
}

TEST_F(RegistriesTest, MirrorOnBlockedRegistrySkipped) {
  writeMain(
      "[[registry]]\nlocation = \"r.io\"\n"
      "[[registry.mirror]]\nlocation = \"evil.io\"\n"
      "[[registry.mirror]]\nlocation = \"good.io\"\n"
      "[[registry]]\nlocation = \"evil.io\"\nblocked = true\n");
  EXPECT_EQ(sourcesOf(load(), "r.io/app:1"), (Lines{"good.io/app:1 mirror", "r.io/app:1"}));
}

TEST_F(RegistriesTest, EveryMirrorBlockedListsThem) {
  writeMain(
      "[[registry]]\nlocation = \"r.io\"\nblocked = true\n"
      "[[registry.mirror]]\nlocation = \"evil.io\"\n"
      "[[registry]]\nlocation = \"evil.io\"\nblocked = true\n");
  Error e = sourcesError(load(), "r.io/app:1");
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(), "mirror evil.io/app is blocked by the prefix \"evil.io\""))
      << e.what();
}

TEST_F(RegistriesTest, InsecureFlagsPerSource) {
  writeMain(
      "[[registry]]\nlocation = \"r.io\"\ninsecure = true\n"
      "[[registry.mirror]]\nlocation = \"secure.io\"\n"
      "[[registry.mirror]]\nlocation = \"plain.io\"\ninsecure = true\n");
  EXPECT_EQ(
      sourcesOf(load(), "r.io/app:1"),
      (Lines{"secure.io/app:1 mirror", "plain.io/app:1 insecure mirror", "r.io/app:1 insecure"}));
}

TEST_F(RegistriesTest, CrioConfInsecureRegistriesMarkSources) {
  writeMain(
      "[[registry]]\nlocation = \"r.io\"\n"
      "[[registry.mirror]]\nlocation = \"lab.local:5000/cache\"\n");
  sources_.insecureRegistries = {"lab.local:5000", "old.io/"};
  RegistriesConfig config = load();
  EXPECT_EQ(config.insecureRegistries, (Lines{"lab.local:5000", "old.io"}));
  EXPECT_EQ(sourcesOf(config, "r.io/app:1"),
            (Lines{"lab.local:5000/cache/app:1 insecure mirror", "r.io/app:1"}));
  EXPECT_EQ(sourcesOf(config, "old.io/app:1"), (Lines{"old.io/app:1 insecure"}));
  EXPECT_EQ(sourcesOf(config, "lab.local/app:1"), (Lines{"lab.local/app:1"}));
}

TEST_F(RegistriesTest, ShortNameHasNoPullSources) {
  Error e(ErrorCategory::INTERNAL, "");
  try {
    pullSources(load(), parseReference("busybox"));
  } catch (const Error& caught) {
    e = caught;
  }
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), "short name \"busybox\"")) << e.what();
}

}  // namespace
}  // namespace crio::imaged
