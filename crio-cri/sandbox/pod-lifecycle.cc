#include "crio-cri/sandbox/pod-lifecycle.h"

#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/namespace-pinning.h"
#include "common/pod-pid-holder.h"
#include "crio-cri/network/pod-network.h"
#include "crio-cri/oci/mount-info.h"
#include "crio-cri/oci/pod-cgroup.h"
#include "crio-cri/oci/resources.h"
#include "crio-cri/sandbox/pod-files.h"
#include "crio-cri/state/state-file.h"

namespace crio::cri {

namespace {

namespace fs = std::filesystem;

constexpr size_t POD_ID_BYTES = 32;

// Undo steps of a RunPodSandbox that has not finished, run in reverse order unless committed.
// A failing step is logged and the rest still run, so as little as possible is left behind.
class Rollback {
 public:
  explicit Rollback(std::string podId) : podId_(std::move(podId)) {}
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;

  ~Rollback() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      try {
        it->undo();
      } catch (const std::exception& e) {
        log::error("rollback step of a failed pod sandbox failed",
                   {{"pod", podId_}, {"step", it->name}, {"error", e.what()}});
      }
    }
  }

  void add(std::string name, std::function<void()> undo) {
    steps_.push_back({std::move(name), std::move(undo)});
  }
  void commit() { steps_.clear(); }

 private:
  struct Step {
    std::string name;
    std::function<void()> undo;
  };
  std::string podId_;
  std::vector<Step> steps_;
};

std::string newPodId() {
  unsigned char bytes[POD_ID_BYTES];
  size_t filled = 0;
  while (filled < sizeof bytes) {
    ssize_t n = getrandom(bytes + filled, sizeof bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      failSyscall("getrandom");
    }
    filled += static_cast<size_t>(n);
  }
  static constexpr char HEX[] = "0123456789abcdef";
  std::string id;
  id.reserve(2 * sizeof bytes);
  for (unsigned char b : bytes) {
    id.push_back(HEX[b >> 4]);
    id.push_back(HEX[b & 0xf]);
  }
  return id;
}

int64_t nowNanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void validateConfig(const runtime::v1::PodSandboxConfig& config) {
  if (!config.has_metadata()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "PodSandboxConfig.metadata is missing");
  }
  const auto& metadata = config.metadata();
  if (metadata.name().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "PodSandboxConfig.metadata.name is empty");
  }
  if (metadata.namespace_().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "PodSandboxConfig.metadata.namespace is empty");
  }
  if (metadata.uid().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "PodSandboxConfig.metadata.uid is empty");
  }
  const auto& namespaces = config.linux().security_context().namespace_options();
  auto requireMode = [](runtime::v1::NamespaceMode mode, const char* field,
                        std::initializer_list<runtime::v1::NamespaceMode> allowed) {
    for (auto candidate : allowed) {
      if (mode == candidate) return;
    }
    std::string name = runtime::v1::NamespaceMode_Name(mode);
    fail(ErrorCategory::INVALID_ARGUMENT, std::string("namespace_options.") + field + " " +
                                              (name.empty() ? std::to_string(mode) : name) +
                                              " is not valid for a pod");
  };
  requireMode(namespaces.network(), "network", {runtime::v1::POD, runtime::v1::NODE});
  requireMode(namespaces.ipc(), "ipc", {runtime::v1::POD, runtime::v1::NODE});
  requireMode(namespaces.pid(), "pid",
              {runtime::v1::POD, runtime::v1::CONTAINER, runtime::v1::NODE});

  if (!config.log_directory().empty() && config.log_directory().front() != '/') {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "log_directory \"" + config.log_directory() + "\" is not an absolute path");
  }
  for (const auto& server : config.dns_config().servers()) {
    unsigned char address[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, server.c_str(), address) != 1 &&
        inet_pton(AF_INET6, server.c_str(), address) != 1) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "dns_config.servers: \"" + server + "\" is not an IPv4 or IPv6 address");
    }
  }
  std::set<std::tuple<std::string, int32_t, int>> hostPorts;
  for (const auto& mapping : config.port_mappings()) {
    if (!runtime::v1::Protocol_IsValid(mapping.protocol())) {
      fail(ErrorCategory::INVALID_ARGUMENT, "port_mappings: protocol " +
                                                std::to_string(mapping.protocol()) +
                                                " is not TCP (0), UDP (1) or SCTP (2)");
    }
    if (mapping.host_port() <= 0) continue;
    if (!hostPorts.emplace(mapping.host_ip(), mapping.host_port(), mapping.protocol()).second) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "port_mappings: host port " + std::to_string(mapping.host_port()) + "/" +
               runtime::v1::Protocol_Name(mapping.protocol()) + " is mapped twice");
    }
  }
}

void validateRuntimeHandler(const Config& config, const std::string& handler) {
  if (handler.empty() || config.runtimes.count(handler) > 0) return;
  std::string configured;
  for (const auto& [name, unused] : config.runtimes)
    configured += (configured.empty() ? "" : ", ") + name;
  fail(ErrorCategory::NOT_FOUND,
       "runtime handler \"" + handler +
           "\" is not configured ([crio.runtime.runtimes]: " + configured + ")");
}

PortProtocol portProtocol(runtime::v1::Protocol protocol) {
  switch (protocol) {
    case runtime::v1::UDP:
      return PortProtocol::UDP;
    case runtime::v1::SCTP:
      return PortProtocol::SCTP;
    default:
      return PortProtocol::TCP;
  }
}

PodNetworkRequest networkRequest(const PodSandbox& pod) {
  PodNetworkRequest request;
  request.podId = pod.id;
  request.netnsPath = pod.netnsPath;
  request.podName = pod.name();
  request.podNamespace = pod.podNamespace();
  request.podUid = pod.config.metadata().uid();
  for (const auto& mapping : pod.config.port_mappings()) {
    request.portMappings.push_back({portProtocol(mapping.protocol()), mapping.container_port(),
                                    mapping.host_port(), mapping.host_ip()});
  }
  if (pod.config.has_dns_config()) {
    const auto& dns = pod.config.dns_config();
    request.dns = CniDnsCapability{{dns.servers().begin(), dns.servers().end()},
                                   {dns.searches().begin(), dns.searches().end()},
                                   {dns.options().begin(), dns.options().end()}};
  }
  return request;
}

// A CRI id (int64) as a Linux user or group id.
uint32_t linuxId(int64_t id, const std::string& field) {
  if (id < 0 || id >= static_cast<int64_t>(UINT32_MAX)) {
    fail(ErrorCategory::INVALID_ARGUMENT, "PodSandboxConfig.linux.security_context." + field + " " +
                                              std::to_string(id) + " is not a valid id");
  }
  return static_cast<uint32_t>(id);
}

// The PID holder joins the pod's cgroups and runs as the pod's user, as a pause container would.
PodPidHolderOptions pidHolderOptions(const Config& config,
                                     const runtime::v1::PodSandboxConfig& podConfig) {
  PodPidHolderOptions options;
  options.initProgram = podInitProgram();
  options.cgroupProcsFiles =
      oci::podCgroupProcsFiles(effectiveCgroupManager(config), podConfig.linux().cgroup_parent(),
                               oci::readMountInfo("/proc/self/mountinfo"));
  const auto& security = podConfig.linux().security_context();
  if (security.has_run_as_user()) {
    options.uid = linuxId(security.run_as_user().value(), "run_as_user");
  }
  if (security.has_run_as_group()) {
    options.gid = linuxId(security.run_as_group().value(), "run_as_group");
  }
  for (int64_t group : security.supplemental_groups())
    options.supplementalGroups.push_back(linuxId(group, "supplemental_groups"));
  return options;
}

std::string statePath(Daemon& daemon, const std::string& podId) {
  return daemon.podStateDir() + "/" + podId + ".json";
}

PodSandbox snapshot(ObjectTable<PodSandbox>::Entry& entry) {
  std::lock_guard<std::mutex> guard(entry.lock);
  return entry.value;
}

// Updates the pod in the table and on disk.
void persist(Daemon& daemon, ObjectTable<PodSandbox>::Entry& entry, const PodSandbox& pod) {
  writeStateFile(statePath(daemon, pod.id), toJson(pod));
  std::lock_guard<std::mutex> guard(entry.lock);
  entry.value = pod;
}

// Releases what a running pod has beyond its pins and files: the CNI attachment, the PID
// holder (which kills whatever is left in the PID namespace) and /dev/shm.
void releasePodResources(Daemon& daemon, const PodSandbox& pod) {
  Config config = daemon.config();
  if (!pod.hostNetwork()) {
    withContext("remove pod " + pod.id + " from its network", [&]() {
      tearDownPodNetwork(CniSettings::fromConfig(config), networkRequest(pod));
    });
  }
  if (!pod.pidnsPath.empty()) stopPodPidHolder(config.namespacesDir, pod.id);
  if (!pod.shmPath.empty()) unmountPodShm(pod.shmPath);
}

// Stops the pod. The caller has the pod's operation mutex.
void stopLocked(Daemon& daemon, ObjectTable<PodSandbox>::Entry& entry) {
  PodSandbox pod = snapshot(entry);
  if (pod.removed || pod.stopped) {
    log::debug("pod sandbox is already stopped", {{"pod", pod.id}});
    return;
  }
  log::info("Stopping pod sandbox", {{"pod", pod.id}, {"name", pod.fullName()}});
  withContext("stop the containers of pod " + pod.id, [&]() { daemon.stopPodContainers(pod.id); });
  releasePodResources(daemon, pod);
  pod.state = PodState::NOT_READY;
  pod.stopped = true;
  persist(daemon, entry, pod);
  log::info("Stopped pod sandbox", {{"pod", pod.id}});
}

bool podNamespacesAlive(const Config& config, const PodSandbox& pod) {
  if (!pod.netnsPath.empty() && !isNamespacePinned(pod.netnsPath, NamespaceKind::NET)) {
    return false;
  }
  if (!pod.ipcnsPath.empty() && !isNamespacePinned(pod.ipcnsPath, NamespaceKind::IPC)) {
    return false;
  }
  if (!pod.utsnsPath.empty() && !isNamespacePinned(pod.utsnsPath, NamespaceKind::UTS)) {
    return false;
  }
  if (!pod.pidnsPath.empty() && !findPodPidHolder(config.namespacesDir, pod.id)) return false;
  return true;
}

}  // namespace

std::string runPodSandbox(Daemon& daemon, const runtime::v1::RunPodSandboxRequest& request) {
  const auto& podConfig = request.config();
  validateConfig(podConfig);
  Config config = daemon.config();
  validateRuntimeHandler(config, request.runtime_handler());
  // Checked here as well as at CreateContainer, so that a pod no container could join is not
  // created. The id only fills the template.
  oci::buildCgroupsPath(effectiveCgroupManager(config), podConfig.linux().cgroup_parent(), "id");

  PodSandbox pod;
  pod.id = newPodId();
  pod.config = podConfig;
  pod.runtimeHandler = request.runtime_handler();
  pod.createdAt = nowNanoseconds();
  pod.state = PodState::NOT_READY;
  std::string fullName = pod.fullName();

  daemon.podNames().reserve(fullName, pod.id);
  log::info("Running pod sandbox", {{"pod", pod.id}, {"name", fullName}});
  // Steps capture by reference only what is declared before `rollback`, so it outlives them.
  Rollback rollback(pod.id);
  rollback.add("release name", [&]() { daemon.podNames().release(fullName, pod.id); });

  pod.runDir = config.runRoot + "/pods/" + pod.id;
  fs::create_directories(pod.runDir);
  chmod(pod.runDir.c_str(), 0755);
  rollback.add("remove run dir", [&]() { fs::remove_all(pod.runDir); });

  pod.hostname = podHostname(podConfig, pod.id);
  pod.hostnamePath = pod.runDir + "/hostname";
  writeHostnameFile(pod.hostnamePath, pod.hostname);
  pod.resolvPath = pod.runDir + "/resolv.conf";
  writeResolvConf(pod.resolvPath, podConfig.has_dns_config() ? &podConfig.dns_config() : nullptr);
  if (!pod.hostIpc()) {
    pod.shmPath = pod.runDir + "/shm";
    mountPodShm(pod.shmPath);
    rollback.add("unmount /dev/shm", [&]() { unmountPodShm(pod.shmPath); });
  }

  PodNamespaceRequest pinRequest;
  pinRequest.namespacesDir = config.namespacesDir;
  pinRequest.podId = pod.id;
  pinRequest.network = !pod.hostNetwork();
  pinRequest.ipc = !pod.hostIpc();
  // The CRI has no UTS option: a pod on the host's network also has the host's name.
  pinRequest.uts = !pod.hostNetwork();
  if (pinRequest.uts) pinRequest.hostname = pod.hostname;
  for (const auto& [name, value] : podConfig.linux().sysctls())
    pinRequest.sysctls[name] = value;
  PodNamespacePins pins = withContext("pin the namespaces of pod " + pod.id,
                                      [&]() { return pinPodNamespaces(pinRequest); });
  rollback.add("unpin namespaces", [&]() { unpinPodNamespaces(config.namespacesDir, pod.id); });
  pod.netnsPath = pins.network;
  pod.ipcnsPath = pins.ipc;
  pod.utsnsPath = pins.uts;

  if (pod.sharedPid()) {
    PodPidHolderOptions holderOptions = pidHolderOptions(config, podConfig);
    for (const std::string& path : {pod.netnsPath, pod.ipcnsPath, pod.utsnsPath}) {
      if (!path.empty()) holderOptions.joinNamespaces.push_back(path);
    }
    PodPidHolder holder = withContext("start the PID namespace holder", [&]() {
      return startPodPidHolder(config.namespacesDir, pod.id, holderOptions);
    });
    rollback.add("stop PID holder", [&]() { stopPodPidHolder(config.namespacesDir, pod.id); });
    pod.pidHolder = holder.pid;
    pod.pidnsPath = holder.pinPath;
  }
  pod.cgroupParent = podConfig.linux().cgroup_parent();

  fs::create_directories(daemon.podStateDir());
  chmod(daemon.podStateDir().c_str(), 0700);
  std::string recordPath = statePath(daemon, pod.id);
  writeStateFile(recordPath, toJson(pod));
  rollback.add("remove state record", [recordPath]() { removeStateFile(recordPath); });

  if (pod.hostNetwork()) {
    pod.hostsPath = HOST_HOSTS_FILE;
  } else {
    CniSettings settings = CniSettings::fromConfig(config);
    PodNetworkRequest attachment = networkRequest(pod);
    rollback.add("remove from the network",
                 [settings, attachment]() { tearDownPodNetwork(settings, attachment); });
    PodNetworkStatus network = setUpPodNetwork(settings, attachment);
    pod.networkName = network.network;
    pod.ips = network.ips;
    pod.hostsPath = pod.runDir + "/hosts";
    writeHostsFile(pod.hostsPath, pod.hostname, pod.ips);
  }

  pod.state = PodState::READY;
  writeStateFile(recordPath, toJson(pod));
  daemon.pods().add(pod.id, pod);
  rollback.commit();
  log::info("Ran pod sandbox", {{"pod", pod.id},
                                {"name", fullName},
                                {"ip", pod.ips.empty() ? std::string() : pod.ips.front()}});
  return pod.id;
}

void stopPodSandbox(Daemon& daemon, const std::string& podId) {
  auto entry = daemon.pods().find(podId);
  if (!entry) {
    // CRI: stopping a pod that does not exist is not an error.
    log::info("pod sandbox to stop not found, so it counts as stopped", {{"pod", podId}});
    return;
  }
  std::lock_guard<std::mutex> operation(entry->operation);
  stopLocked(daemon, *entry);
}

void removePodSandbox(Daemon& daemon, const std::string& podId) {
  auto entry = daemon.pods().find(podId);
  if (!entry) {
    log::info("pod sandbox to remove not found, so it counts as removed", {{"pod", podId}});
    return;
  }
  std::lock_guard<std::mutex> operation(entry->operation);
  if (snapshot(*entry).removed) return;
  stopLocked(daemon, *entry);

  PodSandbox pod = snapshot(*entry);
  log::info("Removing pod sandbox", {{"pod", pod.id}, {"name", pod.fullName()}});
  withContext("remove the containers of pod " + pod.id,
              [&]() { daemon.removePodContainers(pod.id); });
  Config config = daemon.config();
  if (!pod.hostNetwork()) {
    // Normally already done by the stop; a DEL that failed then is retried here.
    CniSettings settings = CniSettings::fromConfig(config);
    if (cachedPodNetwork(settings, pod.id)) tearDownPodNetwork(settings, networkRequest(pod));
  }
  if (!pod.pidnsPath.empty()) stopPodPidHolder(config.namespacesDir, pod.id);
  if (!pod.shmPath.empty()) unmountPodShm(pod.shmPath);
  unpinPodNamespaces(config.namespacesDir, pod.id);
  if (!pod.runDir.empty()) {
    std::error_code ec;
    fs::remove_all(pod.runDir, ec);
    if (ec) fail(ErrorCategory::INTERNAL, "remove " + pod.runDir + ": " + ec.message());
  }
  removeStateFile(statePath(daemon, pod.id));
  {
    std::lock_guard<std::mutex> guard(entry->lock);
    entry->value.removed = true;
  }
  daemon.pods().remove(pod.id);
  daemon.podNames().release(pod.fullName(), pod.id);
  log::info("Removed pod sandbox", {{"pod", pod.id}});
}

namespace {

// Pods whose files or pins exist without a record: a RunPodSandbox interrupted by a crash before
// its record was written, or a record lost since.
std::set<std::string> orphanPodIds(Daemon& daemon, const Config& config) {
  std::set<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(config.runRoot + "/pods", ec))
    ids.insert(entry.path().filename().string());
  for (NamespaceKind kind :
       {NamespaceKind::NET, NamespaceKind::IPC, NamespaceKind::UTS, NamespaceKind::PID}) {
    std::string folder = config.namespacesDir + "/" + std::string(namespaceFolder(kind));
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
      std::string name = entry.path().filename().string();
      if (name.size() > 4 && name.compare(name.size() - 4, 4, ".pid") == 0) {
        name.resize(name.size() - 4);
      }
      ids.insert(name);
    }
  }
  std::set<std::string> orphans;
  for (const auto& id : ids) {
    // An unreadable record still names its pod: that pod is left for an operator to look at.
    if (daemon.pods().find(id) || fs::exists(statePath(daemon, id))) continue;
    try {
      validatePodId(id);
    } catch (const Error&) {
      continue;  // not a pod's file
    }
    orphans.insert(id);
  }
  return orphans;
}

}  // namespace

void removeOrphanPods(Daemon& daemon) {
  Config config = daemon.config();
  for (const auto& id : orphanPodIds(daemon, config)) {
    log::warn("removing the leftovers of an interrupted RunPodSandbox", {{"pod", id}});
    try {
      // The record is written before the CNI ADD, so an attachment is rare. One found in the
      // cache (a lost record) or behind a pinned network namespace is undone as RemovePodSandbox
      // does.
      CniSettings settings = CniSettings::fromConfig(config);
      std::string netns = namespacePinPath(config.namespacesDir, NamespaceKind::NET, id);
      if (cachedPodNetwork(settings, id) || fs::exists(netns)) {
        PodSandbox stub;
        stub.id = id;
        stub.netnsPath = netns;
        tearDownPodNetwork(settings, networkRequest(stub));
      }
      stopPodPidHolder(config.namespacesDir, id);
      std::string runDir = config.runRoot + "/pods/" + id;
      unmountPodShm(runDir + "/shm");
      unpinPodNamespaces(config.namespacesDir, id);
      fs::remove_all(runDir);
    } catch (const std::exception& e) {
      log::error("cannot remove the leftovers of a pod", {{"pod", id}, {"error", e.what()}});
    }
  }
}

void restorePods(Daemon& daemon) {
  Config config = daemon.config();
  size_t restored = 0;
  for (const auto& path : listStateFiles(daemon.podStateDir())) {
    PodSandbox pod;
    try {
      pod = podFromJson(readStateFile(path));
      validatePodId(pod.id);
    } catch (const std::exception& e) {
      log::error("skipping an unreadable pod sandbox record",
                 {{"file", path}, {"error", e.what()}});
      continue;
    }
    if (pod.state == PodState::READY && !podNamespacesAlive(config, pod)) {
      log::warn("pod sandbox namespaces are gone, so the pod is not ready", {{"pod", pod.id}});
      pod.state = PodState::NOT_READY;
    }
    try {
      daemon.podNames().reserve(pod.fullName(), pod.id);
      daemon.pods().add(pod.id, pod);
      ++restored;
    } catch (const std::exception& e) {
      log::error("failed to restore a pod sandbox", {{"pod", pod.id}, {"error", e.what()}});
    }
  }
  log::info("restored pod sandboxes", {{"count", restored}});
  removeOrphanPods(daemon);
}

}  // namespace crio::cri
