#include "crio-conmon/exec-session.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace crio::conmon {
namespace {

nlohmann::json config() {
  return nlohmann::json::parse(R"({
    "ociVersion": "1.0.2",
    "process": {
      "terminal": false,
      "user": {"uid": 1000, "gid": 1000},
      "args": ["sleep", "100"],
      "env": ["PATH=/bin", "HOME=/root"],
      "cwd": "/work",
      "capabilities": {"bounding": ["CAP_KILL"]},
      "noNewPrivileges": true
    },
    "root": {"path": "rootfs"}
  })");
}

TEST(ExecProcessTest, KeepsTheContainersProcessSettings) {
  ExecRequest request;
  request.argv = {"sh", "-c", "echo hi"};
  request.env = {"FOO=bar", "EMPTY="};
  request.tty = true;
  auto process = execProcess(config(), request);
  EXPECT_EQ(process["args"], nlohmann::json({"sh", "-c", "echo hi"}));
  EXPECT_EQ(process["env"], nlohmann::json({"PATH=/bin", "HOME=/root", "FOO=bar", "EMPTY="}));
  EXPECT_EQ(process["terminal"], true);
  EXPECT_EQ(process["cwd"], "/work");
  EXPECT_EQ(process["user"]["uid"], 1000);
  EXPECT_EQ(process["capabilities"]["bounding"], nlohmann::json({"CAP_KILL"}));
  EXPECT_EQ(process["noNewPrivileges"], true);
}

TEST(ExecProcessTest, RejectsBadRequests) {
  ExecRequest empty;
  EXPECT_THROW(execProcess(config(), empty), Error);

  ExecRequest badEnv;
  badEnv.argv = {"true"};
  badEnv.env = {"NOEQUALS"};
  EXPECT_THROW(execProcess(config(), badEnv), Error);
  badEnv.env = {"=value"};
  EXPECT_THROW(execProcess(config(), badEnv), Error);

  ExecRequest fine;
  fine.argv = {"true"};
  EXPECT_THROW(execProcess(nlohmann::json::object(), fine), Error);
}

TEST(ExecProcessTest, ProcessWithoutEnvGetsOne) {
  auto c = config();
  c["process"].erase("env");
  ExecRequest request;
  request.argv = {"true"};
  request.env = {"A=1"};
  EXPECT_EQ(execProcess(c, request)["env"], nlohmann::json({"A=1"}));
}

}  // namespace
}  // namespace crio::conmon
