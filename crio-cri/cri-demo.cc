// cri-demo: a small CRI client for `run.sh --demo`. It pulls IMAGE, runs a pod in the host's
// network namespace with one container that prints a line, prints the container's status and CRI
// log, and removes the container and the pod again.
//
//   cri-demo SOCKET IMAGE LOG_DIR
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "cri/api.grpc.pb.h"

namespace {

using namespace runtime::v1;

std::unique_ptr<grpc::ClientContext> context(int seconds = 60) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

void check(const grpc::Status& status, const char* call) {
  if (status.ok()) return;
  throw std::runtime_error(std::string(call) + " failed: " + status.error_message());
}

int run(const std::string& socket, const std::string& image, const std::string& logDir) {
  auto channel = grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());
  auto runtime = RuntimeService::NewStub(channel);
  auto images = ImageService::NewStub(channel);

  PullImageRequest pull;
  pull.mutable_image()->set_image(image);
  PullImageResponse pulled;
  check(images->PullImage(context().get(), pull, &pulled), "PullImage");
  std::cout << "pulled " << image << " as " << pulled.image_ref() << "\n";

  PodSandboxConfig pod;
  pod.mutable_metadata()->set_name("demo");
  pod.mutable_metadata()->set_namespace_("default");
  pod.mutable_metadata()->set_uid("demo-1");
  pod.set_log_directory(logDir);
  pod.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(NODE);
  RunPodSandboxRequest runPod;
  *runPod.mutable_config() = pod;
  RunPodSandboxResponse ranPod;
  check(runtime->RunPodSandbox(context().get(), runPod, &ranPod), "RunPodSandbox");
  std::string podId = ranPod.pod_sandbox_id();
  std::cout << "pod " << podId << "\n";

  CreateContainerRequest create;
  create.set_pod_sandbox_id(podId);
  *create.mutable_sandbox_config() = pod;
  auto* config = create.mutable_config();
  config->mutable_metadata()->set_name("hello");
  config->mutable_image()->set_image(image);
  config->add_command("/bin/sh");
  config->add_command("-c");
  config->add_command("echo hello from a crio-suite container");
  config->set_log_path("hello.log");
  CreateContainerResponse created;
  check(runtime->CreateContainer(context().get(), create, &created), "CreateContainer");
  std::string id = created.container_id();

  StartContainerRequest start;
  start.set_container_id(id);
  StartContainerResponse started;
  check(runtime->StartContainer(context().get(), start, &started), "StartContainer");

  ContainerStatusResponse status;
  for (int i = 0; i < 100; ++i) {
    ContainerStatusRequest request;
    request.set_container_id(id);
    status.Clear();
    check(runtime->ContainerStatus(context().get(), request, &status), "ContainerStatus");
    if (status.status().state() == CONTAINER_EXITED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "container " << id << "\n"
            << status.status().DebugString() << "log " << status.status().log_path() << ":\n";
  std::ifstream log(status.status().log_path());
  std::cout << log.rdbuf() << std::flush;

  RemoveContainerRequest remove;
  remove.set_container_id(id);
  RemoveContainerResponse removed;
  check(runtime->RemoveContainer(context().get(), remove, &removed), "RemoveContainer");
  StopPodSandboxRequest stopPod;
  stopPod.set_pod_sandbox_id(podId);
  StopPodSandboxResponse stoppedPod;
  check(runtime->StopPodSandbox(context().get(), stopPod, &stoppedPod), "StopPodSandbox");
  RemovePodSandboxRequest removePod;
  removePod.set_pod_sandbox_id(podId);
  RemovePodSandboxResponse removedPod;
  check(runtime->RemovePodSandbox(context().get(), removePod, &removedPod), "RemovePodSandbox");
  std::cout << "removed the container and the pod\n";
  return status.status().exit_code() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: cri-demo SOCKET IMAGE LOG_DIR\n";
    return 2;
  }
  try {
    return run(argv[1], argv[2], argv[3]);
  } catch (const std::exception& e) {
    std::cerr << "cri-demo: " << e.what() << "\n";
    return 1;
  }
}
