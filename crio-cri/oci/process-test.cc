#include "crio-cri/oci/process.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using Strings = std::vector<std::string>;

struct ArgsCase {
  const char* name;
  Strings command;
  Strings args;
  Strings entrypoint;
  Strings cmd;
  Strings expected;
};

TEST(OciProcessArgs, ResolutionTable) {
  const ArgsCase cases[] = {
      {"command and args", {"/bin/app"}, {"-v"}, {"/entry"}, {"cmd"}, {"/bin/app", "-v"}},
      {"command only", {"/bin/app"}, {}, {"/entry"}, {"cmd"}, {"/bin/app"}},
      {"args only", {}, {"-v", "x"}, {"/entry", "e"}, {"cmd"}, {"/entry", "e", "-v", "x"}},
      {"args without entrypoint", {}, {"/bin/sh"}, {}, {"cmd"}, {"/bin/sh"}},
      {"neither", {}, {}, {"/entry"}, {"cmd", "c"}, {"/entry", "cmd", "c"}},
      {"neither, cmd only", {}, {}, {}, {"/bin/sh"}, {"/bin/sh"}},
      {"neither, entrypoint only", {}, {}, {"/entry"}, {}, {"/entry"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ImageConfig image;
    image.entrypoint = c.entrypoint;
    image.cmd = c.cmd;
    EXPECT_EQ(resolveArgs(c.command, c.args, image), c.expected);
  }
}

TEST(OciProcessArgs, EmptyResultIsNoCommand) {
  EXPECT_CRIO_ERROR(resolveArgs({}, {}, ImageConfig{}), ErrorCategory::INVALID_ARGUMENT,
                    "no command specified");
}

TEST(OciProcessArgs, NulInArgumentIsRejected) {
  EXPECT_CRIO_ERROR(resolveArgs({"/bin/sh", std::string("a\0b", 3)}, {}, ImageConfig{}),
                    ErrorCategory::INVALID_ARGUMENT, "argument 1");
}

TEST(OciProcessEnv, RequestWinsByKeyAndKeepsImageOrder) {
  ImageConfig image;
  image.env = {"A=1", "PATH=/image/bin", "B=2", "NOEQUALS", "=novalue"};
  EnvRequest request;
  request.envs = {{"B", "request"}, {"C", "3"}};
  EXPECT_EQ(buildEnv(image, request), (Strings{"A=1", "PATH=/image/bin", "B=request", "C=3"}));
}

TEST(OciProcessEnv, DefaultsForPathHostnameAndTerm) {
  EnvRequest request;
  request.hostname = "pod-a";
  request.tty = true;
  EXPECT_EQ(buildEnv(ImageConfig{}, request),
            (Strings{"HOSTNAME=pod-a", std::string("PATH=") + DEFAULT_PATH, "TERM=xterm"}));
}

TEST(OciProcessEnv, HostnameOverridesImageButNotRequest) {
  ImageConfig image;
  image.env = {"HOSTNAME=image"};
  EnvRequest request;
  request.hostname = "pod";
  EXPECT_EQ(buildEnv(image, request).front(), "HOSTNAME=pod");
  request.envs = {{"HOSTNAME", "mine"}};
  EXPECT_EQ(buildEnv(image, request).front(), "HOSTNAME=mine");
}

TEST(OciProcessEnv, ValueMayContainEquals) {
  EnvRequest request;
  request.envs = {{"OPTS", "a=b=c"}};
  EXPECT_EQ(buildEnv(ImageConfig{}, request).front(), "OPTS=a=b=c");
}

TEST(OciProcessEnv, InvalidKeysNameTheEntry) {
  EnvRequest request;
  request.envs = {{"OK", "1"}, {"", "x"}};
  EXPECT_CRIO_ERROR(buildEnv(ImageConfig{}, request), ErrorCategory::INVALID_ARGUMENT,
                    "envs[1].key is empty");
  request.envs = {{"A=B", "x"}};
  EXPECT_CRIO_ERROR(buildEnv(ImageConfig{}, request), ErrorCategory::INVALID_ARGUMENT,
                    "envs[0].key \"A=B\" contains \"=\"");
  request.envs = {{"A", std::string("x\0y", 3)}};
  EXPECT_CRIO_ERROR(buildEnv(ImageConfig{}, request), ErrorCategory::INVALID_ARGUMENT,
                    "envs[0].value of A");
}

TEST(OciProcessCwd, RequestThenImageThenRoot) {
  ImageConfig image;
  EXPECT_EQ(resolveWorkingDir("", image), "/");
  image.workingDir = "app";
  EXPECT_EQ(resolveWorkingDir("", image), "/app");
  EXPECT_EQ(resolveWorkingDir("/srv//data/", image), "/srv/data");
  EXPECT_CRIO_ERROR(resolveWorkingDir("srv", image), ErrorCategory::INVALID_ARGUMENT,
                    "working_dir \"srv\" is not an absolute path");
}

TEST(OciProcessSize, ArgsAndEnvBound) {
  Strings big(3, std::string(1 << 20, 'x'));
  EXPECT_CRIO_ERROR(checkArgsAndEnvSize(big, {}), ErrorCategory::INVALID_ARGUMENT,
                    "more than the bound");
  checkArgsAndEnvSize({"/bin/sh"}, {"A=1"});
}

TEST(OciRlimits, ParsesFormsAndUnlimited) {
  nlohmann::json rlimits = buildRlimits({"nofile=1024:2048", "NPROC=4096", "core=-1"});
  ASSERT_EQ(rlimits.size(), 3u);
  EXPECT_EQ(rlimits[0],
            (nlohmann::json{{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", 2048}}));
  EXPECT_EQ(rlimits[1]["type"], "RLIMIT_NPROC");
  EXPECT_EQ(rlimits[1]["soft"], 4096);
  EXPECT_EQ(rlimits[1]["hard"], 4096);
  EXPECT_EQ(rlimits[2]["soft"].get<uint64_t>(), UINT64_MAX);
}

TEST(OciRlimits, LaterEntryReplacesEarlier) {
  nlohmann::json rlimits = buildRlimits({"nofile=1:2", "nofile=3:4"});
  ASSERT_EQ(rlimits.size(), 1u);
  EXPECT_EQ(rlimits[0]["soft"], 3);
}

TEST(OciRlimits, InvalidEntriesAreNamed) {
  EXPECT_CRIO_ERROR(buildRlimits({"nofile"}), ErrorCategory::INVALID_ARGUMENT,
                    "default_ulimits entry \"nofile\"");
  EXPECT_CRIO_ERROR(buildRlimits({"files=1"}), ErrorCategory::INVALID_ARGUMENT,
                    "unknown resource name \"files\"");
  EXPECT_CRIO_ERROR(buildRlimits({"nofile=2048:1024"}), ErrorCategory::INVALID_ARGUMENT,
                    "soft limit is above the hard limit");
  EXPECT_CRIO_ERROR(buildRlimits({"nofile=x"}), ErrorCategory::INVALID_ARGUMENT,
                    "soft limit is not a number");
}

TEST(OciImageConfig, ReadsNestedOrBareConfig) {
  auto document = nlohmann::json::parse(R"({
    "architecture": "amd64",
    "config": {"Entrypoint": ["/e"], "Cmd": null, "Env": ["A=1"], "WorkingDir": "/w",
               "User": "app", "StopSignal": "SIGQUIT", "Volumes": {"/b": {}, "/a": {}}}
  })");
  ImageConfig image = parseImageConfig(document);
  EXPECT_EQ(image.entrypoint, Strings{"/e"});
  EXPECT_TRUE(image.cmd.empty());
  EXPECT_EQ(image.env, Strings{"A=1"});
  EXPECT_EQ(image.workingDir, "/w");
  EXPECT_EQ(image.user, "app");
  EXPECT_EQ(image.stopSignal, "SIGQUIT");
  EXPECT_EQ(image.volumes, (Strings{"/a", "/b"}));

  EXPECT_EQ(parseImageConfig(document["config"]).user, "app");
  EXPECT_TRUE(parseImageConfig(nlohmann::json::parse(R"({"config": null})")).cmd.empty());
}

TEST(OciImageConfig, WrongTypeIsNamed) {
  EXPECT_CRIO_ERROR(parseImageConfig(nlohmann::json::parse(R"({"config": {"Cmd": "sh"}})")),
                    ErrorCategory::INVALID_ARGUMENT, "image config field Cmd");
  EXPECT_CRIO_ERROR(parseImageConfig(nlohmann::json::parse(R"({"config": {"User": 1}})")),
                    ErrorCategory::INVALID_ARGUMENT, "image config field User");
  EXPECT_CRIO_ERROR(parseImageConfig(nlohmann::json::parse("[1]")), ErrorCategory::INVALID_ARGUMENT,
                    "not a JSON object");
}

}  // namespace
}  // namespace crio::cri::oci
