#include "crio-cri/oci/spec-builder.h"

#include <optional>

#include "common/error.h"
#include "common/log.h"
#include "crio-cri/oci/capabilities.h"
#include "crio-cri/oci/devices.h"
#include "crio-cri/oci/image-config.h"
#include "crio-cri/oci/masked-paths.h"
#include "crio-cri/oci/process-user.h"
#include "crio-cri/oci/process.h"
#include "crio-cri/oci/quote.h"
#include "crio-cri/oci/resources.h"
#include "crio-cri/oci/seccomp.h"
#include "crio-cri/oci/sysctls.h"

namespace crio::cri::oci {

namespace {

constexpr size_t MAX_CONTAINER_ID_BYTES = 128;

void checkInputs(const ContainerSpecInputs& inputs) {
  if (inputs.container == nullptr || inputs.sandbox == nullptr || inputs.config == nullptr) {
    fail(ErrorCategory::INTERNAL, "container spec inputs lack the request or the configuration");
  }
  const std::string& id = inputs.containerId;
  if (id.empty() || id.size() > MAX_CONTAINER_ID_BYTES ||
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
          std::string::npos) {
    fail(ErrorCategory::INTERNAL, "container id " + quoteValue(id) + " is not valid");
  }
  if (inputs.rootfsPath.empty() || inputs.rootfsPath[0] != '/') {
    fail(ErrorCategory::INTERNAL,
         "root filesystem path " + quoteValue(inputs.rootfsPath) + " is not absolute");
  }
  if (inputs.container->metadata().name().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "config.metadata.name is empty");
  }
}

std::vector<std::string> toVector(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

UserRequest userRequest(const runtime::v1::LinuxContainerSecurityContext& sc,
                        const ImageConfig& image) {
  UserRequest request;
  if (sc.has_run_as_user()) request.runAsUser = sc.run_as_user().value();
  if (sc.has_run_as_group()) request.runAsGroup = sc.run_as_group().value();
  request.runAsUsername = sc.run_as_username();
  request.imageUser = image.user;
  request.supplementalGroups = {sc.supplemental_groups().begin(), sc.supplemental_groups().end()};
  request.strictSupplementalGroups = sc.supplemental_groups_policy() == runtime::v1::Strict;
  return request;
}

SeccompSelection seccompSelection(const runtime::v1::LinuxContainerSecurityContext& sc) {
  if (!sc.has_seccomp()) {
    // Deprecated in CRI, but older kubelets send only this field.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return parseSeccompProfilePath(sc.seccomp_profile_path());
#pragma GCC diagnostic pop
  }

  const auto& profile = sc.seccomp();
  if (profile.profile_type() != runtime::v1::SecurityProfile::Localhost &&
      !profile.localhost_ref().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "security_context.seccomp.localhost_ref is set, but profile_type is not Localhost");
  }
  switch (profile.profile_type()) {
    case runtime::v1::SecurityProfile::RuntimeDefault:
      return {SeccompKind::RUNTIME_DEFAULT, ""};
    case runtime::v1::SecurityProfile::Unconfined:
      return {SeccompKind::UNCONFINED, ""};
    case runtime::v1::SecurityProfile::Localhost:
      return {SeccompKind::LOCALHOST, profile.localhost_ref()};
    default:
      fail(ErrorCategory::INVALID_ARGUMENT, "security_context.seccomp.profile_type " +
                                                std::to_string(profile.profile_type()) +
                                                " is not a known profile type");
  }
}

nlohmann::json buildAnnotations(const ContainerSpecInputs& inputs) {
  const auto& container = *inputs.container;
  const auto& metadata = inputs.sandbox->metadata();

  nlohmann::json annotations = nlohmann::json::object();
  size_t bytes = 0;
  for (const auto& [key, value] : container.annotations()) {
    if (key.rfind(ANNOTATION_PREFIX, 0) == 0) continue;  // the runtime's own keys below win
    bytes += key.size() + value.size();
    if (bytes > MAX_ANNOTATION_BYTES) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "config.annotations are larger than " + std::to_string(MAX_ANNOTATION_BYTES) + " bytes");
    }
    annotations[key] = value;
  }

  std::string prefix = ANNOTATION_PREFIX;
  annotations[prefix + "container.id"] = inputs.containerId;
  annotations[prefix + "container.name"] = container.metadata().name();
  annotations[prefix + "container.attempt"] = std::to_string(container.metadata().attempt());
  annotations[prefix + "image"] = container.image().image();
  annotations[prefix + "pod.id"] = inputs.sandboxId;
  annotations[prefix + "pod.name"] = metadata.name();
  annotations[prefix + "pod.namespace"] = metadata.namespace_();
  annotations[prefix + "pod.uid"] = metadata.uid();
  return annotations;
}

}  // namespace

nlohmann::json buildContainerSpec(const ContainerSpecInputs& inputs) {
  checkInputs(inputs);
  const runtime::v1::ContainerConfig& container = *inputs.container;
  const runtime::v1::PodSandboxConfig& sandbox = *inputs.sandbox;
  const Config& config = *inputs.config;
  const runtime::v1::LinuxContainerSecurityContext& sc = container.linux().security_context();
  const runtime::v1::LinuxContainerResources& requested = container.linux().resources();
  bool privileged = sc.privileged();

  // containerd refuses this too: kubelet marks the pod privileged when any container is.
  if (privileged && !sandbox.linux().security_context().privileged()) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "security_context.privileged is set, but the pod sandbox is not privileged");
  }

  if (container.cdi_devices_size() > 0) {
    fail(ErrorCategory::UNIMPLEMENTED, "CDI_devices: CDI devices are not supported");
  }
  if (sc.capabilities().add_ambient_capabilities_size() > 0) {
    fail(ErrorCategory::UNIMPLEMENTED,
         "capabilities.add_ambient_capabilities: ambient capabilities are not supported");
  }

  ImageConfig image = parseImageConfig(inputs.imageConfig);
  std::optional<RootfsDirectory> ownRootfs;
  const RootfsFiles* rootfs = inputs.rootfs;
  if (rootfs == nullptr) rootfs = &ownRootfs.emplace(inputs.rootfsPath);

  // Namespaces first: the hostname, the sysctls and HOSTNAME depend on which are the host's.
  const runtime::v1::NamespaceOption* podNamespaces =
      sandbox.linux().security_context().has_namespace_options()
          ? &sandbox.linux().security_context().namespace_options()
          : nullptr;
  const runtime::v1::NamespaceOption* containerNamespaces =
      sc.has_namespace_options() ? &sc.namespace_options() : nullptr;
  NamespacesResult namespaces =
      buildNamespaces(podNamespaces, containerNamespaces, inputs.namespaces,
                      inputs.host.resources.cgroupV2, privileged);
  std::string hostname = namespaces.hostUts ? inputs.host.hostname : sandbox.hostname();

  // Process.
  std::vector<std::string> args =
      resolveArgs(toVector(container.command()), toVector(container.args()), image);
  EnvRequest envRequest;
  for (const auto& kv : container.envs())
    envRequest.envs.emplace_back(kv.key(), kv.value());
  envRequest.hostname = hostname;
  envRequest.tty = container.tty();
  std::vector<std::string> env = buildEnv(image, envRequest);
  checkArgsAndEnvSize(args, env);

  ProcessUser user = resolveProcessUser(userRequest(sc, image), *rootfs);

  CapabilityRequest capabilityRequest;
  capabilityRequest.defaults = config.defaultCapabilities;
  capabilityRequest.add = toVector(sc.capabilities().add_capabilities());
  capabilityRequest.drop = toVector(sc.capabilities().drop_capabilities());
  capabilityRequest.privileged = privileged;
  capabilityRequest.lastCapability = inputs.host.lastCapability;
  capabilityRequest.grantable = inputs.host.boundingSet;
  std::vector<std::string> capabilities = resolveCapabilities(capabilityRequest);

  int oomScoreAdj = clampOomScoreAdj(requested.oom_score_adj(), inputs.host.oomScoreAdj);
  if (oomScoreAdj != requested.oom_score_adj()) {
    log::debug("Raised the container's OOM score to the runtime's own",
               {{"container", inputs.containerId},
                {"requested", requested.oom_score_adj()},
                {"oom_score_adj", oomScoreAdj}});
  }

  nlohmann::json process = {
      {"terminal", container.tty()},
      {"user", {{"uid", user.uid}, {"gid", user.gid}, {"additionalGids", user.additionalGids}}},
      {"args", args},
      {"env", env},
      {"cwd", resolveWorkingDir(container.working_dir(), image)},
      {"capabilities", capabilitiesJson(capabilities)},
      {"noNewPrivileges", sc.no_new_privs()},
      {"oomScoreAdj", oomScoreAdj},
  };
  nlohmann::json rlimits = buildRlimits(config.defaultUlimits);
  if (!rlimits.empty()) process["rlimits"] = rlimits;

  // Root and mounts.
  bool readonlyRoot = sc.readonly_rootfs() || config.readOnly;
  MountsRequest mountsRequest;
  mountsRequest.mounts = &container.mounts();
  mountsRequest.podFiles = inputs.podFiles;
  mountsRequest.privileged = privileged;
  mountsRequest.readonlyRootfs = readonlyRoot;
  mountsRequest.readOnlyTmpfs = config.readOnly;
  mountsRequest.imageVolumes = image.volumes;
  mountsRequest.imageVolumesMode = config.imageVolumes;
  mountsRequest.uid = user.uid;
  mountsRequest.gid = user.gid;
  mountsRequest.rootfs = rootfs;
  mountsRequest.containerDir = inputs.containerDir;
  mountsRequest.mountInfoPath = inputs.host.mountInfoPath;
  MountsResult mounts = buildMounts(mountsRequest);

  // linux.
  DevicesRequest devicesRequest;
  devicesRequest.devices = &container.devices();
  devicesRequest.additionalDevices = config.additionalDevices;
  devicesRequest.privileged = privileged;
  devicesRequest.privilegedWithoutHostDevices = inputs.privilegedWithoutHostDevices;
  devicesRequest.hostDevices = inputs.host.hostDevices;
  DevicesResult devices = buildDevices(devicesRequest);

  nlohmann::json resources = buildResources(requested, config.pidsLimit, inputs.host.resources);
  resources["devices"] = devices.cgroupRules;

  std::string cgroupParent =
      inputs.cgroupParent.empty() ? sandbox.linux().cgroup_parent() : inputs.cgroupParent;

  SysctlRequest sysctlRequest;
  sysctlRequest.podSysctls = &sandbox.linux().sysctls();
  sysctlRequest.defaults = config.defaultSysctls;
  sysctlRequest.hostNetwork = namespaces.hostNetwork;
  sysctlRequest.hostIpc = namespaces.hostIpc;

  ProcPaths procPaths = buildProcPaths(sc);

  nlohmann::json linux = {
      {"namespaces", namespaces.namespaces},
      {"resources", resources},
      {"cgroupsPath", buildCgroupsPath(inputs.cgroupManager, cgroupParent, inputs.containerId)},
      {"devices", devices.devices},
      {"maskedPaths", procPaths.masked},
      {"readonlyPaths", procPaths.readonly},
  };
  nlohmann::json sysctls = buildSysctls(sysctlRequest);
  if (!sysctls.empty()) linux["sysctl"] = sysctls;
  if (!mounts.rootfsPropagation.empty()) linux["rootfsPropagation"] = mounts.rootfsPropagation;

  SeccompContext seccompContext;
  seccompContext.capabilities = capabilities;
  seccompContext.machine = inputs.host.machine;
  seccompContext.kernelMajor = inputs.host.kernelMajor;
  seccompContext.kernelMinor = inputs.host.kernelMinor;
  std::optional<nlohmann::json> seccomp =
      chooseSeccomp(seccompSelection(sc), privileged, seccompContext, config.seccompProfile);
  if (seccomp) linux["seccomp"] = *seccomp;

  nlohmann::json spec = {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", inputs.rootfsPath}, {"readonly", readonlyRoot}}},
      {"mounts", mounts.mounts},
      {"annotations", buildAnnotations(inputs)},
      {"linux", linux},
  };
  if (!namespaces.hostUts) spec["hostname"] = hostname;
  return spec;
}

}  // namespace crio::cri::oci
