// cri-pull: one CRI PullImage call on a CRI socket, timed. For bench/pull-image.sh, which must not
// depend on crictl being installed.
//
//   cri-pull --socket /run/crio/crio.sock --image REGISTRY/REPO:TAG [--timeout SECONDS]
//
// Output on success: one line "image_ref=ID seconds=S". On failure the gRPC status goes to stderr
// and the exit status is 1.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>

#include "cri/api.grpc.pb.h"

int main(int argc, char** argv) {
  CLI::App app{"cri-pull: time one CRI PullImage call"};
  std::string socket, image;
  int timeoutSeconds = 600;
  app.add_option("--socket", socket, "CRI socket path")->required();
  app.add_option("--image", image, "Image reference to pull")->required();
  app.add_option("--timeout", timeoutSeconds, "Deadline of the call, in seconds");
  CLI11_PARSE(app, argc, argv);

  auto channel = grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());
  auto images = runtime::v1::ImageService::NewStub(channel);
  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(image);
  runtime::v1::PullImageResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeoutSeconds));

  auto start = std::chrono::steady_clock::now();
  grpc::Status status = images->PullImage(&context, request, &response);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) {
    std::cerr << "PullImage failed: code " << status.error_code() << ": " << status.error_message()
              << "\n";
    return 1;
  }
  std::cout << "image_ref=" << response.image_ref() << " seconds=" << seconds << "\n";
  return 0;
}
