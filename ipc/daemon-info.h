// The Daemon.info answer every IPC server gives: name, version, pid, start time, privileges.
#pragma once

#include <string>

#include "ipc/daemon.capnp.h"

namespace crio::ipc {

struct DaemonInfo {
  std::string name;
  std::string version;
  uint32_t pid = 0;
  int64_t startedAt = 0;  // nanoseconds since the Unix epoch
  std::string capabilities;
  std::string seccomp;
};

// Describes the calling process now; `seccomp` is what the daemon installed.
DaemonInfo currentDaemonInfo(const std::string& name, bool seccomp);

void fillDaemonInfo(const DaemonInfo& info, schema::DaemonInfo::Builder builder);
DaemonInfo readDaemonInfo(schema::DaemonInfo::Reader reader);

// Implements Daemon.info for any server interface that extends Daemon.
template <typename Server>
class DaemonServer : public Server {
 public:
  explicit DaemonServer(DaemonInfo info) : info_(std::move(info)) {}

  kj::Promise<void> info(typename Server::InfoContext context) override {
    fillDaemonInfo(info_, context.getResults().initInfo());
    return kj::READY_NOW;
  }

 protected:
  DaemonInfo info_;
};

}  // namespace crio::ipc
