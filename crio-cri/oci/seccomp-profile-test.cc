#include "crio-cri/oci/seccomp-profile.h"

#include <gtest/gtest.h>

namespace crio::cri::oci {
namespace {

SeccompContext x86Context(std::vector<std::string> capabilities = {"CAP_CHOWN"}) {
  SeccompContext context;
  context.capabilities = std::move(capabilities);
  context.machine = "x86_64";
  context.kernelMajor = 6;
  context.kernelMinor = 1;
  return context;
}

// Names allowed without any argument condition.
std::vector<std::string> unconditionalAllows(const nlohmann::json& profile) {
  std::vector<std::string> names;
  for (const auto& rule : profile["syscalls"]) {
    if (rule["action"] != "SCMP_ACT_ALLOW" || rule.contains("args")) continue;
    for (const auto& name : rule["names"])
      names.push_back(name.get<std::string>());
  }
  return names;
}

bool allows(const nlohmann::json& profile, const std::string& name) {
  auto names = unconditionalAllows(profile);
  return std::find(names.begin(), names.end(), name) != names.end();
}

const nlohmann::json* ruleFor(const nlohmann::json& profile, const std::string& name) {
  for (const auto& rule : profile["syscalls"]) {
    for (const auto& n : rule["names"]) {
      if (n == name) return &rule;
    }
  }
  return nullptr;
}

TEST(OciDefaultSeccomp, DeniesByDefaultWithEperm) {
  nlohmann::json profile = defaultSeccompProfile(x86Context());
  EXPECT_EQ(profile["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile["defaultErrnoRet"], 1);
  EXPECT_EQ(profile["architectures"],
            nlohmann::json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
}

TEST(OciDefaultSeccomp, AllowsOrdinaryCalls) {
  nlohmann::json profile = defaultSeccompProfile(x86Context());
  for (const char* name : {"read", "write", "openat", "execve", "futex", "mmap", "epoll_wait",
                           "arch_prctl", "ptrace", "setuid", "socketpair"}) {
    EXPECT_TRUE(allows(profile, name)) << name;
  }
}

TEST(OciDefaultSeccomp, BlocksHostWideCalls) {
  nlohmann::json profile = defaultSeccompProfile(x86Context());
  for (const char* name : {"mount",
                           "umount2",
                           "pivot_root",
                           "unshare",
                           "setns",
                           "keyctl",
                           "add_key",
                           "request_key",
                           "bpf",
                           "perf_event_open",
                           "kexec_load",
                           "kexec_file_load",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "reboot",
                           "swapon",
                           "swapoff",
                           "acct",
                           "clock_settime",
                           "settimeofday",
                           "userfaultfd",
                           "open_by_handle_at",
                           "io_uring_setup",
                           "chroot"}) {
    EXPECT_EQ(ruleFor(profile, name), nullptr) << name;
  }
}

TEST(OciDefaultSeccomp, CapabilityOpensItsGroup) {
  nlohmann::json profile =
      defaultSeccompProfile(x86Context({"CAP_SYS_ADMIN", "CAP_SYS_TIME", "CAP_SYS_CHROOT"}));
  for (const char* name : {"mount", "umount2", "unshare", "setns", "clone", "clone3",
                           "clock_settime", "settimeofday", "chroot", "pivot_root"}) {
    EXPECT_TRUE(allows(profile, name)) << name;
  }
  EXPECT_FALSE(allows(profile, "reboot"));
  EXPECT_EQ(ruleFor(profile, "keyctl"), nullptr);
}

TEST(OciDefaultSeccomp, CloneWithoutSysAdminIsMasked) {
  nlohmann::json profile = defaultSeccompProfile(x86Context());
  const nlohmann::json* clone = ruleFor(profile, "clone");
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ((*clone)["args"].size(), 1u);
  EXPECT_EQ((*clone)["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ((*clone)["args"][0]["value"], 0x7E020000u);
  EXPECT_EQ((*clone)["args"][0]["valueTwo"], 0u);

  const nlohmann::json* clone3 = ruleFor(profile, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ((*clone3)["action"], "SCMP_ACT_ERRNO");
  EXPECT_EQ((*clone3)["errnoRet"], 38);
}

TEST(OciDefaultSeccomp, PersonalityAndSocketAreFiltered) {
  nlohmann::json profile = defaultSeccompProfile(x86Context());
  int personalityRules = 0;
  for (const auto& rule : profile["syscalls"]) {
    if (rule["names"] == nlohmann::json({"personality"})) {
      personalityRules++;
      EXPECT_EQ(rule["args"][0]["op"], "SCMP_CMP_EQ");
    }
  }
  EXPECT_EQ(personalityRules, 5);
  const nlohmann::json* socket = ruleFor(profile, "socket");
  ASSERT_NE(socket, nullptr);
  EXPECT_EQ((*socket)["args"][0]["value"], 40);
  EXPECT_EQ((*socket)["args"][0]["op"], "SCMP_CMP_NE");
}

TEST(OciDefaultSeccomp, PtraceNeedsCapabilityOnOldKernels) {
  SeccompContext context = x86Context();
  context.kernelMajor = 4;
  context.kernelMinor = 4;
  EXPECT_FALSE(allows(defaultSeccompProfile(context), "ptrace"));
  context.capabilities.push_back("CAP_SYS_PTRACE");
  EXPECT_TRUE(allows(defaultSeccompProfile(context), "ptrace"));
}

TEST(OciDefaultSeccomp, ArmHasItsOwnCalls) {
  SeccompContext context = x86Context();
  context.machine = "aarch64";
  nlohmann::json profile = defaultSeccompProfile(context);
  EXPECT_EQ(profile["architectures"], nlohmann::json({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_TRUE(allows(profile, "set_tls"));
  EXPECT_FALSE(allows(profile, "arch_prctl"));
}

TEST(OciDefaultSeccomp, NoNameListedTwice) {
  nlohmann::json profile = defaultSeccompProfile(x86Context({"CAP_SYS_ADMIN", "CAP_BPF"}));
  auto names = unconditionalAllows(profile);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

}  // namespace
}  // namespace crio::cri::oci
