#include "ipc/daemon-info.h"

#include <unistd.h>

#include <chrono>

#include "common/capabilities.h"
#include "common/version.h"

namespace crio::ipc {

DaemonInfo currentDaemonInfo(const std::string& name, bool seccomp) {
  DaemonInfo info;
  info.name = name;
  info.version = CRIO_VERSION;
  info.pid = static_cast<uint32_t>(getpid());
  info.startedAt = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  info.capabilities = effectiveCapabilities();
  info.seccomp = seccomp ? "filter" : "disabled";
  return info;
}

void fillDaemonInfo(const DaemonInfo& info, schema::DaemonInfo::Builder builder) {
  builder.setName(info.name);
  builder.setVersion(info.version);
  builder.setPid(info.pid);
  builder.setStartedAt(info.startedAt);
  builder.setCapabilities(info.capabilities);
  builder.setSeccomp(info.seccomp);
}

DaemonInfo readDaemonInfo(schema::DaemonInfo::Reader reader) {
  DaemonInfo info;
  info.name = reader.getName();
  info.version = reader.getVersion();
  info.pid = reader.getPid();
  info.startedAt = reader.getStartedAt();
  info.capabilities = reader.getCapabilities();
  info.seccomp = reader.getSeccomp();
  return info;
}

}  // namespace crio::ipc
