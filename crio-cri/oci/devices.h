// Device nodes of the container (linux.devices) and the device cgroup rules
// (linux.resources.devices).
//
// Every container gets the cgroup rules Docker and containerd give. They deny everything, then
// allow creating any node (c *:* m, b *:* m), which still needs CAP_MKNOD. They then allow
// reading and writing /dev/null, zero, full, random, urandom, tty, ptmx and the pty slaves
// (/dev/pts/*). runc creates those standard nodes itself.
//
// A request Device (host_path, container_path, permissions "rwm") adds the host's node, with the
// host's type, major, minor, mode and owner, at container_path (host_path when empty) and a
// cgroup rule with those permissions ("rwm" when empty). A folder as host_path adds every device
// node below it, as CRI-O and containerd do. [crio.runtime] additional_devices
// ("HOST[:CONTAINER[:PERMISSIONS]]") are added to every container the same way.
//
// A privileged container gets every device node of the host's /dev and a rule allowing all
// devices, as in CRI-O and containerd. The pty, shm, mqueue and fd folders and /dev/console are
// left out because runc provides them. The runtime handler's privileged_without_host_devices
// turns both off.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <google/protobuf/repeated_field.h>
#include <nlohmann/json.hpp>

#include "cri/api.pb.h"

namespace crio::cri::oci {

// Bound on the device nodes added for one container (a privileged container gets all of the
// host's).
constexpr size_t MAX_DEVICES = 16384;
// Bound on folder depth below a device folder.
constexpr int MAX_DEVICE_FOLDER_DEPTH = 8;

struct DevicesRequest {
  const google::protobuf::RepeatedPtrField<runtime::v1::Device>* devices = nullptr;
  std::vector<std::string> additionalDevices;  // [crio.runtime] additional_devices
  bool privileged = false;
  bool privilegedWithoutHostDevices = false;  // the runtime handler's setting
  std::string hostDevices = "/dev";           // the host's device folder
};

struct DevicesResult {
  nlohmann::json devices;      // linux.devices
  nlohmann::json cgroupRules;  // linux.resources.devices
};

// Throws INVALID_ARGUMENT naming devices[i] and the field for a malformed device, NOT_FOUND for a
// missing host_path, RESOURCE_EXHAUSTED past MAX_DEVICES.
DevicesResult buildDevices(const DevicesRequest& request);

}  // namespace crio::cri::oci
