#include "crio-cri/daemon.h"

#include <pwd.h>

#include <filesystem>

#include "common/log.h"
#include "crio-cri/container/monitor-client.h"

namespace crio::cri {

namespace {

std::vector<uid_t> allowedUids(const Config& config) {
  return std::vector<uid_t>(config.allowedPeerUids.begin(), config.allowedPeerUids.end());
}

// crio-imaged runs as its own unprivileged user; its uid is a legitimate owner of its socket.
std::vector<uid_t> imagedUids(const Config& config) {
  auto uids = allowedUids(config);
  if (struct passwd* pw = getpwnam(config.imagedUser.c_str())) uids.push_back(pw->pw_uid);
  return uids;
}

}  // namespace

std::string podInitProgram() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "/usr/bin/crio-pod-init" : (self.parent_path() / "crio-pod-init").string();
}

std::vector<std::string> monitorPrograms(const Config& config) {
  std::vector<std::string> programs;
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::string beside = ec ? "/usr/bin/crio-conmon"
                          : (self.parent_path().parent_path() / "crio-conmon/crio-conmon").string();
  // An installed crio-cri has crio-conmon in the same folder; a build tree has it one folder over.
  std::string installed = ec ? "" : (self.parent_path() / "crio-conmon").string();
  if (!installed.empty() && std::filesystem::exists(installed)) beside = installed;
  programs.push_back(beside);
  for (const auto& [name, handler] : config.runtimes) {
    if (!handler.monitorPath.empty()) programs.push_back(handler.monitorPath);
  }
  return programs;
}

Daemon::Daemon(Config config, MonitorLauncher launcher)
    : config_(std::move(config)),
      launcher_(std::move(launcher)),
      loop_(std::make_unique<ipc::LoopThread>()),
      workers_(std::make_unique<WorkerPool>(WORKER_THREADS)) {}

Daemon::~Daemon() {
  // Monitor events go to the workers: none are queued once stopping.
  stopping_ = true;
  workers_.reset();
  loop_->run([this]() {
    monitors_ = nullptr;
    imaged_ = nullptr;
    stored_ = nullptr;
  });
  loop_.reset();
}

void Daemon::start() {
  Config c = config();
  loop_->run([this, &c]() {
    auto& io = loop_->io();
    imaged_ = kj::heap<ipc::Peer>(io, "crio-imaged", c.imagedSocket, imagedUids(c));
    stored_ = kj::heap<ipc::Peer>(io, "crio-stored", c.storedSocket, allowedUids(c));
    imaged_->start();
    stored_->start();
  });
}

void Daemon::startMonitors(std::function<void(const std::string&)> onEvent) {
  Config c = config();
  loop_->run([this, &c, onEvent = std::move(onEvent)]() mutable {
    monitors_ = kj::heap<MonitorConnections>(loop_->io(), allowedUids(c),
                                             [this, onEvent](const std::string& id) {
                                               if (!stopping_)
                                                 workers_->submit([onEvent, id]() { onEvent(id); });
                                             });
  });
}

Config Daemon::config() const {
  std::lock_guard<std::mutex> lock(configMutex_);
  return config_;
}

void Daemon::reload(const Config& fresh) {
  std::lock_guard<std::mutex> lock(configMutex_);
  // Only settings that are read per call change; sockets and folders need a restart.
  config_.logLevel = fresh.logLevel;
  config_.pinnedImages = fresh.pinnedImages;
  config_.pauseImage = fresh.pauseImage;
  config_.defaultCapabilities = fresh.defaultCapabilities;
  config_.defaultSysctls = fresh.defaultSysctls;
  config_.defaultUlimits = fresh.defaultUlimits;
  config_.insecureRegistries = fresh.insecureRegistries;
  config_.signaturePolicy = fresh.signaturePolicy;
}

std::string Daemon::podStateDir() const {
  return config().stateDir + "/pods";
}

std::string Daemon::containerStateDir() const {
  return config().stateDir + "/containers";
}

ipc::PeerState Daemon::imagedState() const {
  return imaged_ ? imaged_->state() : ipc::PeerState{false, "not started", {}};
}

ipc::PeerState Daemon::storedState() const {
  return stored_ ? stored_->state() : ipc::PeerState{false, "not started", {}};
}

}  // namespace crio::cri
