// A container as crio-cri keeps it: the request, its image, its monitor and its last known
// status. Persisted as STATE_DIR/containers/ID.json; the monitor holds the authoritative exit.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cri/api.pb.h"

namespace crio::cri {

enum class ContainerState { CREATED, RUNNING, EXITED, UNKNOWN };

struct Container {
  std::string id;  // 64 hex characters
  std::string podId;
  runtime::v1::ContainerConfig config;
  std::string imageId;    // CRI image id ("sha256:...")
  std::string imageName;  // as the request named it
  std::string logPath;
  std::string runtimeHandler;

  ContainerState state = ContainerState::CREATED;
  int64_t createdAt = 0;  // nanoseconds since the Unix epoch
  int64_t startedAt = 0;
  int64_t finishedAt = 0;
  int32_t exitCode = 0;
  std::string reason;  // Completed, Error, OOMKilled, ...
  std::string message;

  std::string bundleDir;  // RUN_DIR/containers/ID: config.json, monitor.log
  std::string rootfsDir;  // the mounted overlay, BUNDLE/rootfs
  std::string exitDir;    // where the monitor writes the exit record
  std::string monitorSocket;
  int monitorPid = 0;
  int stopSignal = 15;  // the request's stop signal, else the image's StopSignal, else SIGTERM

  bool removed = false;  // in memory only: set under the entry lock once RemoveContainer is done

  const std::string& name() const { return config.metadata().name(); }
};

nlohmann::json toJson(const Container& container);
Container containerFromJson(const nlohmann::json& record);

std::string_view containerStateName(ContainerState state);

}  // namespace crio::cri
