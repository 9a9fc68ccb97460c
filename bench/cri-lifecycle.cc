// cri-lifecycle: the client of bench/lifecycle.sh. It times a pod's life through the CRI against
// the floor of the same work done directly (lifecycle-floor.h), and measures the memory of the
// suite with pods running.
//
//   cri-lifecycle --socket SOCK --image REF --conflist FILE --runc-root DIR --spec FILE
//                 --lower-dir DIR --work-dir DIR --layer-dir DIR --log-dir DIR
//                 [--iterations N] [--memory-pods M] [--daemon NAME=PID]... [--conmon PATH]
//                 [--host-port PORT] [--runc PATH] [--plugin-dir DIR]...
//   cri-lifecycle --socket SOCK --cleanup
//
// Each iteration runs, in alternating order, "ours" (RunPodSandbox + CreateContainer +
// StartContainer of a busybox `sleep 3600` in a CNI-networked pod with one hostPort, then
// StopContainer with timeout 0 + RemoveContainer + StopPodSandbox + RemovePodSandbox) and the
// floor. One untimed iteration of each comes first. Every call is made from this process over one
// gRPC channel, so no process start of a client is counted. Then it runs --memory-pods pods with
// a running container each, prints the proportional set size (PSS, /proc/PID/smaps_rollup) of
// one monitor and of each daemon named by --daemon, and removes them.
//
// SIGINT or SIGTERM ends the run after the current step, and what was created is removed.
// --cleanup stops and removes every pod the CRI lists.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/lifecycle-floor.h"
#include "cri/api.grpc.pb.h"

namespace crio::bench {
namespace {

namespace fs = std::filesystem;
using namespace runtime::v1;
using Clock = std::chrono::steady_clock;

constexpr int CONTAINER_PORT = 8080;
// Bounds of the command line: enough for a stable median, and pods for the memory check within
// the /24 of the test network and the machine.
constexpr int MAX_ITERATIONS = 500;
constexpr int MAX_MEMORY_PODS = 50;
// Deadline of one CRI call; a pod's life takes well under a second on an idle machine.
constexpr int CALL_SECONDS = 120;

std::atomic<bool> interrupted{false};

void onSignal(int) {
  interrupted = true;
}

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Options {
  std::string socket, image, conflist, runc = "/usr/bin/runc", runcRoot, spec, lowerDir, workDir,
                                       layerDir, logDir, conmon;
  std::vector<std::string> pluginDirs = {"/usr/lib/cni"};
  std::vector<std::string> daemons;  // NAME=PID
  int iterations = 20;
  int memoryPods = 10;
  int hostPort = 31217;
  bool cleanup = false;
};

// Samples of each step, in the order of first use.
class Samples {
 public:
  void record(const std::string& step, double ms) {
    auto it = std::find_if(steps_.begin(), steps_.end(),
                           [&](const auto& entry) { return entry.first == step; });
    if (it == steps_.end()) it = steps_.insert(steps_.end(), {step, {}});
    it->second.push_back(ms);
  }

  struct Summary {
    double median = 0, p90 = 0, min = 0, max = 0;
    size_t count = 0;
  };
  Summary summary(const std::string& step) const {
    Summary s;
    for (const auto& [name, values] : steps_) {
      if (name != step || values.empty()) continue;
      std::vector<double> sorted = values;
      std::sort(sorted.begin(), sorted.end());
      size_t n = sorted.size();
      s.count = n;
      s.median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
      s.p90 = sorted[std::min(n - 1, (n * 9 + 9) / 10 - 1)];
      s.min = sorted.front();
      s.max = sorted.back();
    }
    return s;
  }
  const std::vector<std::pair<std::string, std::vector<double>>>& steps() const { return steps_; }

 private:
  std::vector<std::pair<std::string, std::vector<double>>> steps_;
};

std::unique_ptr<grpc::ClientContext> deadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(CALL_SECONDS));
  return context;
}

void check(const grpc::Status& status, const char* call) {
  if (!status.ok()) throw std::runtime_error(std::string(call) + ": " + status.error_message());
}

struct CriPod {
  std::string podId;
  std::string containerId;
  PodSandboxConfig config;
};

class CriClient {
 public:
  explicit CriClient(const std::string& socket)
      : channel_(grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials())),
        runtime_(RuntimeService::NewStub(channel_)),
        images_(ImageService::NewStub(channel_)) {}

  void pull(const std::string& image) {
    PullImageRequest request;
    request.mutable_image()->set_image(image);
    PullImageResponse response;
    check(images_->PullImage(deadline().get(), request, &response), "PullImage");
  }

  // RunPodSandbox, CreateContainer and StartContainer, each recorded when `record` is given.
  void up(CriPod& pod, const Options& options, const std::string& name, int hostPort,
          const StepRecorder& record) {
    pod = CriPod();
    PodSandboxConfig& config = pod.config;
    config.mutable_metadata()->set_name(name);
    config.mutable_metadata()->set_namespace_("crio-bench");
    config.mutable_metadata()->set_uid("uid-" + name);
    config.set_hostname(name);
    config.set_log_directory(options.logDir + "/" + name);
    // As the kubelet sends for a pod without shareProcessNamespace: a PID namespace per container.
    config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        CONTAINER);
    auto* port = config.add_port_mappings();
    port->set_protocol(TCP);
    port->set_container_port(CONTAINER_PORT);
    port->set_host_port(hostPort);

    auto start = Clock::now();
    RunPodSandboxRequest run;
    *run.mutable_config() = config;
    RunPodSandboxResponse ran;
    check(runtime_->RunPodSandbox(deadline().get(), run, &ran), "RunPodSandbox");
    pod.podId = ran.pod_sandbox_id();
    record("RunPodSandbox", millisecondsSince(start));

    start = Clock::now();
    CreateContainerRequest create;
    create.set_pod_sandbox_id(pod.podId);
    *create.mutable_sandbox_config() = config;
    auto* container = create.mutable_config();
    container->mutable_metadata()->set_name("sleep");
    container->mutable_image()->set_image(options.image);
    for (const char* arg : {"/bin/busybox", "sleep", "3600"})
      container->add_command(arg);
    container->set_log_path("sleep.log");
    container->mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        CONTAINER);
    CreateContainerResponse created;
    check(runtime_->CreateContainer(deadline().get(), create, &created), "CreateContainer");
    pod.containerId = created.container_id();
    record("CreateContainer", millisecondsSince(start));

    start = Clock::now();
    StartContainerRequest startRequest;
    startRequest.set_container_id(pod.containerId);
    StartContainerResponse started;
    check(runtime_->StartContainer(deadline().get(), startRequest, &started), "StartContainer");
    record("StartContainer", millisecondsSince(start));
  }

  // StopContainer (timeout 0: SIGKILL at once, as `sleep` as pid 1 ignores SIGTERM),
  // RemoveContainer, StopPodSandbox and RemovePodSandbox of what `pod` holds.
  void down(CriPod& pod, const StepRecorder& record) {
    if (!pod.containerId.empty()) {
      auto start = Clock::now();
      StopContainerRequest stop;
      stop.set_container_id(pod.containerId);
      stop.set_timeout(0);
      StopContainerResponse stopped;
      check(runtime_->StopContainer(deadline().get(), stop, &stopped), "StopContainer");
      record("StopContainer", millisecondsSince(start));

      start = Clock::now();
      RemoveContainerRequest remove;
      remove.set_container_id(pod.containerId);
      RemoveContainerResponse removed;
      check(runtime_->RemoveContainer(deadline().get(), remove, &removed), "RemoveContainer");
      record("RemoveContainer", millisecondsSince(start));
      pod.containerId.clear();
    }
    if (!pod.podId.empty()) removePod(pod.podId, record);
    pod.podId.clear();
  }

  void removePod(const std::string& podId, const StepRecorder& record) {
    auto start = Clock::now();
    StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(podId);
    StopPodSandboxResponse stopped;
    check(runtime_->StopPodSandbox(deadline().get(), stop, &stopped), "StopPodSandbox");
    record("StopPodSandbox", millisecondsSince(start));

    start = Clock::now();
    RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(podId);
    RemovePodSandboxResponse removed;
    check(runtime_->RemovePodSandbox(deadline().get(), remove, &removed), "RemovePodSandbox");
    record("RemovePodSandbox", millisecondsSince(start));
  }

  // Stops and removes every pod; returns how many.
  size_t removeAll() {
    ListPodSandboxRequest request;
    ListPodSandboxResponse response;
    check(runtime_->ListPodSandbox(deadline().get(), request, &response), "ListPodSandbox");
    for (const auto& pod : response.items())
      removePod(pod.id(), [](const std::string&, double) {});
    return static_cast<size_t>(response.items_size());
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<RuntimeService::Stub> runtime_;
  std::unique_ptr<ImageService::Stub> images_;
};

// Proportional set size in KiB, -1 when unreadable.
long pssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Pss:", 0) == 0) return std::stol(line.substr(4));
  }
  return -1;
}

// Processes whose executable is `path`, in pid order.
std::vector<pid_t> processesOf(const std::string& path) {
  std::vector<pid_t> pids;
  std::error_code ec;
  std::string target = fs::canonical(path, ec).string();
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code linkError;
    if (fs::read_symlink(entry.path() / "exe", linkError).string() == target) {
      pids.push_back(std::stoi(name));
    }
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

void printTable(const Samples& samples, int iterations) {
  printf("\n%-40s %8s %8s %8s %8s  (ms, %d iterations)\n", "step", "median", "p90", "min", "max",
         iterations);
  for (const auto& [name, values] : samples.steps()) {
    auto s = samples.summary(name);
    printf("%-40s %8.1f %8.1f %8.1f %8.1f\n", name.c_str(), s.median, s.p90, s.min, s.max);
  }
}

void printRatios(const Samples& samples) {
  printf("\n%-12s %12s %12s %7s %12s %12s %7s\n", "phase", "ours median", "floor median", "ratio",
         "ours p90", "floor p90", "ratio");
  for (const char* phase : {"up", "down", "up + down"}) {
    auto ours = samples.summary(std::string("ours ") + phase);
    auto floor = samples.summary(std::string("floor ") + phase);
    printf("%-12s %9.1f ms %9.1f ms %7.2f %9.1f ms %9.1f ms %7.2f\n", phase, ours.median,
           floor.median, ours.median / floor.median, ours.p90, floor.p90, ours.p90 / floor.p90);
  }
}

void printMemory(const Options& options, int pods) {
  printf("\nPSS with %d pods running, each with one container:\n", pods);
  if (!options.conmon.empty()) {
    std::vector<pid_t> monitors = processesOf(options.conmon);
    long total = 0;
    for (pid_t pid : monitors)
      total += std::max(0L, pssKiB(pid));
    if (!monitors.empty()) {
      printf("  %-22s %8ld KiB  (pid %d; all %zu monitors: %ld KiB, %ld KiB each on average)\n",
             "crio-conmon (one)", pssKiB(monitors.front()), monitors.front(), monitors.size(),
             total, total / static_cast<long>(monitors.size()));
    }
  }
  for (const auto& daemon : options.daemons) {
    auto equals = daemon.find('=');
    if (equals == std::string::npos) continue;
    pid_t pid = std::stoi(daemon.substr(equals + 1));
    printf("  %-22s %8ld KiB  (pid %d)\n", daemon.substr(0, equals).c_str(), pssKiB(pid), pid);
  }
}

int run(const Options& options) {
  CriClient cri(options.socket);
  if (options.cleanup) {
    size_t removed = cri.removeAll();
    fprintf(stderr, "cri-lifecycle: removed %zu pods\n", removed);
    return 0;
  }
  // The floor's containers are orphaned by `runc run -d`; this process reaps them.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("PR_SET_CHILD_SUBREAPER");

  FloorSettings settings;
  settings.conflist = options.conflist;
  settings.pluginDirs = options.pluginDirs;
  settings.runc = options.runc;
  settings.runcRoot = options.runcRoot;
  settings.specTemplate = options.spec;
  settings.lowerDir = options.lowerDir;
  settings.workDir = options.workDir;
  settings.layerDir = options.layerDir;
  settings.args = {"/bin/busybox", "sleep", "3600"};
  LifecycleFloor floor(settings);

  auto started = Clock::now();
  cri.pull(options.image);
  fprintf(stderr, "pulled %s in %.0f ms (not counted)\n", options.image.c_str(),
          millisecondsSince(started));

  Samples samples;
  StepRecorder ignore = [](const std::string&, double) {};
  std::vector<CriPod> criPods;
  FloorPod floorPod;
  int status = 0;
  try {
    auto oursOnce = [&](int i, bool timed) {
      StepRecorder record = [&](const std::string& step, double ms) {
        if (timed) samples.record(step, ms);
      };
      CriPod& pod = criPods.emplace_back();
      auto start = Clock::now();
      cri.up(pod, options, "bench-" + std::to_string(i), options.hostPort, record);
      record("ours up", millisecondsSince(start));
      auto downStart = Clock::now();
      cri.down(pod, record);
      record("ours down", millisecondsSince(downStart));
      record("ours up + down", millisecondsSince(start));
      criPods.pop_back();
    };
    auto floorOnce = [&](int i, bool timed) {
      StepRecorder record = [&](const std::string& step, double ms) {
        if (timed) samples.record("floor: " + step, ms);
      };
      auto start = Clock::now();
      floor.up(floorPod, "crio-bench-floor-" + std::to_string(i), options.hostPort, CONTAINER_PORT,
               record);
      double up = millisecondsSince(start);
      auto downStart = Clock::now();
      floor.down(floorPod, record);
      if (timed) {
        samples.record("floor up", up);
        samples.record("floor down", millisecondsSince(downStart));
        samples.record("floor up + down", millisecondsSince(start));
      }
    };
    // Iteration 0 is the untimed warm-up; the order alternates so that neither side always runs
    // right after the other's teardown.
    for (int i = 0; i <= options.iterations && !interrupted; ++i) {
      bool timed = i > 0;
      if (i % 2 == 0) {
        oursOnce(i, timed);
        if (!interrupted) floorOnce(i, timed);
      } else {
        floorOnce(i, timed);
        if (!interrupted) oursOnce(i, timed);
      }
      if (timed) fprintf(stderr, "\riteration %d/%d", i, options.iterations);
    }
    fprintf(stderr, "\n");
    if (!interrupted) {
      printTable(samples, options.iterations);
      printRatios(samples);
    }

    for (int i = 0; i < options.memoryPods && !interrupted; ++i) {
      CriPod& pod = criPods.emplace_back();
      cri.up(pod, options, "memory-" + std::to_string(i), options.hostPort + 1 + i, ignore);
    }
    if (!interrupted && options.memoryPods > 0) {
      // Let the monitors and daemons settle after the burst of starts.
      std::this_thread::sleep_for(std::chrono::seconds(1));
      printMemory(options, options.memoryPods);
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "\ncri-lifecycle: %s\n", e.what());
    status = 1;
  }
  if (interrupted) {
    fprintf(stderr, "\ncri-lifecycle: interrupted; removing what was created\n");
    status = 130;
  }

  for (auto& pod : criPods) {
    try {
      cri.down(pod, ignore);
    } catch (const std::exception& e) {
      fprintf(stderr, "cri-lifecycle: cleanup: %s\n", e.what());
      status = status ? status : 1;
    }
  }
  try {
    floor.down(floorPod, ignore);
  } catch (const std::exception& e) {
    fprintf(stderr, "cri-lifecycle: floor cleanup: %s\n", e.what());
    status = status ? status : 1;
  }
  return status;
}

}  // namespace
}  // namespace crio::bench

int main(int argc, char** argv) {
  using crio::bench::Options;
  CLI::App app{"cri-lifecycle: a pod's life through the CRI against its floor"};
  Options o;
  app.add_option("--socket", o.socket, "CRI socket path")->required();
  app.add_flag("--cleanup", o.cleanup, "Stop and remove every pod, then exit");
  app.add_option("--image", o.image, "Image reference (busybox)");
  app.add_option("--conflist", o.conflist, "The CNI network configuration list crio-cri uses");
  app.add_option("--plugin-dir", o.pluginDirs, "CNI plugin folders");
  app.add_option("--runc", o.runc, "runc binary of the floor");
  app.add_option("--runc-root", o.runcRoot, "runc --root of the floor");
  app.add_option("--spec", o.spec, "config.json written by `runc spec`");
  app.add_option("--lower-dir", o.lowerDir, "The image's unpacked root filesystem");
  app.add_option("--work-dir", o.workDir, "Folder for the floor's bundles and namespace pins");
  app.add_option("--layer-dir", o.layerDir, "Folder for the floor's upper and work directories");
  app.add_option("--log-dir", o.logDir, "Folder for the pods' log directories");
  app.add_option("--iterations", o.iterations, "Timed iterations")
      ->check(CLI::Range(1, crio::bench::MAX_ITERATIONS));
  app.add_option("--memory-pods", o.memoryPods, "Pods running while memory is measured")
      ->check(CLI::Range(0, crio::bench::MAX_MEMORY_PODS));
  app.add_option("--host-port", o.hostPort, "hostPort of the timed pods; memory pods use the next")
      ->check(CLI::Range(1024, 65535 - crio::bench::MAX_MEMORY_PODS));
  app.add_option("--daemon", o.daemons, "NAME=PID of a daemon whose memory is reported");
  app.add_option("--conmon", o.conmon, "crio-conmon binary, to find the monitors");
  CLI11_PARSE(app, argc, argv);
  if (!o.cleanup) {
    for (const std::string* value : {&o.image, &o.conflist, &o.runcRoot, &o.spec, &o.lowerDir,
                                     &o.workDir, &o.layerDir, &o.logDir}) {
      if (value->empty()) {
        fprintf(stderr,
                "cri-lifecycle: --image, --conflist, --runc-root, --spec, --lower-dir, "
                "--work-dir, --layer-dir and --log-dir are required\n");
        return 2;
      }
    }
  }

  struct sigaction action = {};
  action.sa_handler = crio::bench::onSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  try {
    return crio::bench::run(o);
  } catch (const std::exception& e) {
    fprintf(stderr, "cri-lifecycle: %s\n", e.what());
    return 1;
  }
}
