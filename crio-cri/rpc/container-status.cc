// ContainerStatus and ListContainers.
#include "crio-cri/container/container-runtime.h"
#include "crio-cri/rpc/container-handlers.h"

namespace crio::cri {

namespace {

runtime::v1::ContainerState criState(ContainerState state) {
  switch (state) {
    case ContainerState::CREATED:
      return runtime::v1::CONTAINER_CREATED;
    case ContainerState::RUNNING:
      return runtime::v1::CONTAINER_RUNNING;
    case ContainerState::EXITED:
      return runtime::v1::CONTAINER_EXITED;
    case ContainerState::UNKNOWN:
      return runtime::v1::CONTAINER_UNKNOWN;
  }
  return runtime::v1::CONTAINER_UNKNOWN;
}

bool matches(const Container& c, const runtime::v1::ContainerFilter& filter) {
  if (!filter.id().empty() && c.id.compare(0, filter.id().size(), filter.id()) != 0) return false;
  if (!filter.pod_sandbox_id().empty() &&
      c.podId.compare(0, filter.pod_sandbox_id().size(), filter.pod_sandbox_id()) != 0) {
    return false;
  }
  if (filter.has_state() && criState(c.state) != filter.state().state()) return false;
  for (const auto& [key, value] : filter.label_selector()) {
    auto it = c.config.labels().find(key);
    if (it == c.config.labels().end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

void containerStatus(Daemon& daemon, const runtime::v1::ContainerStatusRequest& request,
                     runtime::v1::ContainerStatusResponse& response) {
  Container c = containerStatus(daemon, request.container_id());
  auto* status = response.mutable_status();
  status->set_id(c.id);
  *status->mutable_metadata() = c.config.metadata();
  status->set_state(criState(c.state));
  status->set_created_at(c.createdAt);
  status->set_started_at(c.startedAt);
  status->set_finished_at(c.finishedAt);
  status->set_exit_code(c.exitCode);
  status->mutable_image()->set_image(c.imageName);
  status->set_image_ref(c.imageId);
  status->set_image_id(c.imageId);
  status->set_reason(c.reason);
  status->set_message(c.message);
  *status->mutable_labels() = c.config.labels();
  *status->mutable_annotations() = c.config.annotations();
  *status->mutable_mounts() = c.config.mounts();
  status->set_log_path(c.logPath);
  if (request.verbose()) {
    nlohmann::json info = {{"pid", 0}, {"record", toJson(c)}};
    if (c.state == ContainerState::RUNNING) {
      try {
        info["pid"] = monitorState(daemon, c).pid;
      } catch (const Error&) {
        // The pid is best effort; the state above is what counts.
      }
    }
    (*response.mutable_info())["info"] = info.dump();
  }
}

void listContainers(Daemon& daemon, const runtime::v1::ListContainersRequest& request,
                    runtime::v1::ListContainersResponse& response) {
  for (const auto& entry : daemon.containers().all()) {
    Container c;
    {
      std::lock_guard<std::mutex> lock(entry->lock);
      if (entry->value.removed) continue;
      c = entry->value;
    }
    if (request.has_filter() && !matches(c, request.filter())) continue;
    auto* out = response.add_containers();
    out->set_id(c.id);
    out->set_pod_sandbox_id(c.podId);
    *out->mutable_metadata() = c.config.metadata();
    out->mutable_image()->set_image(c.imageName);
    out->set_image_ref(c.imageId);
    out->set_image_id(c.imageId);
    out->set_state(criState(c.state));
    out->set_created_at(c.createdAt);
    *out->mutable_labels() = c.config.labels();
    *out->mutable_annotations() = c.config.annotations();
  }
}

}  // namespace crio::cri
