#include "common/log.h"
#include "crio-cri/image/image-puller.h"
#include "crio-cri/image/image-record.h"
#include "crio-cri/rpc/image-handlers.h"

namespace crio::cri {

void pullImage(Daemon& daemon, const runtime::v1::PullImageRequest& request,
               runtime::v1::PullImageResponse& response) {
  const std::string& reference = request.image().image();
  checkImageReference(reference, "PullImage");

  PullCredentials credentials;
  credentials.username = request.auth().username();
  credentials.password = request.auth().password();
  credentials.auth = request.auth().auth();
  credentials.serverAddress = request.auth().server_address();
  credentials.identityToken = request.auth().identity_token();
  credentials.registryToken = request.auth().registry_token();

  log::info("Pulling image", {{"image", reference}});
  ImageRecord image;
  try {
    image = withContext("pull image " + reference,
                        [&]() { return crio::cri::pullImage(daemon, reference, credentials); });
  } catch (const Error& e) {
    log::warn("Pull failed", {{"image", reference}, {"error", e.what()}});
    throw;
  }
  log::info("Pulled image", {{"image", reference}, {"id", image.criId()}});
  response.set_image_ref(image.criId());
}

}  // namespace crio::cri
