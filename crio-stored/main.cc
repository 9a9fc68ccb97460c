// crio-stored: the layer and image store of the suite. Keeps file-owner capabilities and no
// network address family; its only clients are crio-cri and the container monitors.
#include <kj/async-io.h>
#include <sys/resource.h>

#include <clocale>
#include <iostream>

#include "common/daemon.h"
#include "common/log.h"
#include "common/worker-pool.h"
#include "crio-stored/image-store.h"
#include "crio-stored/layer-store.h"
#include "crio-stored/stored-server.h"
#include "ipc/daemon-info.h"
#include "ipc/serve.h"
#include "ipc/server.h"
#include "ipc/unix-socket.h"

namespace crio::stored {
namespace {

constexpr const char* NAME = "crio-stored";

// Layers unpacked at once; further imports queue.
constexpr unsigned IMPORT_THREADS = 4;
// Metadata calls, removals and usage walks.
constexpr unsigned METADATA_THREADS = 2;

RolePrivileges role() {
  RolePrivileges r;
  // FSETID: without it, chmod silently drops the setgid bit of a file whose group the daemon is
  // not in (measured with tests/integration/stored-test.cc: "setgid lost"), and layers must keep
  // it.
  r.capabilities = {"CHOWN", "FOWNER", "DAC_OVERRIDE", "MKNOD", "SETFCAP", "FSETID"};
  r.syscalls = {SyscallGroup::FILE_OWNERS};
  return r;
}

// Walking a layer holds a descriptor per directory level (fs-tree.h): use the hard limit.
void raiseFileLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int run(int argc, char** argv) {
  CLI::App app{"crio-stored: layer and image storage of the crio suite"};
  DaemonFlags flags;
  addCommonFlags(app, flags);
  std::string socketPath, storageDir;
  app.add_option("--listen", socketPath, "Socket to serve on ([crio.suite] stored_socket)");
  app.add_option("--storage-dir", storageDir, "Storage root ([crio] root)");
  CLI11_PARSE(app, argc, argv);

  // pax archives carry names in UTF-8, which libarchive converts to the locale's charset: with a
  // UTF-8 locale the bytes stay as they are (in "C" they stay too, with a warning).
  setlocale(LC_CTYPE, "C.UTF-8");
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
  raiseFileLimit();
  makeDirectories(config.storageRoot, 0700);
  makeDirectories(config.storedSocket.substr(0, config.storedSocket.rfind('/')), 0755);
  bool activated = false;
  int listenFd = ipc::listenUnixSocket(config.storedSocket, 0600, "stored", &activated);

  bool seccomp = config.selfSeccomp && !flags.noSeccomp;
  enterRole(NAME, role(), seccomp);

  // Everything below runs with the role's privileges and under the seccomp filter.
  auto io = kj::setupAsyncIo();
  ImageStore images(config.storageRoot + "/" + DATABASE_FILE);
  LayerStore layers(config.storageRoot, images);
  layers.recover();
  ContainerLayers containers(config.storageRoot, images, layers);
  containers.recover();
  WorkerPool importPool(IMPORT_THREADS);
  WorkerPool metadataPool(METADATA_THREADS);

  auto info = ipc::currentDaemonInfo(NAME, seccomp);
  std::vector<uid_t> allowed(config.allowedPeerUids.begin(), config.allowedPeerUids.end());
  ipc::Server server(
      *io.lowLevelProvider, io.unixEventPort, listenFd,
      kj::heap<StoredServer>(info, images, layers, importPool, metadataPool, containers), allowed,
      config.storedSocket);
  log::info("serving", {{"socket", config.storedSocket}, {"storage", config.storageRoot}});
  ipc::serveUntilTerminated(io, server, "Serving on " + config.storedSocket, [&flags]() {
    loadDaemonConfig(flags);
    log::info("configuration reloaded");
  });
  // Running unpacks stop at their next entry; their staging directories go at the next start.
  layers.stop();
  if (!activated) ipc::removeOwnSocket(config.storedSocket);
  return 0;
}

}  // namespace
}  // namespace crio::stored

int main(int argc, char** argv) {
  try {
    return crio::stored::run(argc, argv);
  } catch (const std::exception& e) {
    crio::ipc::removeOwnSockets();
    crio::log::write(crio::log::Level::FATAL, "crio-stored cannot start", {{"error", e.what()}});
    return 1;
  }
}
