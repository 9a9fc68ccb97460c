// PodSandboxStatus and ListPodSandbox. Both read a copy of each pod taken under its short-held
// entry lock, so they never wait for a Run, Stop or Remove in progress.
#include "common/error.h"
#include "crio-cri/rpc/sandbox-handlers.h"

namespace crio::cri {

namespace {

PodSandbox snapshot(ObjectTable<PodSandbox>::Entry& entry) {
  std::lock_guard<std::mutex> guard(entry.lock);
  return entry.value;
}

runtime::v1::PodSandboxState criState(PodState state) {
  return state == PodState::READY ? runtime::v1::SANDBOX_READY : runtime::v1::SANDBOX_NOTREADY;
}

bool matchesFilter(const PodSandbox& pod, const runtime::v1::PodSandboxFilter& filter) {
  if (!filter.id().empty() && pod.id.compare(0, filter.id().size(), filter.id()) != 0) {
    return false;
  }
  if (filter.has_state() && filter.state().state() != criState(pod.state)) return false;
  const auto& labels = pod.config.labels();
  for (const auto& [key, value] : filter.label_selector()) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

void podSandboxStatus(Daemon& daemon, const runtime::v1::PodSandboxStatusRequest& request,
                      runtime::v1::PodSandboxStatusResponse& response) {
  if (request.pod_sandbox_id().empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, "PodSandboxStatus: pod_sandbox_id is empty");
  }
  PodSandbox pod = snapshot(*daemon.pods().get(request.pod_sandbox_id()));
  if (pod.removed) fail(ErrorCategory::NOT_FOUND, "pod sandbox " + pod.id + " not found");

  auto& status = *response.mutable_status();
  status.set_id(pod.id);
  *status.mutable_metadata() = pod.config.metadata();
  status.set_state(criState(pod.state));
  status.set_created_at(pod.createdAt);
  if (!pod.ips.empty()) {
    auto& network = *status.mutable_network();
    network.set_ip(pod.ips.front());
    for (size_t i = 1; i < pod.ips.size(); ++i)
      network.add_additional_ips()->set_ip(pod.ips[i]);
  }
  *status.mutable_linux()->mutable_namespaces()->mutable_options() =
      pod.config.linux().security_context().namespace_options();
  *status.mutable_labels() = pod.config.labels();
  *status.mutable_annotations() = pod.config.annotations();
  status.set_runtime_handler(pod.runtimeHandler);
  response.set_timestamp(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());

  if (request.verbose()) (*response.mutable_info())["info"] = toJson(pod).dump();
}

void listPodSandbox(Daemon& daemon, const runtime::v1::ListPodSandboxRequest& request,
                    runtime::v1::ListPodSandboxResponse& response) {
  for (const auto& entry : daemon.pods().all()) {
    PodSandbox pod = snapshot(*entry);
    if (pod.removed || !matchesFilter(pod, request.filter())) continue;
    auto& item = *response.add_items();
    item.set_id(pod.id);
    *item.mutable_metadata() = pod.config.metadata();
    item.set_state(criState(pod.state));
    item.set_created_at(pod.createdAt);
    *item.mutable_labels() = pod.config.labels();
    *item.mutable_annotations() = pod.config.annotations();
    item.set_runtime_handler(pod.runtimeHandler);
  }
}

}  // namespace crio::cri
