// GCC 12 sees kj::_::ExceptionOr<T>'s value (a kj::Maybe) as maybe-uninitialized when T is a
// std::vector or std::optional moved out of a resolved promise; it is set on that path. The
// warning comes from inlined library headers, so it is turned off for the whole file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "crio-stored/stored-server.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <type_traits>

#include "common/error.h"
#include "common/log.h"
#include "crio-stored/digest.h"
#include "ipc/errors.h"

namespace crio::stored {

namespace schema = ipc::schema;

namespace {

// Runs `fn` on `pool` and resolves on the calling (event-loop) thread with its result; a thrown
// crio::Error keeps its category.
template <typename T>
kj::Promise<T> onWorker(WorkerPool& pool, std::function<T()> fn) {
  auto paf = kj::newPromiseAndCrossThreadFulfiller<T>();
  auto fulfiller =
      std::make_shared<kj::Own<kj::CrossThreadPromiseFulfiller<T>>>(kj::mv(paf.fulfiller));
  pool.submit([fulfiller, fn = std::move(fn)]() {
    try {
      if constexpr (std::is_void_v<T>) {
        fn();
        (*fulfiller)->fulfill();
      } else {
        (*fulfiller)->fulfill(fn());
      }
    } catch (const Error& e) {
      (*fulfiller)->reject(ipc::toKjException(e));
    } catch (const std::exception& e) {
      (*fulfiller)->reject(ipc::toKjException(Error(ErrorCategory::INTERNAL, e.what())));
    }
  });
  return kj::mv(paf.promise);
}

std::string boundedText(capnp::Text::Reader text, size_t bound, const char* what) {
  if (text.size() > bound) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string(what) + " is longer than " + std::to_string(bound) + " bytes");
  }
  return std::string(text.cStr(), text.size());
}

std::string bytes(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

capnp::Data::Reader asData(const std::string& bytes) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size());
}

void fillLayer(const LayerRecord& layer, schema::LayerInfo::Builder out) {
  out.setChainId(layer.chainId);
  out.setDiffId(layer.diffId);
  out.setParentChainId(layer.parentChainId);
  out.setSize(layer.size);
}

void fillImage(const ImageRecord& image, schema::ImageRecord::Builder out) {
  out.setId(image.id);
  auto names = out.initNames(static_cast<unsigned>(image.names.size()));
  for (unsigned i = 0; i < names.size(); ++i)
    names.set(i, image.names[i]);
  auto digests = out.initRepoDigests(static_cast<unsigned>(image.repoDigests.size()));
  for (unsigned i = 0; i < digests.size(); ++i)
    digests.set(i, image.repoDigests[i]);
  out.setTopChainId(image.topChainId);
  auto layers = out.initLayerChainIds(static_cast<unsigned>(image.layerChainIds.size()));
  for (unsigned i = 0; i < layers.size(); ++i)
    layers.set(i, image.layerChainIds[i]);
  out.setConfig(asData(image.config));
  out.setManifest(asData(image.manifest));
  out.setManifestMediaType(image.manifestMediaType);
  out.setSize(image.size);
  out.setCreatedAt(image.createdAt);
}

ImageRecord readImage(schema::ImageRecord::Reader in) {
  if (in.getNames().size() > MAX_IMAGE_NAMES || in.getRepoDigests().size() > MAX_IMAGE_NAMES ||
      in.getLayerChainIds().size() > MAX_IMAGE_LAYERS) {
    fail(ErrorCategory::INVALID_ARGUMENT, "image record has too many names, digests or layers");
  }
  ImageRecord image;
  image.id = boundedText(in.getId(), 80, "image id");
  if (image.id.rfind(SHA256_PREFIX, 0) == 0) image.id = image.id.substr(SHA256_PREFIX.size());
  for (auto name : in.getNames()) {
    image.names.push_back(boundedText(name, MAX_IMAGE_NAME_LENGTH, "image name"));
  }
  for (auto digest : in.getRepoDigests()) {
    image.repoDigests.push_back(boundedText(digest, MAX_IMAGE_NAME_LENGTH, "repo digest"));
  }
  image.topChainId = boundedText(in.getTopChainId(), 80, "top chain id");
  for (auto chain : in.getLayerChainIds()) {
    image.layerChainIds.push_back(boundedText(chain, 80, "layer chain id"));
  }
  image.config = bytes(in.getConfig());
  image.manifest = bytes(in.getManifest());
  image.manifestMediaType =
      boundedText(in.getManifestMediaType(), MAX_MEDIA_TYPE, "manifest media type");
  return image;
}

void fillContainerLayer(const ContainerLayer& layer, schema::ContainerLayer::Builder out) {
  out.setContainerId(layer.containerId);
  out.setImageId(layer.imageId);
  auto lowers = out.initLowerDirs(static_cast<unsigned>(layer.lowerDirs.size()));
  for (unsigned i = 0; i < lowers.size(); ++i)
    lowers.set(i, layer.lowerDirs[i]);
  out.setUpperDir(layer.upperDir);
  out.setWorkDir(layer.workDir);
}

}  // namespace

StoredServer::StoredServer(ipc::DaemonInfo info, ImageStore& images, LayerStore& layers,
                           WorkerPool& importPool, WorkerPool& metadataPool,
                           ContainerLayers& containers)
    : DaemonServer(std::move(info)),
      images_(images),
      layers_(layers),
      importPool_(importPool),
      metadataPool_(metadataPool),
      containers_(containers) {}

kj::Promise<void> StoredServer::hasLayer(HasLayerContext context) {
  return ipc::serve([&]() {
    std::string chain = boundedText(context.getParams().getChainId(), 80, "chain id");
    return onWorker<bool>(metadataPool_, [this, chain]() { return layers_.hasLayer(chain); })
        .then([context](bool present) mutable { context.getResults().setPresent(present); });
  });
}

kj::Promise<void> StoredServer::importLayer(ImportLayerContext context) {
  return ipc::serve([&]() {
    auto params = context.getParams();
    ImportRequest request;
    request.mediaType = boundedText(params.getMediaType(), MAX_MEDIA_TYPE, "media type");
    request.diffId = boundedText(params.getDiffId(), 80, "diff id");
    request.parentChainId = boundedText(params.getParentChainId(), 80, "parent chain id");
    requireDigest(request.diffId, "diff id");
    if (!request.parentChainId.empty()) requireDigest(request.parentChainId, "parent chain id");
    if (!params.hasFile()) fail(ErrorCategory::INVALID_ARGUMENT, "importLayer without a file");

    auto file = params.getFile();
    auto fdPromise = file.getFd();
    return fdPromise.then([this, context, request, file = kj::mv(file)](
                              kj::Maybe<int> maybeFd) mutable -> kj::Promise<void> {
      return ipc::serve([&]() {
        int fd = -1;
        KJ_IF_MAYBE (received, maybeFd) {
          fd = *received;
        }
        if (fd < 0) {
          fail(ErrorCategory::INVALID_ARGUMENT,
               "the file handle carries no file descriptor (it must come over the unix socket)");
        }
        // Our own copy: the capability's descriptor goes when the capability does.
        auto blob = std::make_shared<UniqueFd>(fcntl(fd, F_DUPFD_CLOEXEC, 0));
        if (!*blob) failSyscall("dup layer blob descriptor");
        // A pipe or socket could be held open forever by the sender and pin a worker thread.
        struct stat st;
        if (fstat(blob->get(), &st) != 0) failSyscall("stat layer blob");
        if (!S_ISREG(st.st_mode)) {
          fail(ErrorCategory::INVALID_ARGUMENT, "the layer blob is not a regular file");
        }
        log::debug("importing layer",
                   {{"diff_id", request.diffId}, {"parent", request.parentChainId}});
        return onWorker<LayerRecord>(importPool_,
                                     [this, blob, request]() mutable {
                                       request.fd = blob->get();
                                       return layers_.importLayer(request);
                                     })
            .then([context](LayerRecord&& layer) mutable {
              fillLayer(layer, context.getResults().initLayer());
            });
      });
    });
  });
}

kj::Promise<void> StoredServer::commitImage(CommitImageContext context) {
  return ipc::serve([&]() {
    ImageRecord image = readImage(context.getParams().getImage());
    return onWorker<ImageRecord>(
               metadataPool_,
               [this, image]() {
                 ImageRecord stored = images_.commitImage(image);
                 log::info("committed image",
                           {{"image", stored.id}, {"layers", stored.layerChainIds.size()}});
                 return stored;
               })
        .then([context](ImageRecord&& stored) mutable {
          fillImage(stored, context.getResults().initImage());
        });
  });
}

kj::Promise<void> StoredServer::listImages(ListImagesContext context) {
  return ipc::serve([&]() {
    return onWorker<std::vector<ImageRecord>>(metadataPool_,
                                              [this]() { return images_.listImages(); })
        .then([context](std::vector<ImageRecord>&& images) mutable {
          auto list = context.getResults().initImages(static_cast<unsigned>(images.size()));
          for (unsigned i = 0; i < list.size(); ++i)
            fillImage(images[i], list[i]);
        });
  });
}

kj::Promise<void> StoredServer::findImage(FindImageContext context) {
  return ipc::serve([&]() {
    std::string reference =
        boundedText(context.getParams().getReference(), MAX_IMAGE_NAME_LENGTH, "reference");
    return onWorker<std::optional<ImageRecord>>(
               metadataPool_, [this, reference]() { return images_.findImage(reference); })
        .then([context](std::optional<ImageRecord>&& image) mutable {
          auto results = context.getResults();
          results.setFound(image.has_value());
          if (image) fillImage(*image, results.initImage());
        });
  });
}

kj::Promise<void> StoredServer::removeImage(RemoveImageContext context) {
  return ipc::serve([&]() {
    std::string reference =
        boundedText(context.getParams().getReference(), MAX_IMAGE_NAME_LENGTH, "reference");
    return onWorker<bool>(
               metadataPool_,
               [this, reference]() {
                 RemovedImage removed = images_.removeImage(reference);
                 if (removed.removed) {
                   log::info("removed image",
                             {{"image", removed.id}, {"freed_layers", removed.freedLayers.size()}});
                 }
                 layers_.deleteLayers(removed.freedLayers);
                 return removed.removed;
               })
        .then([context](bool removed) mutable { context.getResults().setRemoved(removed); });
  });
}

kj::Promise<void> StoredServer::imageFsUsage(ImageFsUsageContext context) {
  return ipc::serve([&]() {
    return onWorker<StoreUsage>(metadataPool_, [this]() { return layers_.usage(); })
        .then([context](StoreUsage&& usage) mutable {
          auto out = context.getResults().initUsage();
          out.setMountpoint(usage.mountpoint);
          out.setUsedBytes(usage.bytes);
          out.setInodesUsed(usage.inodes);
          out.setTimestamp(usage.timestamp);
        });
  });
}

kj::Promise<void> StoredServer::createContainerLayer(CreateContainerLayerContext context) {
  return ipc::serve([&]() {
    auto params = context.getParams();
    std::string id = boundedText(params.getContainerId(), MAX_CONTAINER_ID, "container id");
    std::string image = boundedText(params.getImageId(), MAX_IMAGE_NAME_LENGTH, "image");
    requireContainerId(id);
    return onWorker<ContainerLayer>(metadataPool_,
                                    [this, id, image]() { return containers_.create(id, image); })
        .then([context](ContainerLayer&& layer) mutable {
          fillContainerLayer(layer, context.getResults().initLayer());
        });
  });
}

kj::Promise<void> StoredServer::removeContainerLayer(RemoveContainerLayerContext context) {
  return ipc::serve([&]() {
    std::string id =
        boundedText(context.getParams().getContainerId(), MAX_CONTAINER_ID, "container id");
    requireContainerId(id);
    return onWorker<bool>(metadataPool_, [this, id]() { return containers_.remove(id); })
        .then([context](bool removed) mutable { context.getResults().setRemoved(removed); });
  });
}

kj::Promise<void> StoredServer::containerLayer(ContainerLayerContext context) {
  return ipc::serve([&]() {
    std::string id =
        boundedText(context.getParams().getContainerId(), MAX_CONTAINER_ID, "container id");
    requireContainerId(id);
    return onWorker<std::optional<ContainerLayer>>(metadataPool_,
                                                   [this, id]() { return containers_.find(id); })
        .then([context](std::optional<ContainerLayer>&& layer) mutable {
          auto results = context.getResults();
          results.setFound(layer.has_value());
          if (layer) fillContainerLayer(*layer, results.initLayer());
        });
  });
}

}  // namespace crio::stored
