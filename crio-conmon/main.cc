// crio-conmon: the monitor of one container. It runs the OCI runtime for its container, keeps
// the container's stdio open, writes the CRI log and records the exit. It serves the Monitor
// interface (ipc/conmon.capnp) to crio-cri, which may restart and reconnect at any time.
//
// Privileges: the monitor keeps what it was started with and installs no seccomp filter and no
// no_new_privs. The runtime it executes inherits the capability bounding set, seccomp filters
// and no_new_privs across execve, and the container's limits are built on top of them, so any
// restriction here would also restrict every container.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <optional>

#include "common/daemon.h"
#include "common/log.h"
#include "crio-conmon/child-reaper.h"
#include "crio-conmon/container-field.h"
#include "crio-conmon/container.h"
#include "crio-conmon/monitor-server.h"
#include "crio-conmon/options.h"
#include "crio-conmon/orphan-cleanup.h"
#include "crio-conmon/spawn.h"
#include "ipc/daemon-info.h"
#include "ipc/serve.h"
#include "ipc/server.h"
#include "ipc/unix-socket.h"

namespace crio::conmon {
namespace {

constexpr const char* NAME = "crio-conmon";
// The OOM killer then picks the monitor last (oom_score_adj ranges from -1000 to 1000).
constexpr int MONITOR_OOM_SCORE_ADJ = -1000;

std::optional<int> readOomScoreAdj() {
  std::ifstream in("/proc/self/oom_score_adj");
  int value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

// Lowers the monitor's own oom_score_adj. Returns the value its children must get back, or
// nullopt when nothing changed. Lowering needs CAP_SYS_RESOURCE; without it the monitor keeps its
// score, and the runtime is never given a score below its caller's.
std::optional<int> protectFromOomKiller() {
  auto original = readOomScoreAdj();
  if (!original || *original <= MONITOR_OOM_SCORE_ADJ) return std::nullopt;
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text = std::to_string(MONITOR_OOM_SCORE_ADJ);
  bool lowered = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int err = errno;
  close(fd);
  if (!lowered) {
    log::debug("cannot lower the monitor's oom_score_adj",
               {containerField(), {"error", strerror(err)}});
    return std::nullopt;
  }
  return original;
}

void signalReady(int fd) {
  if (fd < 0) return;
  std::string line = std::to_string(getpid()) + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    log::warn("writing to --ready-fd failed", {containerField(), {"fd", fd}});
  }
  close(fd);
}

int run(int argc, char** argv) {
  ensureStdioOpen();
  // Nothing the launcher leaked may reach the runtime or the container.
  markInheritedFdsCloseOnExec();

  CLI::App app{"crio-conmon: monitor of one container of the crio suite"};
  DaemonFlags flags;
  addCommonFlags(app, flags);
  MonitorOptions options;
  addMonitorFlags(app, options);
  CLI11_PARSE(app, argc, argv);

  log::setup(NAME, log::Level::INFO);
  LoadedConfig loaded = loadDaemonConfig(flags);
  if (flags.printConfig) {
    std::cout << renderConfig(loaded.config);
    return 0;
  }
  validateMonitorOptions(options);
  setLoggedContainerId(options.containerId);
  if (options.cleanup) return runOrphanCleanup(options);

  // Launchers start monitors in a session of their own. One that did not would share its
  // terminal and process group, whose signals (Ctrl-C, hangup) must not reach the monitor. This
  // fails harmlessly (EPERM) when the monitor leads its process group.
  if (getsid(0) != getpid()) setsid();
  // The monitor must not keep a mount busy through its working folder.
  if (chdir("/") != 0) failSyscall("chdir", "/");
  // The container's init, reparented when `runtime create` exits, becomes the monitor's child.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) failSyscall("prctl PR_SET_CHILD_SUBREAPER");
  std::optional<int> childOomScoreAdj = protectFromOomKiller();

  ipc::captureDaemonSignals();
  kj::UnixEventPort::captureSignal(SIGCHLD);
  std::string socketDir = options.socketPath.substr(0, options.socketPath.rfind('/'));
  makeDirectories(socketDir, 0700);
  bool activated = false;
  int listenFd = ipc::listenUnixSocket(options.socketPath, 0600, "monitor", &activated);
  signalReady(options.readyFd);

  auto io = kj::setupAsyncIo();
  auto& timer = io.provider->getTimer();
  ChildReaper reaper(io.unixEventPort);
  Container container(options, io.unixEventPort, timer, reaper, childOomScoreAdj);
  container.create();

  auto info = ipc::currentDaemonInfo(NAME, false);
  std::vector<uid_t> allowed(loaded.config.allowedPeerUids.begin(),
                             loaded.config.allowedPeerUids.end());
  ipc::Server server(*io.lowLevelProvider, io.unixEventPort, listenFd,
                     kj::heap<MonitorServer>(info, container), allowed, options.socketPath);
  log::info("serving", {containerField(), {"socket", options.socketPath}});
  ipc::serveUntilTerminated(
      io, server, "Monitoring " + options.containerId,
      []() { log::info("SIGHUP ignored: the monitor has no configuration to reload"); },
      container.whenDone());

  // On SIGTERM or SIGINT the container keeps running: only the monitor ends.
  container.recordPendingExit();
  if (!activated) ipc::removeOwnSocket(options.socketPath);
  log::info(
      "monitor ends",
      {containerField(), {"container_status", std::string(statusName(container.state().status))}});
  return 0;
}

}  // namespace
}  // namespace crio::conmon

int main(int argc, char** argv) {
  try {
    return crio::conmon::run(argc, argv);
  } catch (const std::exception& e) {
    crio::ipc::removeOwnSockets();
    crio::log::write(crio::log::Level::FATAL, "crio-conmon cannot start",
                     {crio::conmon::containerField(), {"error", e.what()}});
    return 1;
  }
}
