#include "crio-imaged/short-names.h"

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

using Lines = std::vector<std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class ShortNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-short-names-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    fs::create_directories(dir_ + "/registries.conf.d");
    sources_.file = dir_ + "/registries.conf";
    sources_.dropInDir = dir_ + "/registries.conf.d";
  }
  void TearDown() override { fs::remove_all(dir_); }

  RegistriesConfig load(const std::string& text) {
    std::ofstream(sources_.file) << text;
    return loadRegistries(sources_);
  }

  // The names of the candidates resolvePull() returns.
  static Lines pullNames(const RegistriesConfig& config, const std::string& text) {
    Lines names;
    for (const auto& candidate : resolvePull(config, text).candidates) {
      names.push_back(candidate.name.string());
    }
    return names;
  }

  static Lines localNames(const RegistriesConfig& config, const std::string& text) {
    Lines names;
    for (const auto& name : candidates(config, text)) {
      names.push_back(name.string());
    }
    return names;
  }

  static Error pullError(const RegistriesConfig& config, const std::string& text) {
    try {
      resolvePull(config, text);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "resolvePull succeeded for " << text;
    return Error(ErrorCategory::INTERNAL, "");
  }

  std::string dir_;
  RegistriesSources sources_;
};

TEST_F(ShortNamesTest, QualifiedNameIsItsOwnCandidate) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n"
      "short-name-mode = \"enforcing\"\n");
  PullPlan plan = resolvePull(config, "gcr.io/a/b");
  ASSERT_EQ(plan.candidates.size(), 1u);
  EXPECT_EQ(plan.candidates[0].name.string(), "gcr.io/a/b:latest");
  EXPECT_EQ(plan.description, "qualified name");
  ASSERT_EQ(plan.candidates[0].sources.size(), 1u);
  EXPECT_EQ(plan.candidates[0].sources[0].reference.string(), "gcr.io/a/b:latest");
}

TEST_F(ShortNamesTest, QualifiedNameGoesThroughRemap) {
  RegistriesConfig config =
      load("[[registry]]\nprefix = \"gcr.io\"\nlocation = \"localhost:5000\"\n");
  PullPlan plan = resolvePull(config, "gcr.io/a/b:1");
  ASSERT_EQ(plan.candidates.size(), 1u);
  EXPECT_EQ(plan.candidates[0].name.string(), "gcr.io/a/b:1");
  EXPECT_EQ(plan.candidates[0].sources[0].reference.string(), "localhost:5000/a/b:1");
}

TEST_F(ShortNamesTest, AliasWinsOverSearchRegistries) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n"
      "short-name-mode = \"enforcing\"\n"
      "[aliases]\n\"busybox\" = \"docker.io/library/busybox\"\n");
  PullPlan plan = resolvePull(config, "busybox");
  ASSERT_EQ(plan.candidates.size(), 1u);
  EXPECT_EQ(plan.candidates[0].name.string(), "docker.io/library/busybox:latest");
  EXPECT_EQ(plan.description, "alias in " + sources_.file);
}

TEST_F(ShortNamesTest, AliasGetsTagAndDigestOfRequest) {
  RegistriesConfig config = load("[aliases]\n\"tools/app\" = \"quay.io/team/app\"\n");
  EXPECT_EQ(pullNames(config, "tools/app:2"), (Lines{"quay.io/team/app:2"}));
  EXPECT_EQ(pullNames(config, "tools/app@" + DIGEST), (Lines{"quay.io/team/app@" + DIGEST}));
  EXPECT_EQ(pullNames(config, "tools/app:2@" + DIGEST), (Lines{"quay.io/team/app:2@" + DIGEST}));
}

TEST_F(ShortNamesTest, AliasKeyIsTheNameAsWritten) {
  // "library/busybox" is a different short name from "busybox".
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"quay.io\"]\n"
      "[aliases]\n\"busybox\" = \"docker.io/library/busybox\"\n");
  EXPECT_EQ(pullNames(config, "library/busybox"), (Lines{"quay.io/library/busybox:latest"}));
}

TEST_F(ShortNamesTest, RemovedAliasFallsBackToSearch) {
  std::ofstream(sources_.dropInDir + "/10.conf") << "[aliases]\n\"busybox\" = \"\"\n";
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"docker.io\"]\n"
      "[aliases]\n\"busybox\" = \"quay.io/busybox\"\n");
  EXPECT_EQ(pullNames(config, "busybox"), (Lines{"docker.io/library/busybox:latest"}));
}

TEST_F(ShortNamesTest, PermissiveTriesEverySearchRegistryInOrder) {
  RegistriesConfig config =
      load("unqualified-search-registries = [\"quay.io\", \"docker.io\", \"localhost:5000\"]\n");
  PullPlan plan = resolvePull(config, "busybox:1");
  EXPECT_EQ(
      pullNames(config, "busybox:1"),
      (Lines{"quay.io/busybox:1", "docker.io/library/busybox:1", "localhost:5000/busybox:1"}));
  EXPECT_EQ(plan.description, "unqualified-search-registries in " + sources_.file);
}

TEST_F(ShortNamesTest, DisabledTriesEverySearchRegistry) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n"
      "short-name-mode = \"disabled\"\n");
  EXPECT_EQ(pullNames(config, "busybox"),
            (Lines{"quay.io/busybox:latest", "docker.io/library/busybox:latest"}));
}

TEST_F(ShortNamesTest, EnforcingWithOneSearchRegistryResolves) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"docker.io\"]\n"
      "short-name-mode = \"enforcing\"\n");
  EXPECT_EQ(pullNames(config, "busybox"), (Lines{"docker.io/library/busybox:latest"}));
}

TEST_F(ShortNamesTest, EnforcingAmbiguousListsCandidates) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n"
      "short-name-mode = \"enforcing\"\n");
  Error e = pullError(config, "busybox:1.36");
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  std::string message = e.what();
  EXPECT_TRUE(contains(message, "short name \"busybox:1.36\" is ambiguous")) << message;
  EXPECT_TRUE(contains(message, "short-name-mode is \"enforcing\" (" + sources_.file + ")"))
      << message;
  EXPECT_TRUE(contains(message, "quay.io/busybox:1.36, docker.io/library/busybox:1.36")) << message;
  EXPECT_TRUE(contains(message, "[aliases]")) << message;
}

TEST_F(ShortNamesTest, DuplicateSearchRegistriesCountOnce) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"docker.io\", \"index.docker.io\"]\n"
      "short-name-mode = \"enforcing\"\n");
  EXPECT_EQ(pullNames(config, "busybox"), (Lines{"docker.io/library/busybox:latest"}));
}

TEST_F(ShortNamesTest, NoSearchRegistriesIsAnError) {
  RegistriesConfig config = load("short-name-mode = \"permissive\"\n");
  Error e = pullError(config, "busybox");
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(),
                       "no unqualified-search-registries are defined (read " + sources_.file + ")"))
      << e.what();
  EXPECT_TRUE(contains(e.what(), "docker.io/library/busybox:latest")) << e.what();
}

TEST_F(ShortNamesTest, BlockedCandidateSkipped) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"bad.io\", \"quay.io\"]\n"
      "[[registry]]\nlocation = \"bad.io\"\nblocked = true\n");
  EXPECT_EQ(pullNames(config, "busybox"), (Lines{"quay.io/busybox:latest"}));
}

TEST_F(ShortNamesTest, EveryCandidateBlockedIsAnError) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"bad.io\"]\n"
      "[[registry]]\nlocation = \"bad.io\"\nblocked = true\n");
  Error e = pullError(config, "busybox");
  EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  EXPECT_TRUE(contains(e.what(), "every candidate for short name \"busybox\" is blocked"))
      << e.what();
  EXPECT_TRUE(contains(e.what(), "prefix \"bad.io\"")) << e.what();
}

TEST_F(ShortNamesTest, BlockedAliasIsAnError) {
  RegistriesConfig config = load(
      "[aliases]\n\"app\" = \"bad.io/app\"\n"
      "[[registry]]\nlocation = \"bad.io\"\nblocked = true\n");
  EXPECT_EQ(pullError(config, "app").category(), ErrorCategory::PERMISSION_DENIED);
}

TEST_F(ShortNamesTest, InvalidReferenceRejected) {
  RegistriesConfig config = load("unqualified-search-registries = [\"docker.io\"]\n");
  Error e = pullError(config, "BusyBox");
  EXPECT_EQ(e.category(), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_TRUE(contains(e.what(), "\"BusyBox\"")) << e.what();
}

TEST_F(ShortNamesTest, LocalCandidatesForShortName) {
  RegistriesConfig config = load(
      "unqualified-search-registries = [\"quay.io\", \"docker.io\"]\n"
      "short-name-mode = \"enforcing\"\n"
      "[aliases]\n\"busybox\" = \"registry.local/busybox\"\n");
  EXPECT_EQ(localNames(config, "busybox"),
            (Lines{"registry.local/busybox:latest", "localhost/busybox:latest",
                   "quay.io/busybox:latest", "docker.io/library/busybox:latest"}));
  EXPECT_EQ(localNames(config, "app:2"),
            (Lines{"localhost/app:2", "quay.io/app:2", "docker.io/library/app:2"}));
  EXPECT_EQ(localNames(config, "app@" + DIGEST),
            (Lines{"localhost/app@" + DIGEST, "quay.io/app@" + DIGEST,
                   "docker.io/library/app@" + DIGEST}));
}

TEST_F(ShortNamesTest, LocalCandidatesForQualifiedName) {
  RegistriesConfig config = load("unqualified-search-registries = [\"quay.io\"]\n");
  EXPECT_EQ(localNames(config, "docker.io/busybox"), (Lines{"docker.io/library/busybox:latest"}));
  EXPECT_EQ(localNames(config, "localhost/app:1"), (Lines{"localhost/app:1"}));
}

TEST_F(ShortNamesTest, LocalCandidatesWithoutSearchRegistries) {
  RegistriesConfig config = load("");
  EXPECT_EQ(localNames(config, "app"), (Lines{"localhost/app:latest"}));
}

}  // namespace
}  // namespace crio::imaged
