#include "crio-cri/rpc/image-service.h"

#include "crio-cri/rpc/dispatch.h"

namespace crio::cri {

grpc::ServerUnaryReactor* ImageService::ListImages(grpc::CallbackServerContext* context,
                                                   const runtime::v1::ListImagesRequest*,
                                                   runtime::v1::ListImagesResponse*) {
  return unimplemented(context, "ListImages");
}

grpc::ServerWriteReactor<runtime::v1::StreamImagesResponse>* ImageService::StreamImages(
    grpc::CallbackServerContext*, const runtime::v1::StreamImagesRequest*) {
  return unimplementedStream<runtime::v1::StreamImagesResponse>("StreamImages");
}

grpc::ServerUnaryReactor* ImageService::ImageStatus(grpc::CallbackServerContext* context,
                                                    const runtime::v1::ImageStatusRequest*,
                                                    runtime::v1::ImageStatusResponse*) {
  return unimplemented(context, "ImageStatus");
}

grpc::ServerUnaryReactor* ImageService::PullImage(grpc::CallbackServerContext* context,
                                                  const runtime::v1::PullImageRequest*,
                                                  runtime::v1::PullImageResponse*) {
  return unimplemented(context, "PullImage");
}

grpc::ServerUnaryReactor* ImageService::RemoveImage(grpc::CallbackServerContext* context,
                                                    const runtime::v1::RemoveImageRequest*,
                                                    runtime::v1::RemoveImageResponse*) {
  return unimplemented(context, "RemoveImage");
}

grpc::ServerUnaryReactor* ImageService::ImageFsInfo(grpc::CallbackServerContext* context,
                                                    const runtime::v1::ImageFsInfoRequest*,
                                                    runtime::v1::ImageFsInfoResponse*) {
  return unimplemented(context, "ImageFsInfo");
}

}  // namespace crio::cri
