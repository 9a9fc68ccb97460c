#include "bench/lifecycle-floor.h"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/process-spawn.h"

extern char** environ;

namespace crio::bench {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* PATH_ENV =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// Bounds of the outside programs: a CNI plugin as crio-cri allows it, runc and the container's
// exit after SIGKILL well above what they take on an idle machine.
constexpr auto PLUGIN_TIMEOUT = std::chrono::seconds(60);
constexpr auto RUNC_TIMEOUT = std::chrono::seconds(60);
constexpr int EXIT_WAIT_MS = 10000;
constexpr size_t ERROR_TAIL_BYTES = 2048;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tail(const std::string& text) {
  return text.size() > ERROR_TAIL_BYTES ? text.substr(text.size() - ERROR_TAIL_BYTES) : text;
}

[[noreturn]] void failErrno(const std::string& operation) {
  throw std::runtime_error(operation + ": " + strerror(errno));
}

// Waits up to `ms` for child `pid` to exit and reaps it; returns its wait status.
int waitChild(pid_t pid, int ms, const std::string& name) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) failErrno("pidfd_open of " + name);
  pollfd pfd = {fd, POLLIN, 0};
  int ready;
  do {
    ready = poll(&pfd, 1, ms);
  } while (ready < 0 && errno == EINTR);
  close(fd);
  if (ready <= 0) {
    throw std::runtime_error(name + " did not exit within " + std::to_string(ms) + " ms");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) failErrno("waitpid of " + name);
  }
  return status;
}

ProcessResult runChecked(const std::string& path, std::vector<std::string> argv,
                         std::vector<std::string> env, const std::string& input,
                         std::chrono::milliseconds timeout) {
  ProcessRequest request;
  request.path = path;
  request.argv = std::move(argv);
  request.env = std::move(env);
  request.stdinData = input;
  request.timeout = timeout;
  ProcessResult result = runProcess(request);
  if (!result.succeeded()) {
    throw std::runtime_error(request.argv[0] + " " + request.argv[1] + " ended with " +
                             result.describeEnd(request) + ": " + tail(result.stdoutData) +
                             tail(result.stderrData));
  }
  return result;
}

void bringLoopbackUp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) failErrno("socket");
  ifreq request = {};
  strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  ok = ok && ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  int saved = errno;
  close(fd);
  errno = saved;
  if (!ok) failErrno("bring lo up");
}

}  // namespace

LifecycleFloor::LifecycleFloor(FloorSettings settings) : settings_(std::move(settings)) {
  conflist_ = nlohmann::json::parse(readFile(settings_.conflist));
  specTemplate_ = nlohmann::json::parse(readFile(settings_.specTemplate));
  for (const auto& plugin : conflist_.at("plugins")) {
    std::string type = plugin.at("type").get<std::string>();
    std::string found;
    for (const auto& dir : settings_.pluginDirs) {
      std::string path = dir + "/" + type;
      if (access(path.c_str(), X_OK) == 0) {
        found = path;
        break;
      }
    }
    if (found.empty()) {
      throw std::runtime_error("CNI plugin " + type + " not found in --plugin-dir (Debian " +
                               "package containernetworking-plugins)");
    }
    pluginPaths_.push_back(found);
  }
  // As crio-cri does with its namespaces folder: a mount of its own in a shared peer group of
  // its own, so that unpinning reaches the copies in mount namespaces made meanwhile.
  nsDir_ = settings_.workDir + "/netns";
  fs::create_directories(nsDir_);
  if (mount(nsDir_.c_str(), nsDir_.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
      mount(nullptr, nsDir_.c_str(), nullptr, MS_PRIVATE, nullptr) != 0 ||
      mount(nullptr, nsDir_.c_str(), nullptr, MS_SHARED, nullptr) != 0) {
    failErrno("make " + nsDir_ + " a shared mount");
  }
}

LifecycleFloor::~LifecycleFloor() {
  umount2(nsDir_.c_str(), MNT_DETACH);
}

void LifecycleFloor::pinNetns(FloorPod& pod) {
  pod.netns = nsDir_ + "/" + pod.id;
  int fd = open(pod.netns.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) failErrno("create " + pod.netns);
  close(fd);
  // unshare() moves only the calling thread, so a thread of its own enters the new namespace
  // and ends there.
  std::string error;
  std::thread pinner([&]() {
    try {
      if (unshare(CLONE_NEWNET) != 0) failErrno("unshare(CLONE_NEWNET)");
      bringLoopbackUp();
      if (mount("/proc/thread-self/ns/net", pod.netns.c_str(), nullptr, MS_BIND, nullptr) != 0) {
        failErrno("pin the network namespace at " + pod.netns);
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  });
  pinner.join();
  if (!error.empty()) {
    unlink(pod.netns.c_str());
    throw std::runtime_error(error);
  }
  pod.netnsPinned = true;
}

nlohmann::json LifecycleFloor::runPlugins(const FloorPod& pod, const std::string& command) {
  std::string cniPath;
  for (const auto& dir : settings_.pluginDirs)
    cniPath += (cniPath.empty() ? "" : ":") + dir;
  std::vector<std::string> env = {PATH_ENV,
                                  "CNI_COMMAND=" + command,
                                  "CNI_CONTAINERID=" + pod.id,
                                  "CNI_NETNS=" + pod.netns,
                                  "CNI_IFNAME=eth0",
                                  "CNI_ARGS=" + pod.cniArgs,
                                  "CNI_PATH=" + cniPath};
  const auto& plugins = conflist_.at("plugins");
  bool add = command == "ADD";
  nlohmann::json result = add ? nlohmann::json() : pod.cniResult;
  for (size_t n = 0; n < plugins.size(); ++n) {
    size_t i = add ? n : plugins.size() - 1 - n;
    nlohmann::json config = plugins[i];
    config["cniVersion"] = conflist_.at("cniVersion");
    config["name"] = conflist_.at("name");
    nlohmann::json runtimeConfig = nlohmann::json::object();
    if (auto declared = config.find("capabilities"); declared != config.end()) {
      for (const auto& [name, enabled] : declared->items()) {
        if (enabled == true && pod.capabilities.contains(name)) {
          runtimeConfig[name] = pod.capabilities[name];
        }
      }
      config.erase("capabilities");
    }
    if (!runtimeConfig.empty()) config["runtimeConfig"] = runtimeConfig;
    if (!result.is_null()) config["prevResult"] = result;
    ProcessResult out =
        runChecked(pluginPaths_[i], {pluginPaths_[i], command}, env, config.dump(), PLUGIN_TIMEOUT);
    if (add) result = nlohmann::json::parse(out.stdoutData);
  }
  return result;
}

void LifecycleFloor::runContainer(FloorPod& pod) {
  nlohmann::json spec = specTemplate_;
  spec["process"]["args"] = settings_.args;
  spec["process"]["terminal"] = false;
  spec["root"] = {{"path", pod.rootfs}, {"readonly", false}};
  for (auto& ns : spec["linux"]["namespaces"]) {
    if (ns["type"] == "network") ns["path"] = pod.netns;
  }
  std::ofstream(pod.bundle + "/config.json") << spec.dump();

  // Not runProcess: the detached container keeps runc's stdout and stderr, so they go to a file
  // rather than to a pipe that would never reach end of file.
  std::string pidFile = pod.bundle + "/pid";
  std::string log = pod.layer + "/container.log";
  std::vector<std::string> argv = {
      settings_.runc, "--root", settings_.runcRoot, "run",      "-d",
      "--pid-file",   pidFile,  "--bundle",         pod.bundle, pod.id};
  std::vector<char*> args;
  for (auto& arg : argv)
    args.push_back(arg.data());
  args.push_back(nullptr);
  std::string pathEnv = PATH_ENV;
  char* env[] = {pathEnv.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t runc = -1;
  int rc = posix_spawn(&runc, settings_.runc.c_str(), &actions, nullptr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    errno = rc;
    failErrno("spawn " + settings_.runc);
  }
  int status = waitChild(runc, static_cast<int>(RUNC_TIMEOUT.count() * 1000), "runc run -d");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    runChecked(settings_.runc,
               {settings_.runc, "--root", settings_.runcRoot, "delete", "--force", pod.id},
               {PATH_ENV}, "", RUNC_TIMEOUT);
    throw std::runtime_error("runc run -d failed with status " + std::to_string(status) + ": " +
                             tail(readFile(log)));
  }
  pod.created = true;
  pod.pid = std::stoi(readFile(pidFile));
}

void LifecycleFloor::killContainer(FloorPod& pod) {
  runChecked(settings_.runc, {settings_.runc, "--root", settings_.runcRoot, "kill", pod.id, "KILL"},
             {PATH_ENV}, "", RUNC_TIMEOUT);
  if (pod.pid > 0) {
    waitChild(pod.pid, EXIT_WAIT_MS, "the container's init");
    pod.pid = -1;
  }
}

void LifecycleFloor::up(FloorPod& pod, const std::string& id, int hostPort, int containerPort,
                        const StepRecorder& record) {
  pod = FloorPod();
  pod.id = id;
  pod.bundle = settings_.workDir + "/bundles/" + id;
  pod.layer = settings_.layerDir + "/" + id;
  pod.rootfs = pod.bundle + "/rootfs";
  pod.cniArgs = "IgnoreUnknown=1;K8S_POD_NAMESPACE=crio-bench;K8S_POD_NAME=" + id +
                ";K8S_POD_INFRA_CONTAINER_ID=" + id + ";K8S_POD_UID=uid-" + id;
  pod.capabilities = {
      {"portMappings",
       {{{"hostPort", hostPort}, {"containerPort", containerPort}, {"protocol", "tcp"}}}}};

  auto start = Clock::now();
  pinNetns(pod);
  record("netns create + pin (lo up)", millisecondsSince(start));

  start = Clock::now();
  pod.cniResult = nullptr;
  nlohmann::json result = runPlugins(pod, "ADD");
  pod.cniResult = result;
  record("CNI ADD", millisecondsSince(start));

  start = Clock::now();
  fs::create_directories(pod.layer + "/upper");
  fs::create_directories(pod.layer + "/work");
  fs::create_directories(pod.rootfs);
  std::string options = "userxattr,lowerdir=" + settings_.lowerDir + ",upperdir=" + pod.layer +
                        "/upper,workdir=" + pod.layer + "/work";
  if (mount("overlay", pod.rootfs.c_str(), "overlay", 0, options.c_str()) != 0) {
    failErrno("mount the overlay at " + pod.rootfs);
  }
  pod.mounted = true;
  record("overlay mount", millisecondsSince(start));

  start = Clock::now();
  runContainer(pod);
  record("config.json + runc run -d", millisecondsSince(start));
}

void LifecycleFloor::down(FloorPod& pod, const StepRecorder& record) {
  std::string firstError;
  auto step = [&](const char* name, const std::function<void()>& fn) {
    auto start = Clock::now();
    try {
      fn();
      record(name, millisecondsSince(start));
    } catch (const std::exception& e) {
      if (firstError.empty()) firstError = std::string(name) + ": " + e.what();
    }
  };
  if (pod.created) {
    step("runc kill + wait for exit", [&]() { killContainer(pod); });
    step("runc delete", [&]() {
      runChecked(settings_.runc, {settings_.runc, "--root", settings_.runcRoot, "delete", pod.id},
                 {PATH_ENV}, "", RUNC_TIMEOUT);
      pod.created = false;
    });
  }
  if (pod.mounted || !pod.bundle.empty()) {
    step("unmount + remove bundle and layer", [&]() {
      if (pod.mounted && umount2(pod.rootfs.c_str(), MNT_DETACH) != 0) {
        failErrno("unmount " + pod.rootfs);
      }
      pod.mounted = false;
      fs::remove_all(pod.bundle);
      fs::remove_all(pod.layer);
    });
  }
  if (pod.netnsPinned) {
    step("CNI DEL", [&]() { runPlugins(pod, "DEL"); });
    step("netns unpin", [&]() {
      if (umount2(pod.netns.c_str(), MNT_DETACH) != 0) failErrno("unmount " + pod.netns);
      unlink(pod.netns.c_str());
      pod.netnsPinned = false;
    });
  }
  if (!firstError.empty()) throw std::runtime_error(firstError);
}

}  // namespace crio::bench
