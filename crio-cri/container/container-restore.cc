// Restoring containers when crio-cri starts, and cleaning up after a create that crio-cri did
// not finish because it was killed.
#include <filesystem>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "common/overlay-mount.h"
#include "crio-conmon/exit-record.h"
#include "crio-cri/container/container-runtime.h"
#include "crio-cri/container/container-support.h"
#include "crio-cri/state/state-file.h"
#include "ipc/stored.capnp.h"

namespace crio::cri {

namespace fs = std::filesystem;

namespace {

// How long the cleanup of an interrupted create waits for crio-stored to be reachable.
constexpr auto STORED_WAIT = 30 * kj::SECONDS;

// Removes what an interrupted create left: a bundle without a record means the create stopped
// after making the bundle and before writing the record. This ends the monitor, unmounts the
// root filesystem, and removes the bundle, the exit record and the layer.
void removeLeftover(Daemon& daemon, const std::string& id) {
  Config settings = daemon.config();
  Container c;
  c.id = id;
  c.bundleDir = settings.runRoot + "/containers/" + id;
  c.rootfsDir = c.bundleDir + "/rootfs";
  c.exitDir = settings.containerExitsDir;
  c.monitorSocket = monitorSocketPath(settings, id);
  log::warn("removing the leftovers of an interrupted create", {{"container", id}});

  endMonitor(daemon, c);
  unmountOverlay(c.rootfsDir);
  fs::remove_all(c.bundleDir);
  std::error_code ec;
  fs::remove(conmon::exitRecordPath(c.exitDir, id), ec);

  daemon.loop().run([&]() { return daemon.stored().whenConnected(STORED_WAIT); });
  removeStoredLayer(daemon, id);
}

}  // namespace

void restoreContainers(Daemon& daemon) {
  std::string dir = daemon.containerStateDir();
  fs::create_directories(dir);
  std::vector<std::string> ids;
  for (const auto& path : listStateFiles(dir)) {
    try {
      Container c = containerFromJson(readStateFile(path));
      daemon.containers().add(c.id, c);
      ids.push_back(c.id);
    } catch (const std::exception& e) {
      log::error("cannot restore a container record", {{"file", path}, {"error", e.what()}});
    }
  }
  for (const auto& id : ids)
    syncContainer(daemon, id);
  log::info("restored containers", {{"count", ids.size()}});

  std::set<std::string> recorded(ids.begin(), ids.end());
  std::string bundles = daemon.config().runRoot + "/containers";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(bundles, ec)) {
    std::string id = entry.path().filename().string();
    if (recorded.count(id) != 0) continue;
    // crio-stored may come up after crio-cri: the cleanup waits for it off the start path.
    daemon.workers().submit([&daemon, id]() {
      try {
        removeLeftover(daemon, id);
      } catch (const std::exception& e) {
        log::error("cannot remove the leftovers of an interrupted create",
                   {{"container", id}, {"error", e.what()}});
      }
    });
  }
}

}  // namespace crio::cri
