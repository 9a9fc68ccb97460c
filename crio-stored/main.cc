// crio-stored: the layer and image store of the suite. Keeps file-owner capabilities and no
// network address family; its only clients are crio-cri and the container monitors.
#include <kj/async-io.h>

#include <iostream>

#include "common/daemon.h"
#include "common/log.h"
#include "ipc/daemon-info.h"
#include "ipc/serve.h"
#include "ipc/server.h"
#include "ipc/stored.capnp.h"
#include "ipc/unix-socket.h"

namespace crio::stored {
namespace {

constexpr const char* NAME = "crio-stored";

class StoredServer final : public ipc::DaemonServer<ipc::schema::Stored::Server> {
 public:
  using DaemonServer::DaemonServer;
};

RolePrivileges role() {
  RolePrivileges r;
  // FSETID keeps setgid bits of layer files whose group the daemon is not in.
  r.capabilities = {"CHOWN", "FOWNER", "DAC_OVERRIDE", "MKNOD", "SETFCAP", "FSETID"};
  r.syscalls = {SyscallGroup::FILE_OWNERS};
  return r;
}

int run(int argc, char** argv) {
  CLI::App app{"crio-stored: layer and image storage of the crio suite"};
  DaemonFlags flags;
  addCommonFlags(app, flags);
  std::string socketPath, storageDir;
  app.add_option("--listen", socketPath, "Socket to serve on ([crio.suite] stored_socket)");
  app.add_option("--storage-dir", storageDir, "Storage root ([crio] root)");
  CLI11_PARSE(app, argc, argv);

  log::setup(NAME, log::Level::INFO);
  LoadedConfig loaded = loadDaemonConfig(flags);
  Config& config = loaded.config;
  if (!socketPath.empty()) config.storedSocket = socketPath;
  if (!storageDir.empty()) config.storageRoot = storageDir;
  if (flags.printConfig) {
    std::cout << renderConfig(config);
    return 0;
  }

  ipc::captureDaemonSignals();
  makeDirectories(config.storageRoot, 0700);
  makeDirectories(config.storedSocket.substr(0, config.storedSocket.rfind('/')), 0755);
  bool activated = false;
  int listenFd = ipc::listenUnixSocket(config.storedSocket, 0600, "stored", &activated);

  enterRole(NAME, role(), config.selfSeccomp && !flags.noSeccomp);

  auto io = kj::setupAsyncIo();
  auto info = ipc::currentDaemonInfo(NAME, config.selfSeccomp && !flags.noSeccomp);
  std::vector<uid_t> allowed(config.allowedPeerUids.begin(), config.allowedPeerUids.end());
  ipc::Server server(*io.lowLevelProvider, io.unixEventPort, listenFd, kj::heap<StoredServer>(info),
                     allowed, config.storedSocket);
  log::info("serving", {{"socket", config.storedSocket}, {"storage", config.storageRoot}});
  ipc::serveUntilTerminated(io, server, "Serving on " + config.storedSocket, [&flags]() {
    loadDaemonConfig(flags);
    log::info("configuration reloaded");
  });
  if (!activated) unlink(config.storedSocket.c_str());
  return 0;
}

}  // namespace
}  // namespace crio::stored

int main(int argc, char** argv) {
  try {
    return crio::stored::run(argc, argv);
  } catch (const std::exception& e) {
    crio::log::write(crio::log::Level::FATAL, "crio-stored cannot start", {{"error", e.what()}});
    return 1;
  }
}
