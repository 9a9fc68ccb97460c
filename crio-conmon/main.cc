// crio-conmon: the monitor of one container. It will outlive crio-cri restarts; crio-cri reaches
// it on its socket.
#include <kj/async-io.h>
#include <unistd.h>

#include <iostream>

#include "common/daemon.h"
#include "common/log.h"
#include "ipc/conmon.capnp.h"
#include "ipc/daemon-info.h"
#include "ipc/serve.h"
#include "ipc/server.h"
#include "ipc/unix-socket.h"

namespace crio::conmon {
namespace {

constexpr const char* NAME = "crio-conmon";

class MonitorServer final : public ipc::DaemonServer<ipc::schema::Monitor::Server> {
 public:
  using DaemonServer::DaemonServer;
};

int run(int argc, char** argv) {
  CLI::App app{"crio-conmon: monitor of one container of the crio suite"};
  DaemonFlags flags;
  addCommonFlags(app, flags);
  std::string socketPath, containerId;
  app.add_option("--socket", socketPath, "Socket to serve the monitor API on")->required();
  app.add_option("--container-id", containerId, "Id of the container this monitor runs");
  CLI11_PARSE(app, argc, argv);

  log::setup(NAME, log::Level::INFO);
  LoadedConfig loaded = loadDaemonConfig(flags);
  Config& config = loaded.config;
  if (flags.printConfig) {
    std::cout << renderConfig(config);
    return 0;
  }

  ipc::captureDaemonSignals();
  makeDirectories(socketPath.substr(0, socketPath.rfind('/')), 0700);
  bool activated = false;
  int listenFd = ipc::listenUnixSocket(socketPath, 0600, "monitor", &activated);

  auto io = kj::setupAsyncIo();
  auto info = ipc::currentDaemonInfo(NAME, false);
  std::vector<uid_t> allowed(config.allowedPeerUids.begin(), config.allowedPeerUids.end());
  ipc::Server server(*io.lowLevelProvider, io.unixEventPort, listenFd,
                     kj::heap<MonitorServer>(info), allowed, socketPath);
  log::info("serving", {{"socket", socketPath}, {"container", containerId}});
  ipc::serveUntilTerminated(io, server, "Monitoring " + containerId, []() {});
  if (!activated) unlink(socketPath.c_str());
  return 0;
}

}  // namespace
}  // namespace crio::conmon

int main(int argc, char** argv) {
  try {
    return crio::conmon::run(argc, argv);
  } catch (const std::exception& e) {
    crio::log::write(crio::log::Level::FATAL, "crio-conmon cannot start", {{"error", e.what()}});
    return 1;
  }
}
