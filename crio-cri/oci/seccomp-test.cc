#include "crio-cri/oci/seccomp.h"

#include <gtest/gtest.h>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using testing::TempDir;

SeccompContext context() {
  SeccompContext c;
  c.capabilities = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  c.machine = "x86_64";
  c.kernelMajor = 6;
  c.kernelMinor = 1;
  return c;
}

constexpr const char* OCI_PROFILE = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "architectures": ["SCMP_ARCH_X86_64"],
  "syscalls": [
    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
     "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]}
  ]
})";

constexpr const char* DOCKER_PROFILE = R"({
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
  ],
  "syscalls": [
    {"names": ["read"], "action": "SCMP_ACT_ALLOW", "comment": "always"},
    {"name": "write", "action": "SCMP_ACT_ALLOW"},
    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["chown"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_CHOWN"]}},
    {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
    {"names": ["set_tls"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
    {"names": ["future"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "9.0"}},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
     "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
     "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    {"names": ["bind"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_NET_BIND_SERVICE"]}}
  ]
})";

std::vector<std::string> ruleNames(const nlohmann::json& profile) {
  std::vector<std::string> names;
  for (const auto& rule : profile["syscalls"]) {
    for (const auto& name : rule["names"])
      names.push_back(name.get<std::string>());
  }
  return names;
}

TEST(OciSeccompPath, DeprecatedForms) {
  EXPECT_EQ(parseSeccompProfilePath("").kind, SeccompKind::UNSET);
  EXPECT_EQ(parseSeccompProfilePath("runtime/default").kind, SeccompKind::RUNTIME_DEFAULT);
  EXPECT_EQ(parseSeccompProfilePath("docker/default").kind, SeccompKind::RUNTIME_DEFAULT);
  EXPECT_EQ(parseSeccompProfilePath("unconfined").kind, SeccompKind::UNCONFINED);
  SeccompSelection local = parseSeccompProfilePath("localhost//var/lib/p.json");
  EXPECT_EQ(local.kind, SeccompKind::LOCALHOST);
  EXPECT_EQ(local.localhostPath, "/var/lib/p.json");
  EXPECT_CRIO_ERROR(parseSeccompProfilePath("strict"), ErrorCategory::INVALID_ARGUMENT,
                    "seccomp_profile_path \"strict\"");
}

TEST(OciSeccompChoice, UnsetAndUnconfinedHaveNoFilter) {
  EXPECT_FALSE(chooseSeccomp({SeccompKind::UNSET, ""}, false, context(), "").has_value());
  EXPECT_FALSE(chooseSeccomp({SeccompKind::UNCONFINED, ""}, false, context(), "").has_value());
}

TEST(OciSeccompChoice, RuntimeDefaultIsBuiltIn) {
  auto profile = chooseSeccomp({SeccompKind::RUNTIME_DEFAULT, ""}, false, context(), "");
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ((*profile)["defaultAction"], "SCMP_ACT_ERRNO");
  auto names = ruleNames(*profile);
  EXPECT_NE(std::find(names.begin(), names.end(), "read"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "mount"), names.end());
}

TEST(OciSeccompChoice, PrivilegedHasNoFilter) {
  TempDir dir;
  std::string file = dir.write("p.json", OCI_PROFILE);
  EXPECT_FALSE(chooseSeccomp({SeccompKind::RUNTIME_DEFAULT, ""}, true, context(), "").has_value());
  EXPECT_FALSE(chooseSeccomp({SeccompKind::LOCALHOST, file}, true, context(), "").has_value());
}

TEST(OciSeccompChoice, ConfigProfileReplacesBuiltIn) {
  TempDir dir;
  std::string file = dir.write("default.json", OCI_PROFILE);
  auto profile = chooseSeccomp({SeccompKind::RUNTIME_DEFAULT, ""}, false, context(), file);
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ(ruleNames(*profile), (std::vector<std::string>{"read", "write", "chmod"}));

  auto fallback = chooseSeccomp({SeccompKind::RUNTIME_DEFAULT, ""}, false, context(),
                                dir.path() + "/missing.json");
  ASSERT_TRUE(fallback.has_value());
  EXPECT_EQ((*fallback)["defaultErrnoRet"], 1);
}

TEST(OciSeccompChoice, LocalhostOciForm) {
  TempDir dir;
  std::string file = dir.write("p.json", OCI_PROFILE);
  auto profile = chooseSeccomp({SeccompKind::LOCALHOST, file}, false, context(), "");
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ((*profile)["architectures"], nlohmann::json({"SCMP_ARCH_X86_64"}));
  const auto& chmod = (*profile)["syscalls"][1];
  EXPECT_EQ(chmod["errnoRet"], 13);
  EXPECT_EQ(chmod["args"][0]["index"], 1);
  EXPECT_EQ(chmod["args"][0]["value"], 511);
  EXPECT_EQ(chmod["args"][0]["valueTwo"], 0);
}

TEST(OciSeccompChoice, LocalhostDockerFormEvaluatesConditions) {
  TempDir dir;
  std::string file = dir.write("docker.json", DOCKER_PROFILE);
  auto profile = chooseSeccomp({SeccompKind::LOCALHOST, file}, false, context(), "");
  ASSERT_TRUE(profile.has_value());
  EXPECT_EQ((*profile)["architectures"],
            nlohmann::json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_EQ(ruleNames(*profile),
            (std::vector<std::string>{"read", "write", "chown", "arch_prctl", "ptrace", "clone"}));
  for (const auto& rule : (*profile)["syscalls"]) {
    EXPECT_FALSE(rule.contains("includes"));
    EXPECT_FALSE(rule.contains("comment"));
  }
}

TEST(OciSeccompChoice, MissingLocalhostFileIsNotFound) {
  EXPECT_CRIO_ERROR(
      chooseSeccomp({SeccompKind::LOCALHOST, "/nonexistent/p.json"}, false, context(), ""),
      ErrorCategory::NOT_FOUND, "localhost_ref");
}

TEST(OciSeccompChoice, RelativeLocalhostPathIsInvalid) {
  EXPECT_CRIO_ERROR(chooseSeccomp({SeccompKind::LOCALHOST, "p.json"}, false, context(), ""),
                    ErrorCategory::INVALID_ARGUMENT, "not an absolute path");
}

struct BadProfileCase {
  const char* name;
  const char* text;
  const char* fragment;
};

TEST(OciSeccompFile, BadProfilesAreNamed) {
  const BadProfileCase cases[] = {
      {"not json", "{", "is not valid JSON"},
      {"not an object", "[]", "not a JSON object"},
      {"no default action", R"({"syscalls": []})", "defaultAction is missing"},
      {"unknown action", R"({"defaultAction": "SCMP_ACT_MAYBE"})", "unknown action"},
      {"notify", R"({"defaultAction": "SCMP_ACT_NOTIFY"})", "SCMP_ACT_NOTIFY is not supported"},
      {"unknown arch", R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_Z"]})",
       "unknown architecture"},
      {"both arch forms",
       R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"],
           "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
       "either architectures or archMap"},
      {"bad name",
       R"({"defaultAction": "SCMP_ACT_ALLOW",
           "syscalls": [{"names": ["Read!"], "action": "SCMP_ACT_ERRNO"}]})",
       "syscalls[0]: invalid system call name"},
      {"no names",
       R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_LOG"}]})",
       "syscalls[0] names no system call"},
      {"bad op",
       R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
           "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]})",
       "syscalls[0].args[0].op"},
      {"arg index",
       R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
           "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})",
       "index is above 5"},
      {"negative value",
       R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"],
           "action": "SCMP_ACT_ERRNO",
           "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]})",
       "value is not a non-negative integer"},
      {"errno range", R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000})",
       "defaultErrnoRet 5000 is above 4095"},
      {"bad flag", R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_X"]})",
       "unknown flag"},
  };
  TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string file = dir.write("bad.json", c.text);
    try {
      loadSeccompProfileFile(file, context());
      ADD_FAILURE() << "accepted";
    } catch (const crio::Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
  }
}

TEST(OciSeccompFile, OversizedProfileIsRejected) {
  TempDir dir;
  std::string file = dir.write("big.json", std::string(MAX_SECCOMP_PROFILE_BYTES + 10, ' '));
  EXPECT_CRIO_ERROR(loadSeccompProfileFile(file, context()), ErrorCategory::INVALID_ARGUMENT,
                    "larger than the bound");
}

TEST(OciSeccompFile, FolderIsNotAProfile) {
  TempDir dir;
  EXPECT_CRIO_ERROR(loadSeccompProfileFile(dir.path(), context()), ErrorCategory::INVALID_ARGUMENT,
                    "not a regular file");
}

}  // namespace
}  // namespace crio::cri::oci
