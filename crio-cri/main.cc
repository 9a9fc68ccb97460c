// crio-cri: serves the CRI (runtime.v1 RuntimeService and ImageService) on a unix socket for the
// kubelet and crictl, and drives crio-imaged, crio-stored and the per-container monitors over
// Cap'n Proto.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "common/daemon.h"
#include "common/log.h"
#include "common/systemd-notify.h"
#include "common/version.h"
#include "crio-cri/container/container-runtime.h"
#include "crio-cri/container/container-support.h"
#include "crio-cri/cri-socket.h"
#include "crio-cri/daemon.h"
#include "crio-cri/rpc/image-service.h"
#include "crio-cri/rpc/runtime-service.h"
#include "crio-cri/sandbox/pod-lifecycle.h"
#include "ipc/unix-socket.h"

namespace crio::cri {
namespace {

constexpr const char* NAME = "crio-cri";

// Without systemd, monitors and CNI plugins are children of crio-cri and inherit what it keeps.
RolePrivileges role() {
  RolePrivileges r;
  r.capabilities = {
      "NET_ADMIN", "NET_RAW", "SYS_ADMIN",    "SYS_PTRACE",      "SYS_CHROOT",       "KILL",
      "CHOWN",     "FOWNER",  "DAC_OVERRIDE", "DAC_READ_SEARCH", "SETUID",           "SETGID",
      "SETPCAP",   "MKNOD",   "FSETID",       "SYS_RESOURCE",    "NET_BIND_SERVICE", "AUDIT_WRITE",
      "SETFCAP",   "SYS_NICE"};
  r.syscalls = {SyscallGroup::NETWORK,    SyscallGroup::SPAWN,       SyscallGroup::MOUNT,
                SyscallGroup::NAMESPACES, SyscallGroup::FILE_OWNERS, SyscallGroup::PROCESS_IDS};
  // Containers may run setuid programs, so nothing started from here may carry no_new_privs.
  r.noNewPrivileges = false;
  return r;
}

int waitForTermination(Daemon& daemon, const DaemonFlags& flags) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  // With the systemd watchdog on, wake up at its ping interval; otherwise wait for signals only.
  auto ping = systemd::watchdogPingInterval();
  while (true) {
    siginfo_t info;
    int sig;
    if (ping) {
      struct timespec timeout = {static_cast<time_t>(ping->count() / 1000),
                                 static_cast<long>(ping->count() % 1000) * 1000000};
      sig = sigtimedwait(&set, &info, &timeout);
      systemd::notifyWatchdog();
    } else {
      sig = sigwaitinfo(&set, &info);
    }
    if (sig < 0) continue;
    if (sig == SIGHUP) {
      systemd::notifyReloading();
      try {
        LoadedConfig fresh = loadDaemonConfig(flags);
        daemon.reload(fresh.config);
        log::info("configuration reloaded");
      } catch (const std::exception& e) {
        log::error("reload failed; keeping the previous configuration", {{"error", e.what()}});
      }
      systemd::notifyReady("Reloaded");
      continue;
    }
    log::info("shutting down", {{"signal", strsignal(sig)}});
    return sig;
  }
}

int run(int argc, char** argv) {
  CLI::App app{"crio-cri: CRI server of the crio suite"};
  DaemonFlags flags;
  addCommonFlags(app, flags);
  std::string listen, imagedSocket, storedSocket, stateDir;
  app.add_option("--listen", listen, "CRI socket ([crio.api] listen)");
  app.add_option("--imaged-socket", imagedSocket, "crio-imaged's socket ([crio.suite])");
  app.add_option("--stored-socket", storedSocket, "crio-stored's socket ([crio.suite])");
  app.add_option("--state-dir", stateDir, "Pods and containers ([crio.suite] state_dir)");
  CLI11_PARSE(app, argc, argv);

  log::setup(NAME, log::Level::INFO);
  LoadedConfig loaded = loadDaemonConfig(flags);
  Config& config = loaded.config;
  if (!listen.empty()) config.listen = listen;
  if (!imagedSocket.empty()) config.imagedSocket = imagedSocket;
  if (!storedSocket.empty()) config.storedSocket = storedSocket;
  if (!stateDir.empty()) config.stateDir = stateDir;
  for (const auto& [flag, value] : {std::pair{"--listen", &listen},
                                    std::pair{"--imaged-socket", &imagedSocket},
                                    std::pair{"--stored-socket", &storedSocket},
                                    std::pair{"--state-dir", &stateDir}}) {
    if (!value->empty() && (value->front() != '/' || value->find('\0') != std::string::npos)) {
      std::cerr << "crio-cri: " << flag << " " << *value << ": must be an absolute path\n";
      return 2;
    }
  }
  if (flags.printConfig) {
    std::cout << renderConfig(config);
    return 0;
  }

  // Before any thread exists: signals go to sigwaitinfo, and capabilities are per thread.
  blockTerminationSignals();
  signal(SIGPIPE, SIG_IGN);
  makeDirectories(config.stateDir, 0700);
  makeDirectories(config.listen.substr(0, config.listen.rfind('/')), 0755);
  CriSocket socket(config.listen);
  // Forked before the drop: monitors and containers must not inherit crio-cri's restrictions.
  MonitorLauncher launcher = MonitorLauncher::start(monitorPrograms(config));
  hostFacts();  // records the capability bounding set monitors and runtimes inherit
  enterRole(NAME, role(), config.selfSeccomp && !flags.noSeccomp);

  Daemon daemon(config, std::move(launcher));
  restorePods(daemon);
  daemon.start();
  daemon.startMonitors([&daemon](const std::string& id) { syncContainer(daemon, id); });
  daemon.stopPodContainers = [&daemon](const std::string& podId) {
    stopPodContainers(daemon, podId, POD_STOP_CONTAINER_TIMEOUT_SECONDS);
  };
  daemon.removePodContainers = [&daemon](const std::string& podId) {
    removePodContainers(daemon, podId);
  };
  restoreContainers(daemon);

  RuntimeService runtimeService(daemon);
  ImageService imageService(daemon);
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.grpcMaxRecvMsgSize));
  builder.SetMaxSendMessageSize(static_cast<int>(config.grpcMaxSendMsgSize));
  builder.RegisterService(&runtimeService);
  builder.RegisterService(&imageService);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) fail(ErrorCategory::INTERNAL, "the gRPC server did not start");
  socket.serve(*server);

  log::info("serving CRI", {{"socket", config.listen},
                            {"cgroup_manager", effectiveCgroupManager(config)},
                            {"version", CRIO_VERSION}});
  systemd::notifyReady("Serving CRI on " + config.listen);

  waitForTermination(daemon, flags);
  systemd::notifyStopping();
  socket.close();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}

}  // namespace
}  // namespace crio::cri

int main(int argc, char** argv) {
  try {
    return crio::cri::run(argc, argv);
  } catch (const std::exception& e) {
    crio::ipc::removeOwnSockets();
    crio::log::write(crio::log::Level::FATAL, "crio-cri cannot start", {{"error", e.what()}});
    return 1;
  }
}
