// The Stored interface (ipc/stored.capnp) over the store: converts between Cap'n Proto and the
// store's own types, and runs every call that touches the disk on a worker thread, never on the
// KJ event loop, which only moves messages and fds.
//
// Threads: imports run on `importPool` (one layer per thread; a second import of a layer waits
// on its thread for the first, see layer-store.h); metadata calls, removals and usage run on
// `metadataPool`, so that a long unpack never delays ListImages. Results come back to the loop
// through cross-thread promise fulfillers.
#pragma once

#include "common/worker-pool.h"
#include "crio-stored/container-layers.h"
#include "crio-stored/image-store.h"
#include "crio-stored/layer-store.h"
#include "ipc/daemon-info.h"
#include "ipc/stored.capnp.h"

namespace crio::stored {

// Bound on short text fields of a request (media types).
constexpr size_t MAX_MEDIA_TYPE = 256;

class StoredServer final : public ipc::DaemonServer<ipc::schema::Stored::Server> {
 public:
  StoredServer(ipc::DaemonInfo info, ImageStore& images, LayerStore& layers, WorkerPool& importPool,
               WorkerPool& metadataPool, ContainerLayers& containers);

  kj::Promise<void> hasLayer(HasLayerContext context) override;
  kj::Promise<void> importLayer(ImportLayerContext context) override;
  kj::Promise<void> commitImage(CommitImageContext context) override;
  kj::Promise<void> listImages(ListImagesContext context) override;
  kj::Promise<void> findImage(FindImageContext context) override;
  kj::Promise<void> removeImage(RemoveImageContext context) override;
  kj::Promise<void> imageFsUsage(ImageFsUsageContext context) override;
  kj::Promise<void> createContainerLayer(CreateContainerLayerContext context) override;
  kj::Promise<void> removeContainerLayer(RemoveContainerLayerContext context) override;
  kj::Promise<void> containerLayer(ContainerLayerContext context) override;

 private:
  ImageStore& images_;
  LayerStore& layers_;
  WorkerPool& importPool_;
  WorkerPool& metadataPool_;
  ContainerLayers& containers_;
};

}  // namespace crio::stored
