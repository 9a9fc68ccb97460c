// The mounts of the spec: the container's standard file systems, the pod's files, the image's
// volumes and the request's mounts, sorted so that a parent is mounted before its children.
//
// Standard mounts, the set runc and CRI-O use:
//   - /proc, a tmpfs on /dev, a new devpts instance on /dev/pts, and /dev/mqueue;
//   - /sys and /sys/fs/cgroup, read-only unless the container is privileged;
//   - /dev/shm from the pod (its shared tmpfs, or the host's with host IPC), else a private
//     64 MiB tmpfs;
//   - with [crio.runtime] read_only = true, tmpfs on /run, /tmp and /var/tmp, as CRI-O adds them.
//
// The pod's /etc/resolv.conf, /etc/hostname and /etc/hosts are bind mounts with nodev, nosuid,
// noexec, read-only when the root filesystem is (as CRI-O mounts them). A request mount at the
// same destination replaces any of the mounts above (kubelet mounts its own /etc/hosts).
//
// Request mounts: host_path becomes a recursive bind ("rbind") at container_path with "ro" or
// "rw". Propagation PRIVATE becomes rprivate, HOST_TO_CONTAINER rslave and BIDIRECTIONAL rshared.
// rslave needs the host mount that contains host_path to be shared or a slave, and rshared needs
// it shared. Otherwise the request fails with FAILED_PRECONDITION, as in CRI-O and containerd.
// Any rshared mount makes the root's propagation rshared, else any rslave makes it rslave. A
// missing host_path is created as a folder (mode 0755), as CRI-O and containerd do, because
// kubelet relies on it for hostPath volumes of type DirectoryOrCreate. selinux_relabel is ignored
// because this runtime has no SELinux support. Recursive read-only mounts, idmapped mounts and
// image mounts are UNIMPLEMENTED.
//
// Image volumes (the image's Volumes) follow [crio.image] image_volumes:
//   - "mkdir" creates the folder in the root filesystem, owned by the process user;
//   - "bind" mounts a new folder under the container's folder on the host;
//   - "ignore" does nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/repeated_field.h>
#include <nlohmann/json.hpp>

#include "cri/api.pb.h"
#include "crio-cri/oci/rootfs-files.h"

namespace crio::cri::oci {

// Bound on the request's mounts; kubelet sends one per volume mount of the container.
constexpr size_t MAX_REQUEST_MOUNTS = 1024;
// Bound on the image's volumes.
constexpr size_t MAX_IMAGE_VOLUMES = 256;

// Host files of the pod; "" for a file the pod does not have. For a pod in the host's network
// namespace CRI-O binds the node's /etc/hosts when the request has no /etc/hosts mount: pass
// "/etc/hosts" as `hosts` to do the same.
struct PodFiles {
  std::string resolvConf;
  std::string hostname;
  std::string hosts;
  std::string shm;  // the pod's /dev/shm (a tmpfs, or the host's /dev/shm with host IPC)
};

struct MountsRequest {
  const google::protobuf::RepeatedPtrField<runtime::v1::Mount>* mounts = nullptr;
  PodFiles podFiles;
  bool privileged = false;
  bool readonlyRootfs = false;  // the spec's root.readonly
  bool readOnlyTmpfs = false;   // [crio.runtime] read_only: tmpfs on /run, /tmp, /var/tmp
  std::vector<std::string> imageVolumes;
  std::string imageVolumesMode = "mkdir";  // [crio.image] image_volumes
  uint32_t uid = 0;                        // owner of folders made by "mkdir"
  uint32_t gid = 0;
  const RootfsFiles* rootfs = nullptr;  // for "mkdir"
  std::string containerDir;             // host folder of the container, for "bind"
  std::string mountInfoPath = "/proc/self/mountinfo";
};

struct MountsResult {
  nlohmann::json mounts;          // the spec's mounts list
  std::string rootfsPropagation;  // linux.rootfsPropagation, "" to leave it unset
};

// Builds the mounts. Creates missing host paths and image volume folders on the way. Throws
// INVALID_ARGUMENT naming mounts[i] and the field for a malformed mount, FAILED_PRECONDITION for
// a propagation the host mount does not allow, UNIMPLEMENTED for an unsupported kind.
MountsResult buildMounts(const MountsRequest& request);

}  // namespace crio::cri::oci
