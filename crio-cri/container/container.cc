#include "crio-cri/container/container.h"

#include "crio-cri/state/proto-json.h"

namespace crio::cri {

namespace {

ContainerState stateFromName(const std::string& name) {
  if (name == "created") return ContainerState::CREATED;
  if (name == "running") return ContainerState::RUNNING;
  if (name == "exited") return ContainerState::EXITED;
  return ContainerState::UNKNOWN;
}

}  // namespace

std::string_view containerStateName(ContainerState state) {
  switch (state) {
    case ContainerState::CREATED:
      return "created";
    case ContainerState::RUNNING:
      return "running";
    case ContainerState::EXITED:
      return "exited";
    case ContainerState::UNKNOWN:
      return "unknown";
  }
  return "unknown";
}

nlohmann::json toJson(const Container& c) {
  return {
      {"id", c.id},
      {"podId", c.podId},
      {"config", messageToJson(c.config)},
      {"imageId", c.imageId},
      {"imageName", c.imageName},
      {"logPath", c.logPath},
      {"runtimeHandler", c.runtimeHandler},
      {"state", containerStateName(c.state)},
      {"createdAt", c.createdAt},
      {"startedAt", c.startedAt},
      {"finishedAt", c.finishedAt},
      {"exitCode", c.exitCode},
      {"reason", c.reason},
      {"message", c.message},
      {"bundleDir", c.bundleDir},
      {"rootfsDir", c.rootfsDir},
      {"exitDir", c.exitDir},
      {"stopSignal", c.stopSignal},
      {"monitorSocket", c.monitorSocket},
      {"monitorPid", c.monitorPid},
  };
}

Container containerFromJson(const nlohmann::json& record) {
  Container c;
  c.id = record.at("id").get<std::string>();
  c.podId = record.at("podId").get<std::string>();
  messageFromJson(record.at("config"), c.config);
  c.imageId = record.value("imageId", "");
  c.imageName = record.value("imageName", "");
  c.logPath = record.value("logPath", "");
  c.runtimeHandler = record.value("runtimeHandler", "");
  c.state = stateFromName(record.value("state", ""));
  c.createdAt = record.value("createdAt", int64_t{0});
  c.startedAt = record.value("startedAt", int64_t{0});
  c.finishedAt = record.value("finishedAt", int64_t{0});
  c.exitCode = record.value("exitCode", 0);
  c.reason = record.value("reason", "");
  c.message = record.value("message", "");
  c.bundleDir = record.value("bundleDir", "");
  c.rootfsDir = record.value("rootfsDir", "");
  c.exitDir = record.value("exitDir", "");
  c.stopSignal = record.value("stopSignal", 15);
  c.monitorSocket = record.value("monitorSocket", "");
  c.monitorPid = record.value("monitorPid", 0);
  return c;
}

}  // namespace crio::cri
