// The OCI runtime spec (config.json, runtime-spec 1.0.2) of a container: the translation of a CRI
// CreateContainer request and the image's configuration, for runc or crun.
//
// The sections come from one module each: process (arguments, environment, working folder,
// rlimits), process-user, capabilities, seccomp, mounts, masked-paths, resources, devices,
// sysctls and namespaces. docs/oci-spec.md describes the rules and where they follow CRI-O or
// containerd.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "cri/api.pb.h"
#include "crio-cri/oci/host-facts.h"
#include "crio-cri/oci/mounts.h"
#include "crio-cri/oci/namespaces.h"
#include "crio-cri/oci/rootfs-files.h"

namespace crio::cri::oci {

// Prefix of the annotations this runtime writes into the spec.
constexpr const char* ANNOTATION_PREFIX = "io.crio-suite.";
// Bound on the annotations copied from the request, keys and values together: Kubernetes' own
// limit on an object's annotations.
constexpr size_t MAX_ANNOTATION_BYTES = 256 << 10;

struct ContainerSpecInputs {
  std::string containerId;  // [A-Za-z0-9_.-], up to 128 bytes
  std::string sandboxId;
  const runtime::v1::ContainerConfig* container = nullptr;
  const runtime::v1::PodSandboxConfig* sandbox = nullptr;
  // The image's configuration document (or its "config" object); null for none.
  nlohmann::json imageConfig;

  std::string rootfsPath;               // the mounted root filesystem
  const RootfsFiles* rootfs = nullptr;  // access to it; nullptr reads rootfsPath directly
  std::string containerDir;             // host folder of the container (image volumes "bind")

  PodNamespacePaths namespaces;
  PodFiles podFiles;
  std::string cgroupParent;   // "" takes the sandbox's linux.cgroup_parent
  std::string cgroupManager;  // "cgroupfs" or "systemd"

  const Config* config = nullptr;             // the effective configuration
  bool privilegedWithoutHostDevices = false;  // the runtime handler's setting
  HostFacts host;
};

// Builds config.json. Creates what the spec refers to and that must exist first: missing host
// folders of bind mounts and the folders of image volumes. Throws crio::Error:
// INVALID_ARGUMENT naming the request field and value, FAILED_PRECONDITION when the node does not
// allow what is asked (propagation, cgroup v2 settings), UNIMPLEMENTED for what this runtime does
// not support (user namespaces, image and idmapped mounts, recursive read-only mounts).
nlohmann::json buildContainerSpec(const ContainerSpecInputs& inputs);

}  // namespace crio::cri::oci
