// The Cap'n Proto edge of crio-imaged: the Imaged, Pull and FileHandle servers of
// ipc/imaged.capnp and ipc/file.capnp. Requests are translated to the project's own types here
// and handed to ImageResolver and BlobCache. Errors leave as "[category] message" exceptions.
#pragma once

#include "crio-imaged/blob-cache.h"
#include "crio-imaged/image-resolver.h"
#include "crio-imaged/pull-settings.h"
#include "ipc/daemon-info.h"
#include "ipc/imaged.capnp.h"

namespace crio::imaged {

class ImagedServer final : public ipc::DaemonServer<ipc::schema::Imaged::Server> {
 public:
  ImagedServer(ipc::DaemonInfo info, ImageResolver& resolver, const PullSettingsHolder& settings,
               BlobCache& cache);

  kj::Promise<void> resolve(ResolveContext context) override;
  kj::Promise<void> candidates(CandidatesContext context) override;

 private:
  ImageResolver& resolver_;
  const PullSettingsHolder& settings_;
  BlobCache& cache_;
};

}  // namespace crio::imaged
