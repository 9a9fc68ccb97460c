// ImageService: PullImage, ListImages, ImageStatus, RemoveImage, ImageFsInfo.
#pragma once

#include "cri/api.pb.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

void pullImage(Daemon& daemon, const runtime::v1::PullImageRequest& request,
               runtime::v1::PullImageResponse& response);
void listImages(Daemon& daemon, const runtime::v1::ListImagesRequest& request,
                runtime::v1::ListImagesResponse& response);
void imageStatus(Daemon& daemon, const runtime::v1::ImageStatusRequest& request,
                 runtime::v1::ImageStatusResponse& response);
void removeImage(Daemon& daemon, const runtime::v1::RemoveImageRequest& request,
                 runtime::v1::RemoveImageResponse& response);
void imageFsInfo(Daemon& daemon, const runtime::v1::ImageFsInfoRequest& request,
                 runtime::v1::ImageFsInfoResponse& response);

}  // namespace crio::cri
