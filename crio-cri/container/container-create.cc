// CreateContainer: the container layer from crio-stored, the root filesystem overlay, the OCI
// bundle, and the monitor. Each step registers how to undo it, and a failure undoes them in
// reverse, so a failed create leaves nothing behind.
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "common/overlay-mount.h"
#include "crio-conmon/exit-record.h"
#include "crio-cri/container/container-runtime.h"
#include "crio-cri/container/container-support.h"
#include "crio-cri/image/image-catalog.h"
#include "crio-cri/oci/image-config.h"
#include "crio-cri/oci/spec-builder.h"
#include "crio-cri/peer-call.h"
#include "crio-cri/state/state-file.h"
#include "ipc/stored.capnp.h"

namespace crio::cri {

namespace fs = std::filesystem;

namespace {

// How long a launched monitor may take to listen on its socket.
constexpr auto MONITOR_LISTEN_TIMEOUT = std::chrono::seconds(10);

std::string newContainerId() {
  unsigned char bytes[32];
  if (getrandom(bytes, sizeof bytes, 0) != sizeof bytes) failSyscall("getrandom");
  static constexpr char HEX[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += HEX[b >> 4];
    id += HEX[b & 0xf];
  }
  return id;
}

// (pod, name, attempt) of creates in flight, so two concurrent creates of one name cannot both
// pass the uniqueness check.
std::mutex reservedMutex;
std::set<std::string> reserved;

class NameReservation {
 public:
  NameReservation(Daemon& daemon, const std::string& podId,
                  const runtime::v1::ContainerMetadata& metadata)
      : key_(podId + "/" + metadata.name() + "/" + std::to_string(metadata.attempt())) {
    std::lock_guard<std::mutex> lock(reservedMutex);
    // Pod, name and attempt never change after a container is added, so they are read without
    // the entry's lock.
    for (const auto& entry : daemon.containers().all()) {
      const Container& c = entry->value;
      if (c.podId == podId && c.name() == metadata.name() &&
          c.config.metadata().attempt() == metadata.attempt()) {
        fail(ErrorCategory::ALREADY_EXISTS, "container " + metadata.name() + " (attempt " +
                                                std::to_string(metadata.attempt()) +
                                                ") already exists in pod " + podId + " as " + c.id);
      }
    }
    if (!reserved.insert(key_).second) {
      fail(ErrorCategory::ALREADY_EXISTS,
           "container " + metadata.name() + " is being created in pod " + podId);
    }
  }
  ~NameReservation() {
    std::lock_guard<std::mutex> lock(reservedMutex);
    reserved.erase(key_);
  }

 private:
  std::string key_;
};

// Undo steps, run in reverse unless dismissed.
class Rollback {
 public:
  ~Rollback() {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      try {
        (*it)();
      } catch (const std::exception& e) {
        log::warn("cleanup after a failed create failed", {{"error", e.what()}});
      }
    }
  }
  void add(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void dismiss() { steps_.clear(); }

 private:
  std::vector<std::function<void()>> steps_;
};

oci::PodFiles podFiles(const PodSandbox& pod) {
  oci::PodFiles files;
  files.resolvConf = pod.resolvPath;
  files.hostname = pod.hostnamePath;
  files.hosts = pod.hostsPath;
  // A pod in the host's IPC namespace has no tmpfs of its own: its containers get the host's.
  files.shm = pod.shmPath.empty() ? "/dev/shm" : pod.shmPath;
  return files;
}

struct StoredLayer {
  std::vector<std::string> lowerDirs;
  std::string upperDir;
  std::string workDir;
};

StoredLayer createLayer(Daemon& daemon, const std::string& id, const std::string& imageId) {
  return callPeer(daemon, "crio-stored", [&]() {
    auto request = daemon.stored().client<ipc::schema::Stored>().createContainerLayerRequest();
    request.setContainerId(id);
    request.setImageId(imageId);
    return request.send().then([](auto&& response) {
      auto layer = response.getLayer();
      StoredLayer out;
      for (auto dir : layer.getLowerDirs())
        out.lowerDirs.emplace_back(dir);
      out.upperDir = layer.getUpperDir();
      out.workDir = layer.getWorkDir();
      return out;
    });
  });
}

std::string readTail(const std::string& path, size_t bytes) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (text.size() > bytes) text = text.substr(text.size() - bytes);
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

// Waits until the monitor listens and `runtime create` has finished.
MonitorState awaitCreated(Daemon& daemon, const Container& container, const std::string& log) {
  auto deadline = std::chrono::steady_clock::now() + MONITOR_LISTEN_TIMEOUT;
  while (true) {
    try {
      return monitorWaitCreated(daemon, container);
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::UNAVAILABLE) throw;
      if (kill(container.monitorPid, 0) != 0 && errno == ESRCH) {
        fail(ErrorCategory::INTERNAL,
             "the monitor exited before it listened: " + readTail(log, 2048));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        fail(ErrorCategory::DEADLINE_EXCEEDED,
             "the monitor did not listen on " + container.monitorSocket + " within 10 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace

const oci::HostFacts& hostFacts() {
  static const oci::HostFacts facts = oci::HostFacts::probe();
  return facts;
}

std::string createContainer(Daemon& daemon, const std::string& podId,
                            const runtime::v1::ContainerConfig& config) {
  if (!config.has_metadata() || config.metadata().name().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "CreateContainer: config.metadata.name is required");
  }
  const std::string& imageName = config.image().image();
  if (imageName.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "CreateContainer: image is empty");
  if (podId.empty())
    fail(ErrorCategory::INVALID_ARGUMENT, "CreateContainer: pod_sandbox_id is empty");

  PodSandbox pod;
  {
    auto entry = daemon.pods().get(podId);
    std::lock_guard<std::mutex> lock(entry->lock);
    pod = entry->value;
  }
  if (pod.state != PodState::READY) {
    fail(ErrorCategory::FAILED_PRECONDITION, "pod sandbox " + pod.id + " is not ready");
  }
  NameReservation name(daemon, pod.id, config.metadata());

  auto image = findImage(daemon, imageName);
  if (!image) fail(ErrorCategory::NOT_FOUND, "image " + imageName + " not found; pull it first");

  Config settings = daemon.config();
  Container c;
  c.id = newContainerId();
  c.podId = pod.id;
  c.config = config;
  c.imageId = image->criId();
  c.imageName = imageName;
  c.runtimeHandler = pod.runtimeHandler.empty() ? settings.defaultRuntime : pod.runtimeHandler;
  c.bundleDir = settings.runRoot + "/containers/" + c.id;
  c.rootfsDir = c.bundleDir + "/rootfs";
  c.exitDir = settings.containerExitsDir;
  c.monitorSocket = monitorSocketPath(settings, c.id);
  c.logPath = containerLogPath(pod.config.log_directory(), config.log_path());
  nlohmann::json imageConfig = nlohmann::json::parse(image->config, nullptr, false);
  if (imageConfig.is_discarded()) imageConfig = nlohmann::json();
  c.stopSignal = stopSignalFor(config, oci::parseImageConfig(imageConfig).stopSignal);
  log::info("Creating container", {{"container", c.id},
                                   {"pod", pod.id},
                                   {"name", config.metadata().name()},
                                   {"image", image->id}});

  Rollback rollback;
  // The bundle folder comes first: after a crash, a folder without a record is what the restart
  // cleanup looks for, and it then also removes the layer.
  fs::create_directories(c.bundleDir);
  fs::permissions(c.bundleDir, fs::perms::owner_all, fs::perm_options::replace);
  rollback.add([dir = c.bundleDir]() { fs::remove_all(dir); });
  StoredLayer layer =
      withContext("create container layer", [&]() { return createLayer(daemon, c.id, image->id); });
  rollback.add([&daemon, id = c.id]() { removeStoredLayer(daemon, id); });
  fs::create_directories(c.rootfsDir);
  withContext("mount the root filesystem", [&]() {
    mountOverlay({layer.lowerDirs, layer.upperDir, layer.workDir}, c.rootfsDir);
  });
  rollback.add([rootfs = c.rootfsDir]() { unmountOverlay(rootfs); });

  const RuntimeHandler* handler = nullptr;
  if (auto it = settings.runtimes.find(c.runtimeHandler); it != settings.runtimes.end()) {
    handler = &it->second;
  }
  oci::ContainerSpecInputs inputs;
  inputs.containerId = c.id;
  inputs.sandboxId = pod.id;
  inputs.container = &config;
  inputs.sandbox = &pod.config;
  inputs.imageConfig = imageConfig;
  inputs.rootfsPath = c.rootfsDir;
  inputs.containerDir = c.bundleDir;
  inputs.namespaces.network = pod.netnsPath;
  inputs.namespaces.ipc = pod.ipcnsPath;
  inputs.namespaces.uts = pod.utsnsPath;
  inputs.namespaces.pid = pod.pidnsPath;
  inputs.podFiles = podFiles(pod);
  inputs.cgroupParent = pod.cgroupParent;
  inputs.cgroupManager = effectiveCgroupManager(settings);
  inputs.config = &settings;
  inputs.privilegedWithoutHostDevices = handler && handler->privilegedWithoutHostDevices;
  inputs.host = hostFacts();
  nlohmann::json spec =
      withContext("build the OCI spec", [&]() { return oci::buildContainerSpec(inputs); });
  writeStateFile(c.bundleDir + "/config.json", spec);

  if (!c.logPath.empty()) fs::create_directories(fs::path(c.logPath).parent_path());

  // A failed create leaves an exit record (reason CreateFailed) behind the monitor.
  rollback.add([c]() {
    std::error_code ec;
    fs::remove(conmon::exitRecordPath(c.exitDir, c.id), ec);
  });
  MonitorCommand command = monitorCommand(settings, c, handler);
  std::string monitorLog = c.bundleDir + "/monitor.log";
  c.monitorPid = withContext("start the monitor", [&]() {
    return daemon.launcher().launch(command.program, command.args, command.env, monitorLog);
  });
  rollback.add([&daemon, c]() { endMonitor(daemon, c); });

  MonitorState state =
      withContext("create the container", [&]() { return awaitCreated(daemon, c, monitorLog); });
  c.state = ContainerState::CREATED;
  c.createdAt = state.createdAt;

  writeStateFile(daemon.containerStateDir() + "/" + c.id + ".json", toJson(c));
  rollback.add(
      [&daemon, id = c.id]() { removeStateFile(daemon.containerStateDir() + "/" + id + ".json"); });
  daemon.containers().add(c.id, c);
  rollback.dismiss();
  log::info("Created container", {{"container", c.id}, {"pod", pod.id}});
  return c.id;
}

}  // namespace crio::cri
