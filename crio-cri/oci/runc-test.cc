// Runs containers from generated specs with the real runc: the spec must be accepted and must
// have the intended effect inside the container (user, capabilities, seccomp, read-only root,
// bind mount). Skips when it cannot run: not root, or no runc or static busybox.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crio-cri/oci/spec-builder.h"
#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using testing::TempDir;

constexpr const char* BUSYBOX = "/bin/busybox";
// The runc binary: RUNC in the environment, else the Debian package's path.
std::string runcPath() {
  const char* fromEnv = std::getenv("RUNC");
  return fromEnv != nullptr ? fromEnv : "/usr/sbin/runc";
}

// runc's default capability set (its `runc spec`), which includes NET_RAW.
const std::vector<std::string> RUNC_DEFAULT_CAPABILITIES = {
    "CHOWN",   "DAC_OVERRIDE", "FSETID",           "FOWNER",
    "MKNOD",   "NET_RAW",      "SETGID",           "SETUID",
    "SETFCAP", "SETPCAP",      "NET_BIND_SERVICE", "SYS_CHROOT",
    "KILL",    "AUDIT_WRITE"};

constexpr int CAP_CHOWN_BIT = 0;
constexpr int CAP_NET_RAW_BIT = 13;

std::string readFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// The value after "Key:" in /proc/PID/status output, "" when absent.
std::string statusField(const std::string& output, const std::string& key) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      std::string value = line.substr(key.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "";
}

bool capabilityBit(const std::string& hexMask, int bit) {
  return (std::stoull(hexMask, nullptr, 16) >> bit) & 1;
}

class OciRunc : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "runc needs root; this test runs as uid " << geteuid();
    if (access(runcPath().c_str(), X_OK) != 0) {
      GTEST_SKIP() << "runc not found at " << runcPath() << " (set RUNC to its path)";
    }
    if (access(BUSYBOX, X_OK) != 0) GTEST_SKIP() << "static busybox not found at " << BUSYBOX;

    bundle_ = dir_.mkdir("bundle");
    rootfs_ = dir_.mkdir("bundle/rootfs");
    makeBusyboxRootfs();
    dataDir_ = dir_.mkdir("data");
    dir_.write("data/hello", "hello from the host\n");

    config_ = Config::defaults(Paths());
    config_.defaultCapabilities = RUNC_DEFAULT_CAPABILITIES;
    container_.mutable_metadata()->set_name("probe");
    sandbox_.mutable_metadata()->set_name("runc-test");
    sandbox_.set_hostname("runc-test");

    inputs_.containerId = "oci-runc-test-" + std::to_string(getpid());
    inputs_.sandboxId = "sandbox";
    inputs_.container = &container_;
    inputs_.sandbox = &sandbox_;
    inputs_.imageConfig = nlohmann::json::parse(R"({"config": {"User": "app"}})");
    inputs_.rootfsPath = rootfs_;
    inputs_.containerDir = bundle_;
    inputs_.cgroupManager = "cgroupfs";
    inputs_.cgroupParent = "/crio-oci-test";
    inputs_.config = &config_;
    inputs_.host = HostFacts::probe();
  }

  void TearDown() override {
    // runc removes the container's own cgroups; the empty parent stays behind in each hierarchy.
    for (const auto& hierarchy : {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
                                  "blkio", "pids", "systemd", "unified", ""}) {
      std::string parent = std::string("/sys/fs/cgroup/") + hierarchy + "/crio-oci-test";
      rmdir(parent.c_str());
    }
  }

  void makeBusyboxRootfs() {
    std::string bin = dir_.mkdir("bundle/rootfs/bin");
    std::filesystem::copy_file(BUSYBOX, bin + "/busybox");
    // Relative links: `busybox --install -s` would link to the host path of the binary.
    std::string list = dir_.path() + "/applets";
    ASSERT_EQ(std::system((std::string(BUSYBOX) + " --list > " + list).c_str()), 0);
    std::istringstream applets(readFile(list));
    std::string applet;
    while (std::getline(applets, applet)) {
      if (!applet.empty() && applet != "busybox") {
        std::filesystem::create_symlink("busybox", bin + "/" + applet);
      }
    }
    dir_.write("bundle/rootfs/etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
    dir_.write("bundle/rootfs/etc/group", "root:x:0:\napp:x:1000:\n");
  }

  // Writes config.json, runs the container in the foreground and returns its stdout.
  std::string run(const std::string& script) {
    container_.clear_command();
    container_.add_command("/bin/sh");
    container_.add_command("-c");
    container_.add_command(script);

    nlohmann::json spec = buildContainerSpec(inputs_);
    std::ofstream(bundle_ + "/config.json") << spec.dump(2);

    std::string out = dir_.path() + "/stdout";
    std::string err = dir_.path() + "/stderr";
    std::string command = "timeout 60 " + runcPath() + " --root " + dir_.path() +
                          "/runc-state run --bundle " + bundle_ + " " + inputs_.containerId +
                          " < /dev/null > " + out + " 2> " + err;
    int status = std::system(command.c_str());
    EXPECT_EQ(status, 0) << "runc failed: " << readFile(err) << "\nspec: " << spec.dump(2);
    return readFile(out);
  }

  TempDir dir_;
  std::string bundle_;
  std::string rootfs_;
  std::string dataDir_;
  Config config_;
  runtime::v1::ContainerConfig container_;
  runtime::v1::PodSandboxConfig sandbox_;
  ContainerSpecInputs inputs_;
};

TEST_F(OciRunc, RestrictedContainerRunsAsSpecified) {
  auto* sc = container_.mutable_linux()->mutable_security_context();
  sc->mutable_capabilities()->add_drop_capabilities("CAP_NET_RAW");
  sc->mutable_seccomp()->set_profile_type(runtime::v1::SecurityProfile::RuntimeDefault);
  sc->set_readonly_rootfs(true);
  auto* mount = container_.add_mounts();
  mount->set_container_path("/data");
  mount->set_host_path(dataDir_);
  mount->set_readonly(true);

  std::string output = run(
      "echo uid=$(id -u) gid=$(id -g); grep -E '^(Cap|Seccomp)' /proc/self/status; cat "
      "/data/hello; "
      "if touch /written 2>/dev/null; then echo root=writable; else echo root=readonly; fi; "
      "if unshare -U true 2>/dev/null; then echo unshare=allowed; else echo unshare=denied; fi");

  EXPECT_NE(output.find("uid=1000 gid=1000"), std::string::npos) << output;
  std::string bounding = statusField(output, "CapBnd");
  std::string effective = statusField(output, "CapEff");
  ASSERT_FALSE(bounding.empty()) << output;
  ASSERT_FALSE(effective.empty()) << output;
  EXPECT_FALSE(capabilityBit(bounding, CAP_NET_RAW_BIT)) << output;
  EXPECT_TRUE(capabilityBit(bounding, CAP_CHOWN_BIT)) << output;
  EXPECT_FALSE(capabilityBit(effective, CAP_NET_RAW_BIT)) << output;
  EXPECT_EQ(statusField(output, "Seccomp"), "2") << output;
  EXPECT_NE(output.find("hello from the host"), std::string::npos) << output;
  EXPECT_NE(output.find("root=readonly"), std::string::npos) << output;
  EXPECT_NE(output.find("unshare=denied"), std::string::npos) << output;
  EXPECT_FALSE(std::filesystem::exists(rootfs_ + "/written"));
}

TEST_F(OciRunc, UnconfinedRootContainerKeepsDefaults) {
  auto* sc = container_.mutable_linux()->mutable_security_context();
  sc->mutable_run_as_user()->set_value(0);
  sc->mutable_seccomp()->set_profile_type(runtime::v1::SecurityProfile::Unconfined);
  container_.mutable_linux()->mutable_resources()->set_oom_score_adj(-997);

  std::string output =
      run("echo uid=$(id -u) gid=$(id -g); grep -E '^(Cap|Seccomp)' /proc/self/status; "
          "cat /proc/self/oom_score_adj; if touch /written; then echo root=writable; fi");

  EXPECT_NE(output.find("uid=0 gid=0"), std::string::npos) << output;
  std::string effective = statusField(output, "CapEff");
  ASSERT_FALSE(effective.empty()) << output;
  EXPECT_TRUE(capabilityBit(effective, CAP_NET_RAW_BIT)) << output;
  EXPECT_EQ(statusField(output, "Seccomp"), "0") << output;
  EXPECT_NE(output.find("root=writable"), std::string::npos) << output;
  // The score was raised to the test process's own, so runc could set it.
  EXPECT_NE(output.find("\n" + std::to_string(inputs_.host.oomScoreAdj) + "\n"), std::string::npos)
      << output;
}

}  // namespace
}  // namespace crio::cri::oci
