// The floor of a pod's life for bench/lifecycle.sh: the least work that gives a busybox process a
// CNI-networked network namespace and an overlay root filesystem, done without the runtime, and
// its teardown.
//
// Up creates and pins a network namespace with `lo` up. It runs CNI ADD of the plugins of one
// conflist in order, each plugin's result being the next one's prevResult. It makes an upper and
// a work directory, mounts an overlay of `lowerDir`, writes config.json and runs `runc run -d`.
// Down runs `runc kill` with SIGKILL, waits for the container's init to exit, runs `runc delete`,
// unmounts and removes the bundle, runs CNI DEL in reverse order with the ADD's result and
// unpins the namespace.
//
// The process that uses it must be a child subreaper (PR_SET_CHILD_SUBREAPER), so that the
// container's init, orphaned when `runc run -d` exits, is reaped here.
#pragma once

#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crio::bench {

struct FloorSettings {
  std::string conflist;                 // the CNI network configuration list, as a file
  std::vector<std::string> pluginDirs;  // CNI_PATH
  std::string runc;                     // absolute path of runc
  std::string runcRoot;                 // runc --root
  std::string specTemplate;             // config.json written by `runc spec`
  std::string lowerDir;                 // the image's unpacked root filesystem
  std::string workDir;                  // bundles and namespace pins (a tmpfs, as /run is)
  std::string layerDir;                 // upper and work directories and container logs
  std::vector<std::string> args;        // the container's process args
};

struct FloorPod {
  std::string id;
  std::string netns;
  std::string bundle;
  std::string layer;  // upper/, work/ and the container's stdout and stderr
  std::string rootfs;
  std::string cniArgs;
  nlohmann::json capabilities;  // the CNI capability arguments (runtimeConfig)
  nlohmann::json cniResult;     // the last ADD result; null until ADD succeeded
  pid_t pid = -1;               // the container's init, once runc run -d succeeded
  bool netnsPinned = false;
  bool mounted = false;
  bool created = false;  // the container exists in runc's state
};

// Receives one timed step: its name and milliseconds.
using StepRecorder = std::function<void(const std::string&, double)>;

class LifecycleFloor {
 public:
  // Reads the conflist and the spec template; makes the namespace pin folder a mount of its own.
  explicit LifecycleFloor(FloorSettings settings);
  ~LifecycleFloor();
  LifecycleFloor(const LifecycleFloor&) = delete;
  LifecycleFloor& operator=(const LifecycleFloor&) = delete;

  // Brings up pod `id` with one TCP port mapping hostPort -> containerPort. On an error, `pod`
  // records what was done so far, for down().
  void up(FloorPod& pod, const std::string& id, int hostPort, int containerPort,
          const StepRecorder& record);
  // Undoes whatever `pod` records as done. Steps run even when an earlier one failed, and the
  // first error is thrown at the end.
  void down(FloorPod& pod, const StepRecorder& record);

 private:
  nlohmann::json runPlugins(const FloorPod& pod, const std::string& command);
  void pinNetns(FloorPod& pod);
  void runContainer(FloorPod& pod);
  void killContainer(FloorPod& pod);

  FloorSettings settings_;
  nlohmann::json conflist_;
  nlohmann::json specTemplate_;
  std::string nsDir_;
  std::vector<std::string> pluginPaths_;  // one per plugin of the list, in order
};

}  // namespace crio::bench
