// network-bench: times the pod network steps of RunPodSandbox and StopPodSandbox with the real
// CNI plugins, one pod at a time, on the test-only network of network-support.h.
//
//   network-bench [--iterations N]
//
// Each iteration pins the network, IPC and UTS namespaces (hostname, one sysctl) and runs ADD on
// the test network (bridge + host-local + portmap with one hostPort). It then runs ADD on a
// separate loopback network, for comparison with the `lo` that pinning brings up without a
// plugin. Then it runs DEL on both, unpins, and starts and stops a PID namespace holder. The
// output is the median, 90th percentile, minimum and maximum of each step in milliseconds.
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/namespace-pinning.h"
#include "common/pod-pid-holder.h"
#include "crio-cri/network/pod-network.h"
#include "tests/integration/network-support.h"

namespace crio::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Resident and proportional set size of a process, in KiB, from /proc/PID/smaps_rollup.
std::string memoryOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("Rss:", 0) == 0 || line.rfind("Pss:", 0) == 0 ||
        line.rfind("Private_Dirty:", 0) == 0) {
      out += line.substr(0, line.find(':')) + "=" +
             std::to_string(std::stol(line.substr(line.find(':') + 1))) + "KiB ";
    }
  }
  return out;
}

int run(int iterations) {
  std::string missing = missingNetworkTestTools();
  if (!missing.empty()) {
    fprintf(stderr, "network-bench: %s\n", missing.c_str());
    return 2;
  }
  log::setup("network-bench", log::Level::WARN);
  HostNetworkGuard guard;

  char pattern[] = "/tmp/crio-network-bench-XXXXXX";
  if (!mkdtemp(pattern)) {
    perror("mkdtemp");
    return 1;
  }
  std::string root = pattern;
  std::string nsDir = root + "/ns";
  for (const char* dir : {"/net.d", "/lo.d", "/cache"})
    fs::create_directories(root + dir);
  writeTestConflist(root + "/net.d", root + "/ipam");
  std::ofstream(root + "/lo.d/99-loopback.conflist")
      << R"({"cniVersion": "1.0.0", "name": "crt-lo", "plugins": [{"type": "loopback"}]})";

  cri::CniSettings settings;
  settings.networkDir = root + "/net.d";
  settings.pluginDirs = {TEST_PLUGIN_DIR};
  settings.cacheDir = root + "/cache";
  cri::CniSettings loopback = settings;
  loopback.networkDir = root + "/lo.d";

  // Steps in the order of first use, each with its samples.
  std::vector<std::pair<std::string, std::vector<double>>> samples;
  auto record = [&](const std::string& step, double ms) {
    auto it = std::find_if(samples.begin(), samples.end(),
                           [&](const auto& entry) { return entry.first == step; });
    if (it == samples.end()) it = samples.insert(samples.end(), {step, {}});
    it->second.push_back(ms);
  };
  int status = 0;
  try {
    for (int i = 0; i < iterations; ++i) {
      std::string pod = "bench-" + std::to_string(i);
      auto start = Clock::now();
      PodNamespaceRequest pin;
      pin.namespacesDir = nsDir;
      pin.podId = pod;
      pin.hostname = "crt-" + pod;
      pin.sysctls = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
      std::string netns = pinPodNamespaces(pin).network;
      double pinMs = millisecondsSince(start);
      record("pin net+ipc+uts", pinMs);

      cri::PodNetworkRequest request;
      request.podId = pod;
      request.netnsPath = netns;
      request.podName = pod;
      request.podNamespace = "crt-bench";
      request.portMappings = {{cri::PortProtocol::TCP, 8080, 31213, ""}};
      auto addStart = Clock::now();
      cri::setUpPodNetwork(settings, request);
      double addMs = millisecondsSince(addStart);
      record("ADD bridge+host-local+portmap", addMs);
      cri::PodNetworkRequest loRequest = request;
      loRequest.ifName = "lo";
      loRequest.portMappings.clear();
      auto loStart = Clock::now();
      cri::setUpPodNetwork(loopback, loRequest);
      double loMs = millisecondsSince(loStart);
      record("ADD loopback plugin", loMs);
      record("pin + ADD", pinMs + addMs);
      record("pin + ADD + loopback plugin", pinMs + addMs + loMs);

      auto delStart = Clock::now();
      cri::tearDownPodNetwork(loopback, loRequest);
      double loDelMs = millisecondsSince(delStart);
      record("DEL loopback plugin", loDelMs);
      auto mainDelStart = Clock::now();
      cri::tearDownPodNetwork(settings, request);
      double delMs = millisecondsSince(mainDelStart);
      record("DEL bridge+host-local+portmap", delMs);
      auto unpinStart = Clock::now();
      unpinPodNamespaces(nsDir, pod);
      double unpinMs = millisecondsSince(unpinStart);
      record("unpin", unpinMs);
      record("DEL + unpin", delMs + unpinMs);
      record("DEL + loopback DEL + unpin", delMs + loDelMs + unpinMs);

      auto holderStart = Clock::now();
      PodPidHolder holder = startPodPidHolder(nsDir, pod, PodPidHolderOptions{CRIO_POD_INIT});
      record("PID holder start", millisecondsSince(holderStart));
      if (i == 0) {
        printf("PID holder memory (forked from this benchmark): %s\n",
               memoryOf(holder.pid).c_str());
      }
      auto stopStart = Clock::now();
      stopPodPidHolder(nsDir, pod);
      record("PID holder stop", millisecondsSince(stopStart));
    }
  } catch (const std::exception& e) {
    fprintf(stderr, "network-bench: %s\n", e.what());
    status = 1;
  }

  printf("%-40s %8s %8s %8s %8s  (ms, %d iterations)\n", "step", "median", "p90", "min", "max",
         iterations);
  for (auto& [name, values] : samples) {
    std::sort(values.begin(), values.end());
    size_t n = values.size();
    double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    double p90 = values[std::min(n - 1, (n * 9 + 9) / 10 - 1)];
    printf("%-40s %8.1f %8.1f %8.1f %8.1f\n", name.c_str(), median, p90, values.front(),
           values.back());
  }

  for (int i = 0; i < iterations; ++i) {
    std::string pod = "bench-" + std::to_string(i);
    try {
      unpinPodNamespaces(nsDir, pod);
      stopPodPidHolder(nsDir, pod);
    } catch (const std::exception&) {
    }
  }
  umount2(nsDir.c_str(), MNT_DETACH);
  fs::remove_all(root);
  std::string left = guard.restore();
  if (!left.empty()) {
    fprintf(stderr, "network-bench: %s\n", left.c_str());
    status = 1;
  }
  return status;
}

}  // namespace
}  // namespace crio::testing

int main(int argc, char** argv) {
  int iterations = 20;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
      iterations = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: network-bench [--iterations N]\n");
      return 2;
    }
  }
  if (iterations < 1) iterations = 1;
  return crio::testing::run(iterations);
}
