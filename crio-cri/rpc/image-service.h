// runtime.v1.ImageService on gRPC's callback API; see runtime-service.h.
#pragma once

#include "cri/api.grpc.pb.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

class ImageService final : public runtime::v1::ImageService::CallbackService {
 public:
  explicit ImageService(Daemon& daemon) : daemon_(daemon) {}

  grpc::ServerUnaryReactor* ListImages(grpc::CallbackServerContext* context,
                                       const runtime::v1::ListImagesRequest* request,
                                       runtime::v1::ListImagesResponse* response) override;
  grpc::ServerWriteReactor<runtime::v1::StreamImagesResponse>* StreamImages(
      grpc::CallbackServerContext* context,
      const runtime::v1::StreamImagesRequest* request) override;
  grpc::ServerUnaryReactor* ImageStatus(grpc::CallbackServerContext* context,
                                        const runtime::v1::ImageStatusRequest* request,
                                        runtime::v1::ImageStatusResponse* response) override;
  grpc::ServerUnaryReactor* PullImage(grpc::CallbackServerContext* context,
                                      const runtime::v1::PullImageRequest* request,
                                      runtime::v1::PullImageResponse* response) override;
  grpc::ServerUnaryReactor* RemoveImage(grpc::CallbackServerContext* context,
                                        const runtime::v1::RemoveImageRequest* request,
                                        runtime::v1::RemoveImageResponse* response) override;
  grpc::ServerUnaryReactor* ImageFsInfo(grpc::CallbackServerContext* context,
                                        const runtime::v1::ImageFsInfoRequest* request,
                                        runtime::v1::ImageFsInfoResponse* response) override;

 private:
  Daemon& daemon_;
};

}  // namespace crio::cri
