#include "crio-cri/rpc/image-service.h"

#include "crio-cri/rpc/dispatch.h"
#include "crio-cri/rpc/image-handlers.h"

namespace crio::cri {

grpc::ServerUnaryReactor* ImageService::ListImages(grpc::CallbackServerContext* context,
                                                   const runtime::v1::ListImagesRequest* request,
                                                   runtime::v1::ListImagesResponse* response) {
  return dispatch(daemon_, context, "ListImages", RunOn::WORKER_POOL,
                  [this, request, response]() { listImages(daemon_, *request, *response); });
}

grpc::ServerWriteReactor<runtime::v1::StreamImagesResponse>* ImageService::StreamImages(
    grpc::CallbackServerContext*, const runtime::v1::StreamImagesRequest*) {
  return unimplementedStream<runtime::v1::StreamImagesResponse>("StreamImages");
}

grpc::ServerUnaryReactor* ImageService::ImageStatus(grpc::CallbackServerContext* context,
                                                    const runtime::v1::ImageStatusRequest* request,
                                                    runtime::v1::ImageStatusResponse* response) {
  return dispatch(daemon_, context, "ImageStatus", RunOn::WORKER_POOL,
                  [this, request, response]() { imageStatus(daemon_, *request, *response); });
}

grpc::ServerUnaryReactor* ImageService::PullImage(grpc::CallbackServerContext* context,
                                                  const runtime::v1::PullImageRequest* request,
                                                  runtime::v1::PullImageResponse* response) {
  return dispatch(daemon_, context, "PullImage", RunOn::WORKER_POOL,
                  [this, request, response]() { pullImage(daemon_, *request, *response); });
}

grpc::ServerUnaryReactor* ImageService::RemoveImage(grpc::CallbackServerContext* context,
                                                    const runtime::v1::RemoveImageRequest* request,
                                                    runtime::v1::RemoveImageResponse* response) {
  return dispatch(daemon_, context, "RemoveImage", RunOn::WORKER_POOL,
                  [this, request, response]() { removeImage(daemon_, *request, *response); });
}

grpc::ServerUnaryReactor* ImageService::ImageFsInfo(grpc::CallbackServerContext* context,
                                                    const runtime::v1::ImageFsInfoRequest* request,
                                                    runtime::v1::ImageFsInfoResponse* response) {
  return dispatch(daemon_, context, "ImageFsInfo", RunOn::WORKER_POOL,
                  [this, request, response]() { imageFsInfo(daemon_, *request, *response); });
}

}  // namespace crio::cri
