#include "common/log.h"
#include "crio-cri/image/image-catalog.h"
#include "crio-cri/rpc/image-handlers.h"

namespace crio::cri {

void removeImage(Daemon& daemon, const runtime::v1::RemoveImageRequest& request,
                 runtime::v1::RemoveImageResponse&) {
  const std::string& reference = request.image().image();
  checkImageReference(reference, "RemoveImage");

  // Removing by any name removes the image with every name; an absent image is success.
  bool removed = withContext("remove image " + reference,
                             [&]() { return crio::cri::removeImage(daemon, reference); });
  if (removed) {
    log::info("Removed image", {{"image", reference}});
  } else {
    log::debug("image to remove is already absent", {{"image", reference}});
  }
}

void imageFsInfo(Daemon& daemon, const runtime::v1::ImageFsInfoRequest&,
                 runtime::v1::ImageFsInfoResponse& response) {
  FsUsage usage = imageFsUsage(daemon);
  auto* fs = response.add_image_filesystems();
  fs->set_timestamp(usage.timestamp);
  fs->mutable_fs_id()->set_mountpoint(usage.mountpoint);
  fs->mutable_used_bytes()->set_value(usage.usedBytes);
  fs->mutable_inodes_used()->set_value(usage.inodesUsed);
}

}  // namespace crio::cri
