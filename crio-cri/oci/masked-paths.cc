#include "crio-cri/oci/masked-paths.h"

#include "crio-cri/oci/container-path.h"

namespace crio::cri::oci {

namespace {

std::vector<std::string> cleanList(const google::protobuf::RepeatedPtrField<std::string>& paths,
                                   const std::string& field) {
  std::vector<std::string> clean;
  for (int i = 0; i < paths.size(); i++) {
    clean.push_back(cleanContainerPath(paths.Get(i), field + "[" + std::to_string(i) + "]"));
  }
  return clean;
}

}  // namespace

ProcPaths defaultProcPaths() {
  return {
      {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
       "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
       "/sys/devices/virtual/powercap"},
      {"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
  };
}

ProcPaths buildProcPaths(const runtime::v1::LinuxContainerSecurityContext& securityContext) {
  if (securityContext.privileged()) return {};

  ProcPaths paths = defaultProcPaths();
  if (securityContext.masked_paths_size() > 0) {
    paths.masked = cleanList(securityContext.masked_paths(), "masked_paths");
  }
  if (securityContext.readonly_paths_size() > 0) {
    paths.readonly = cleanList(securityContext.readonly_paths(), "readonly_paths");
  }
  return paths;
}

}  // namespace crio::cri::oci
