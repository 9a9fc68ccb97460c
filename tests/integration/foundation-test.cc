// The suite as separate processes: CRI basics, peer loss and return, clean shutdown, privileges.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <unistd.h>
#include <sstream>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/suite.h"

namespace crio::testing {
namespace {

using namespace std::chrono_literals;

std::string statusField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      auto value = line.substr(field.size() + 1);
      return value.substr(value.find_first_not_of(" \t"));
    }
  }
  return "";
}

uint64_t capabilityMask(std::initializer_list<int> caps) {
  uint64_t mask = 0;
  for (int cap : caps)
    mask |= uint64_t{1} << cap;
  return mask;
}

class FoundationTest : public ::testing::Test {
 protected:
  void SetUp() override { suite_.startAll(); }
  Suite suite_;
};

TEST_F(FoundationTest, VersionNamesTheRuntimeAndApiV1) {
  runtime::v1::VersionRequest request;
  runtime::v1::VersionResponse response;
  auto context = rpcContext();
  ASSERT_TRUE(suite_.runtime().Version(context.get(), request, &response).ok());
  EXPECT_EQ(response.runtime_api_version(), "v1");
  EXPECT_EQ(response.runtime_name(), "crio-suite");
  EXPECT_FALSE(response.runtime_version().empty());
  EXPECT_EQ(response.version(), "0.1.0");
}

TEST_F(FoundationTest, StatusReadyWithVerboseInfo) {
  ASSERT_TRUE(suite_.waitRuntimeReady(true, 5s));
  std::string info;
  auto conditions = suite_.conditions(true, &info);
  EXPECT_TRUE(conditions["RuntimeReady"].status());
  // A fresh root has no CNI configuration, so the network is not ready and the message names why.
  EXPECT_FALSE(conditions["NetworkReady"].status());
  EXPECT_EQ(conditions["NetworkReady"].reason(), "NetworkPluginNotReady");
  EXPECT_NE(conditions["NetworkReady"].message().find("/etc/cni/net.d"), std::string::npos);
  EXPECT_NE(info.find("config="), std::string::npos);
  EXPECT_NE(info.find(suite_.criSocket()), std::string::npos);
  EXPECT_NE(info.find("\"crio-stored\":{\"capabilities\""), std::string::npos) << info;
}

TEST_F(FoundationTest, NetworkBecomesReadyWithAValidConflist) {
  std::filesystem::create_directories(suite_.root() + "/etc/cni/net.d");
  std::ofstream(suite_.root() + "/etc/cni/net.d/10-test.conflist")
      << R"({"cniVersion":"1.0.0","name":"t","plugins":[{"type":"bridge"}]})";
  EXPECT_TRUE(suite_.conditions()["NetworkReady"].status());
}

TEST_F(FoundationTest, RuntimeConfigReportsCgroupfsWithoutSystemd) {
  if (access("/run/systemd/system", F_OK) == 0) GTEST_SKIP() << "systemd is PID 1 here";
  runtime::v1::RuntimeConfigRequest request;
  runtime::v1::RuntimeConfigResponse response;
  auto context = rpcContext();
  ASSERT_TRUE(suite_.runtime().RuntimeConfig(context.get(), request, &response).ok());
  EXPECT_EQ(response.linux().cgroup_driver(), runtime::v1::CGROUPFS);
}

TEST_F(FoundationTest, UnimplementedMethodsSayWhichMethod) {
  runtime::v1::CheckpointPodRequest request;
  runtime::v1::CheckpointPodResponse response;
  auto context = rpcContext();
  grpc::Status status = suite_.runtime().CheckpointPod(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(status.error_message().find("CheckpointPod"), std::string::npos);
}

// Shared by the crio-stored and crio-imaged cases: SIGKILL the peer, see RuntimeReady go false
// naming it within a second, start it again, see RuntimeReady come back with crio-cri untouched.
void expectPeerLossAndReturn(Suite& suite, const std::string& name) {
  ASSERT_TRUE(suite.waitRuntimeReady(true, 5s));
  pid_t criPid = suite.daemon("crio-cri")->pid();

  suite.daemon(name)->kill9();
  auto killedAt = std::chrono::steady_clock::now();
  runtime::v1::RuntimeCondition condition;
  ASSERT_TRUE(suite.waitRuntimeReady(false, 1s, &condition)) << name << " loss not noticed";
  EXPECT_LT(std::chrono::steady_clock::now() - killedAt, 1s);
  EXPECT_NE(condition.message().find(name), std::string::npos) << condition.message();
  EXPECT_FALSE(condition.reason().empty());

  if (name == "crio-stored") {
    suite.startStored();
  } else {
    suite.startImaged();
  }
  ASSERT_TRUE(suite.waitRuntimeReady(true, 3s, &condition)) << condition.message();
  EXPECT_EQ(suite.daemon("crio-cri")->pid(), criPid);
  EXPECT_TRUE(suite.daemon("crio-cri")->running());
}

TEST_F(FoundationTest, KilledStoredIsReportedAndPickedUpAgain) {
  expectPeerLossAndReturn(suite_, "crio-stored");
}

TEST_F(FoundationTest, KilledImagedIsReportedAndPickedUpAgain) {
  expectPeerLossAndReturn(suite_, "crio-imaged");
}

TEST_F(FoundationTest, SigtermStopsEveryDaemonAndRemovesEverySocket) {
  std::vector<pid_t> pids;
  for (const char* name : {"crio-cri", "crio-imaged", "crio-stored"}) {
    pids.push_back(suite_.daemon(name)->pid());
    int status = suite_.daemon(name)->stop(SIGTERM, 5s);
    ASSERT_NE(status, -1) << name << " did not stop on SIGTERM";
    EXPECT_TRUE(WIFEXITED(status)) << name << " exit status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << name << "\n" << suite_.daemon(name)->log();
  }
  for (pid_t pid : pids)
    EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " is still there";
  for (const char* socket :
       {"/run/crio/crio.sock", "/run/crio/stored.sock", "/run/crio/imaged/imaged.sock"}) {
    EXPECT_FALSE(std::filesystem::exists(suite_.root() + socket)) << socket;
  }
}

TEST_F(FoundationTest, DaemonsKeepOnlyRoleCapabilities) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  // Sockets exist before a daemon drops privileges; a ready runtime means every daemon has
  // answered an RPC, which it serves only after the drop.
  ASSERT_TRUE(suite_.waitRuntimeReady(true, 5s));
  pid_t imaged = suite_.daemon("crio-imaged")->pid();
  pid_t stored = suite_.daemon("crio-stored")->pid();
  pid_t cri = suite_.daemon("crio-cri")->pid();

  // crio-imaged: an unprivileged user, nothing in any set, no way back.
  EXPECT_EQ(std::stoull(statusField(imaged, "CapEff"), nullptr, 16), 0u);
  EXPECT_EQ(std::stoull(statusField(imaged, "CapPrm"), nullptr, 16), 0u);
  EXPECT_NE(statusField(imaged, "Uid").substr(0, 2), "0\t");
  EXPECT_EQ(statusField(imaged, "NoNewPrivs"), "1");

  // crio-stored: exactly the file-owner capabilities.
  uint64_t storedCaps = capabilityMask(
      {0 /*CHOWN*/, 1 /*DAC_OVERRIDE*/, 3 /*FOWNER*/, 4 /*FSETID*/, 27 /*MKNOD*/, 31 /*SETFCAP*/});
  EXPECT_EQ(std::stoull(statusField(stored, "CapEff"), nullptr, 16), storedCaps);
  EXPECT_EQ(std::stoull(statusField(stored, "CapBnd"), nullptr, 16), storedCaps);

  // crio-cri: no module loading, no raw I/O, no reboot, no clock, no BPF.
  uint64_t criCaps = std::stoull(statusField(cri, "CapEff"), nullptr, 16);
  for (int forbidden : {16 /*SYS_MODULE*/, 17 /*SYS_RAWIO*/, 22 /*SYS_BOOT*/, 25 /*SYS_TIME*/,
                        39 /*BPF*/, 34 /*MAC_ADMIN*/}) {
    EXPECT_EQ(criCaps & (uint64_t{1} << forbidden), 0u) << "capability " << forbidden;
  }
  EXPECT_NE(criCaps & (uint64_t{1} << 12 /*NET_ADMIN*/), 0u);

  for (pid_t pid : {imaged, stored, cri}) {
    EXPECT_EQ(statusField(pid, "Seccomp"), "2") << "pid " << pid << " has no seccomp filter";
  }
}

TEST(FoundationStartTest, InvalidConfigStopsStart) {
  Suite suite("[crio.runtime]\ncgroup_manager = \"upstart\"\n");
  Process cri("crio-cri", {daemonBinary("crio-cri"), "--root", suite.root()},
              suite.root() + "/logs/bad.log");
  int status = cri.stop(0, 5s);  // signal 0: only wait for it to exit by itself
  ASSERT_NE(status, -1) << "crio-cri kept running with an invalid configuration";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  std::string log = cri.log();
  EXPECT_NE(log.find("crio.conf"), std::string::npos) << log;
  EXPECT_NE(log.find("crio.runtime.cgroup_manager"), std::string::npos) << log;
  EXPECT_NE(log.find("upstart"), std::string::npos) << log;
}

TEST(FoundationStartTest, SighupReloadsTheLogLevel) {
  Suite suite("[crio.runtime]\nlog_level = \"info\"\n");
  suite.startAll();
  std::ofstream(suite.root() + "/etc/crio/crio.conf.d/50-debug.conf")
      << "[crio.runtime]\nlog_level = \"debug\"\n";
  kill(suite.daemon("crio-cri")->pid(), SIGHUP);
  std::string info;
  for (int i = 0; i < 100; ++i) {
    suite.conditions(true, &info);
    std::erase(info, ' ');
    if (info.find("\"log_level\":\"debug\"") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(info.find("\"log_level\":\"debug\""), std::string::npos) << info;
  EXPECT_TRUE(suite.daemon("crio-cri")->running());
}

TEST(FoundationStartTest, PrintConfigEmitsTheEffectiveConfiguration) {
  Suite suite;
  std::string out = suite.root() + "/printed.toml";
  std::string command = daemonBinary("crio-stored") + " --root " + suite.root() +
                        " --print-config > " + out + " 2>&1";
  ASSERT_EQ(system(command.c_str()), 0);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("[crio.suite]"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find(suite.root() + "/run/crio/stored.sock"), std::string::npos);
}

}  // namespace
}  // namespace crio::testing
