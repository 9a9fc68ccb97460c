#include "crio-cri/oci/spec-builder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using testing::TempDir;

constexpr const char* CONTAINER_ID = "0123456789abcdef";

class OciSpecBuilder : public ::testing::Test {
 protected:
  void SetUp() override {
    rootfs_ = dir_.mkdir("rootfs");
    dir_.write("rootfs/etc/passwd",
               "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
    dir_.write("rootfs/etc/group", "root:x:0:\napp:x:1000:\nwheel:x:10:app\n");

    config_ = Config::defaults(Paths());
    container_.mutable_metadata()->set_name("web");
    container_.mutable_metadata()->set_attempt(2);
    container_.mutable_image()->set_image("docker.io/library/busybox:latest");
    sandbox_.mutable_metadata()->set_name("pod-a");
    sandbox_.mutable_metadata()->set_namespace_("default");
    sandbox_.mutable_metadata()->set_uid("uid-1");
    sandbox_.set_hostname("pod-a");
    sandbox_.mutable_linux()->set_cgroup_parent("/kubepods/pod-uid-1");

    inputs_.containerId = CONTAINER_ID;
    inputs_.sandboxId = "sandbox-1";
    inputs_.container = &container_;
    inputs_.sandbox = &sandbox_;
    inputs_.imageConfig = nlohmann::json::parse(R"({"config": {
        "Entrypoint": ["/bin/app"], "Cmd": ["--serve"], "Env": ["PATH=/bin", "MODE=image"],
        "WorkingDir": "/srv", "User": "app"}})");
    inputs_.rootfsPath = rootfs_;
    inputs_.cgroupManager = "cgroupfs";
    inputs_.config = &config_;
    inputs_.host.oomScoreAdj = 0;
    inputs_.host.lastCapability = 40;
    inputs_.host.machine = "x86_64";
    inputs_.host.kernelMajor = 6;
    inputs_.host.kernelMinor = 1;
    inputs_.host.hostname = "node-1";
    inputs_.host.resources = {false, true, false};
    inputs_.host.mountInfoPath = dir_.write("mountinfo", "1 0 8:1 / / rw - ext4 /dev/sda rw\n");
  }

  nlohmann::json build() { return buildContainerSpec(inputs_); }

  static bool contains(const nlohmann::json& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
  }

  TempDir dir_;
  std::string rootfs_;
  Config config_;
  runtime::v1::ContainerConfig container_;
  runtime::v1::PodSandboxConfig sandbox_;
  ContainerSpecInputs inputs_;
};

TEST_F(OciSpecBuilder, BasicSpec) {
  nlohmann::json spec = build();
  EXPECT_EQ(spec["ociVersion"], "1.0.2");
  EXPECT_EQ(spec["root"], (nlohmann::json{{"path", rootfs_}, {"readonly", false}}));
  EXPECT_EQ(spec["hostname"], "pod-a");

  const auto& process = spec["process"];
  EXPECT_EQ(process["args"], nlohmann::json({"/bin/app", "--serve"}));
  EXPECT_EQ(process["cwd"], "/srv");
  EXPECT_EQ(process["terminal"], false);
  EXPECT_EQ(process["user"]["uid"], 1000);
  EXPECT_EQ(process["user"]["gid"], 1000);
  EXPECT_EQ(process["user"]["additionalGids"], nlohmann::json({1000, 10}));
  EXPECT_TRUE(contains(process["env"], "HOSTNAME=pod-a"));
  EXPECT_TRUE(contains(process["env"], "PATH=/bin"));
  EXPECT_EQ(process["capabilities"]["bounding"].size(), 9u);
  EXPECT_EQ(process["noNewPrivileges"], false);
  EXPECT_EQ(process["oomScoreAdj"], 0);
  EXPECT_FALSE(process.contains("rlimits"));

  const auto& linux = spec["linux"];
  EXPECT_EQ(linux["cgroupsPath"], std::string("/kubepods/pod-uid-1/crio-") + CONTAINER_ID);
  EXPECT_FALSE(linux.contains("seccomp"));
  EXPECT_TRUE(contains(linux["maskedPaths"], "/proc/kcore"));
  EXPECT_TRUE(contains(linux["readonlyPaths"], "/proc/sys"));
  EXPECT_EQ(linux["resources"]["devices"][0]["allow"], false);
  EXPECT_EQ(linux["namespaces"].size(), 5u);

  const auto& annotations = spec["annotations"];
  EXPECT_EQ(annotations["io.crio-suite.container.name"], "web");
  EXPECT_EQ(annotations["io.crio-suite.container.attempt"], "2");
  EXPECT_EQ(annotations["io.crio-suite.pod.name"], "pod-a");
  EXPECT_EQ(annotations["io.crio-suite.pod.namespace"], "default");
  EXPECT_EQ(annotations["io.crio-suite.pod.uid"], "uid-1");
  EXPECT_EQ(annotations["io.crio-suite.container.id"], CONTAINER_ID);
}

TEST_F(OciSpecBuilder, RequestOverridesImage) {
  container_.add_command("/bin/sh");
  container_.add_args("-c");
  container_.add_args("true");
  container_.set_working_dir("/tmp");
  auto* env = container_.add_envs();
  env->set_key("MODE");
  env->set_value("request");
  container_.set_tty(true);
  container_.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);

  nlohmann::json spec = build();
  EXPECT_EQ(spec["process"]["args"], nlohmann::json({"/bin/sh", "-c", "true"}));
  EXPECT_EQ(spec["process"]["cwd"], "/tmp");
  EXPECT_EQ(spec["process"]["terminal"], true);
  EXPECT_TRUE(contains(spec["process"]["env"], "MODE=request"));
  EXPECT_TRUE(contains(spec["process"]["env"], "TERM=xterm"));
  EXPECT_EQ(spec["process"]["user"]["uid"], 0);
}

TEST_F(OciSpecBuilder, NoCommandIsInvalid) {
  inputs_.imageConfig = nullptr;
  EXPECT_CRIO_ERROR(build(), ErrorCategory::INVALID_ARGUMENT, "no command specified");
}

TEST_F(OciSpecBuilder, OomScoreIsClampedToDaemon) {
  container_.mutable_linux()->mutable_resources()->set_oom_score_adj(-997);
  EXPECT_EQ(build()["process"]["oomScoreAdj"], 0);
  inputs_.host.oomScoreAdj = -999;
  EXPECT_EQ(build()["process"]["oomScoreAdj"], -997);
  container_.mutable_linux()->mutable_resources()->set_oom_score_adj(1000);
  EXPECT_EQ(build()["process"]["oomScoreAdj"], 1000);
}

TEST_F(OciSpecBuilder, ResourcesAndPidsLimit) {
  auto* resources = container_.mutable_linux()->mutable_resources();
  resources->set_cpu_shares(256);
  resources->set_memory_limit_in_bytes(128 << 20);
  config_.pidsLimit = 2048;
  nlohmann::json spec = build();
  const auto& linux = spec["linux"];
  EXPECT_EQ(linux["resources"]["cpu"]["shares"], 256);
  EXPECT_EQ(linux["resources"]["memory"]["limit"], 128 << 20);
  EXPECT_EQ(linux["resources"]["pids"]["limit"], 2048);
}

TEST_F(OciSpecBuilder, RuntimeDefaultSeccompAndUlimits) {
  container_.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      runtime::v1::SecurityProfile::RuntimeDefault);
  config_.defaultUlimits = {"nofile=1024:2048"};
  nlohmann::json spec = build();
  EXPECT_EQ(spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(spec["process"]["rlimits"][0]["type"], "RLIMIT_NOFILE");
}

TEST_F(OciSpecBuilder, DeprecatedSeccompPathStillWorks) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  container_.mutable_linux()->mutable_security_context()->set_seccomp_profile_path(
      "runtime/default");
#pragma GCC diagnostic pop
  EXPECT_TRUE(build()["linux"].contains("seccomp"));
}

TEST_F(OciSpecBuilder, LocalhostRefNeedsLocalhostType) {
  auto* seccomp = container_.mutable_linux()->mutable_security_context()->mutable_seccomp();
  seccomp->set_profile_type(runtime::v1::SecurityProfile::RuntimeDefault);
  seccomp->set_localhost_ref("/p.json");
  EXPECT_CRIO_ERROR(build(), ErrorCategory::INVALID_ARGUMENT,
                    "localhost_ref is set, but profile_type is not Localhost");
}

TEST_F(OciSpecBuilder, PrivilegedContainer) {
  auto* sc = container_.mutable_linux()->mutable_security_context();
  sc->set_privileged(true);
  sc->mutable_seccomp()->set_profile_type(runtime::v1::SecurityProfile::RuntimeDefault);
  EXPECT_CRIO_ERROR(build(), ErrorCategory::INVALID_ARGUMENT, "pod sandbox is not privileged");

  sandbox_.mutable_linux()->mutable_security_context()->set_privileged(true);
  inputs_.host.hostDevices = dir_.mkdir("emptydev");
  nlohmann::json spec = build();
  EXPECT_EQ(spec["process"]["capabilities"]["bounding"].size(), 41u);
  EXPECT_FALSE(spec["linux"].contains("seccomp"));
  EXPECT_TRUE(spec["linux"]["maskedPaths"].empty());
  EXPECT_TRUE(spec["linux"]["readonlyPaths"].empty());
  EXPECT_EQ(spec["linux"]["resources"]["devices"],
            nlohmann::json::parse(R"([{"allow": true, "access": "rwm"}])"));
}

TEST_F(OciSpecBuilder, ReadOnlyRootfs) {
  container_.mutable_linux()->mutable_security_context()->set_readonly_rootfs(true);
  inputs_.podFiles.resolvConf = "/run/pod/resolv.conf";
  nlohmann::json spec = build();
  EXPECT_EQ(spec["root"]["readonly"], true);
  for (const auto& m : spec["mounts"]) {
    if (m["destination"] == "/etc/resolv.conf") {
      EXPECT_TRUE(contains(m["options"], "ro"));
    }
  }
}

TEST_F(OciSpecBuilder, ConfigReadOnlyAddsTmpfs) {
  config_.readOnly = true;
  nlohmann::json spec = build();
  EXPECT_EQ(spec["root"]["readonly"], true);
  bool tmp = false;
  for (const auto& m : spec["mounts"])
    tmp = tmp || m["destination"] == "/tmp";
  EXPECT_TRUE(tmp);
}

TEST_F(OciSpecBuilder, HostNetworkUsesNodeHostname) {
  sandbox_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      runtime::v1::NODE);
  nlohmann::json spec = build();
  EXPECT_FALSE(spec.contains("hostname"));
  EXPECT_TRUE(contains(spec["process"]["env"], "HOSTNAME=node-1"));
  for (const auto& ns : spec["linux"]["namespaces"]) {
    EXPECT_NE(ns["type"], "network");
    EXPECT_NE(ns["type"], "uts");
  }

  (*sandbox_.mutable_linux()->mutable_sysctls())["net.core.somaxconn"] = "1024";
  EXPECT_CRIO_ERROR(build(), ErrorCategory::INVALID_ARGUMENT, "host's network namespace");
}

TEST_F(OciSpecBuilder, PodSysctlsAndPinnedNamespaces) {
  (*sandbox_.mutable_linux()->mutable_sysctls())["net.core.somaxconn"] = "1024";
  inputs_.namespaces.network = "/run/crio/ns/net-x";
  nlohmann::json spec = build();
  EXPECT_EQ(spec["linux"]["sysctl"]["net.core.somaxconn"], "1024");
  bool joined = false;
  for (const auto& ns : spec["linux"]["namespaces"]) {
    joined = joined || (ns["type"] == "network" && ns["path"] == "/run/crio/ns/net-x");
  }
  EXPECT_TRUE(joined);
}

TEST_F(OciSpecBuilder, SystemdCgroupsPath) {
  inputs_.cgroupManager = "systemd";
  inputs_.cgroupParent = "kubepods-pod1.slice";
  EXPECT_EQ(build()["linux"]["cgroupsPath"],
            std::string("kubepods-pod1.slice:crio:") + CONTAINER_ID);
}

TEST_F(OciSpecBuilder, RequestAnnotationsAreCopiedButPrefixIsReserved) {
  (*container_.mutable_annotations())["io.kubernetes.container.hash"] = "abc";
  (*container_.mutable_annotations())["io.crio-suite.container.name"] = "spoofed";
  nlohmann::json spec = build();
  const auto& annotations = spec["annotations"];
  EXPECT_EQ(annotations["io.kubernetes.container.hash"], "abc");
  EXPECT_EQ(annotations["io.crio-suite.container.name"], "web");
}

TEST_F(OciSpecBuilder, ImageVolumesAreCreated) {
  inputs_.imageConfig["config"]["Volumes"] = {{"/data", nlohmann::json::object()}};
  build();
  EXPECT_TRUE(std::filesystem::is_directory(rootfs_ + "/data"));
}

TEST_F(OciSpecBuilder, CdiAndAmbientAreUnimplemented) {
  container_.add_cdi_devices()->set_name("vendor.com/gpu=0");
  EXPECT_CRIO_ERROR(build(), ErrorCategory::UNIMPLEMENTED, "CDI_devices");
  container_.clear_cdi_devices();
  container_.mutable_linux()
      ->mutable_security_context()
      ->mutable_capabilities()
      ->add_add_ambient_capabilities("CAP_NET_BIND_SERVICE");
  EXPECT_CRIO_ERROR(build(), ErrorCategory::UNIMPLEMENTED, "add_ambient_capabilities");
}

TEST_F(OciSpecBuilder, MissingNameIsInvalid) {
  container_.mutable_metadata()->set_name("");
  EXPECT_CRIO_ERROR(build(), ErrorCategory::INVALID_ARGUMENT, "config.metadata.name is empty");
}

}  // namespace
}  // namespace crio::cri::oci
