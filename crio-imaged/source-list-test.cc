#include "crio-imaged/source-list.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::imaged {
namespace {

const std::string DIGEST = "sha256:" + std::string(64, 'a');

SourceList sources(std::vector<std::string> insecure = {}) {
  Config config;
  config.insecureRegistries = std::move(insecure);
  return SourceList(config);
}

TEST(SourceList, TakesQualifiedReferenceLiterally) {
  auto list = sources().pullSources("127.0.0.1:5000/test/busybox:1.35");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].registry, "127.0.0.1:5000");
  EXPECT_EQ(list[0].repository, "test/busybox");
  EXPECT_EQ(list[0].tag, "1.35");
  EXPECT_EQ(list[0].manifestReference(), "1.35");
  EXPECT_FALSE(list[0].insecure);
  EXPECT_EQ(list[0].name(), "127.0.0.1:5000/test/busybox:1.35");
}

TEST(SourceList, DefaultsToLatest) {
  auto list = sources().pullSources("registry.example/busybox");
  EXPECT_EQ(list[0].tag, "latest");
  EXPECT_EQ(list[0].name(), "registry.example/busybox:latest");
}

TEST(SourceList, DigestWinsOverTag) {
  auto list = sources().pullSources("localhost/app:v1@" + DIGEST);
  EXPECT_EQ(list[0].registry, "localhost");
  EXPECT_EQ(list[0].manifestReference(), DIGEST);
  EXPECT_EQ(list[0].name(), "localhost/app:v1@" + DIGEST);
}

TEST(SourceList, MarksListedRegistriesInsecure) {
  auto list = sources({"127.0.0.1:5000"}).pullSources("127.0.0.1:5000/a");
  EXPECT_TRUE(list[0].insecure);
  list = sources({"reg.example"}).pullSources("reg.example:443/a");
  EXPECT_TRUE(list[0].insecure);
  list = sources({"reg.example:5000"}).pullSources("reg.example/a");
  EXPECT_FALSE(list[0].insecure);
}

TEST(SourceList, RejectsShortAndMalformedNames) {
  const SourceList list = sources();
  for (const char* bad :
       {"busybox", "library/busybox", "", "reg.example/UPPER", "reg.example/a?b=c",
        "reg.example/a//b", "reg.example/../x", "reg.example/a:", "reg.example/a:-x",
        "reg.example/a@sha256:zz", "reg.ex ample/a", "reg.example/a%2f"}) {
    EXPECT_THROW(list.pullSources(bad), Error) << bad;
  }
}

TEST(SourceList, CandidatesWithoutNetwork) {
  auto names = sources().candidates("quay.example/org/app");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], "quay.example/org/app:latest");
}

TEST(SourceList, NoStoredCredentials) {
  auto list = sources().pullSources("reg.example/a");
  EXPECT_FALSE(sources().storedCredentials(list[0]).has_value());
}

}  // namespace
}  // namespace crio::imaged
