// The Monitor interface of ipc/conmon.capnp, served to crio-cri: the Cap'n Proto edge of the
// monitor. Every method converts between schema types and Container's, and every failure
// becomes a kj::Exception that carries its crio::Error category.
#pragma once

#include "crio-conmon/container.h"
#include "ipc/conmon.capnp.h"
#include "ipc/daemon-info.h"

namespace crio::conmon {

class MonitorServer final : public ipc::DaemonServer<ipc::schema::Monitor::Server> {
 public:
  MonitorServer(ipc::DaemonInfo info, Container& container);

  kj::Promise<void> state(StateContext context) override;
  kj::Promise<void> waitCreated(WaitCreatedContext context) override;
  kj::Promise<void> start(StartContext context) override;
  kj::Promise<void> kill(KillContext context) override;
  kj::Promise<void> stop(StopContext context) override;
  kj::Promise<void> waitExit(WaitExitContext context) override;
  kj::Promise<void> execSync(ExecSyncContext context) override;
  kj::Promise<void> reopenLog(ReopenLogContext context) override;
  kj::Promise<void> delete_(DeleteContext context) override;

 private:
  Container& container_;
};

void fillContainerState(const ContainerState& state, ipc::schema::ContainerState::Builder out);

}  // namespace crio::conmon
