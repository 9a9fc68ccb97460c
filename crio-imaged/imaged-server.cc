#include "crio-imaged/imaged-server.h"

#include <unistd.h>

#include <chrono>
#include <map>

#include "common/log.h"
#include "crio-imaged/async-error.h"
#include "crio-imaged/short-names.h"
#include "ipc/errors.h"

namespace crio::imaged {

namespace {

namespace schema = ipc::schema;

// Hands over one verified blob: the receiver gets its read-only descriptor with getFd().
class FileServer final : public schema::FileHandle::Server {
 public:
  FileServer(kj::AutoCloseFd fd, uint64_t size) : fd_(kj::mv(fd)), size_(size) {}

  kj::Maybe<int> getFd() override { return fd_.get(); }

  kj::Promise<void> size(SizeContext context) override {
    context.getResults().setSize(size_);
    return kj::READY_NOW;
  }

 private:
  kj::AutoCloseFd fd_;
  uint64_t size_;
};

class PullServer final : public schema::Pull::Server {
 public:
  PullServer(Resolution resolution, BlobCache& cache)
      : client_(kj::mv(resolution.client)), image_(std::move(resolution.image)), cache_(cache) {
    for (const auto& layer : image_.layers)
      blobs_[layer.digest.text()] = layer.size;
    blobs_[image_.configDigest.text()] = image_.config.size();
  }

  kj::Promise<void> image(ImageContext context) override {
    auto out = context.getResults().initImage();
    out.setName(image_.name);
    out.setRepoDigest(image_.repoDigest);
    out.setManifestDigest(image_.manifestDigest.text());
    out.setManifestMediaType(image_.manifestMediaType);
    out.setManifest(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(image_.manifest.data()),
                                 image_.manifest.size()));
    out.setConfigDigest(image_.configDigest.text());
    out.setConfig(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(image_.config.data()),
                               image_.config.size()));
    auto layers = out.initLayers(static_cast<unsigned>(image_.layers.size()));
    for (size_t i = 0; i < image_.layers.size(); ++i) {
      const ResolvedLayer& layer = image_.layers[i];
      auto entry = layers[static_cast<unsigned>(i)];
      entry.setDigest(layer.digest.text());
      entry.setSize(layer.size);
      entry.setMediaType(layer.mediaType);
      entry.setDiffId(layer.diffId.text());
    }
    return kj::READY_NOW;
  }

  kj::Promise<void> fetchBlob(FetchBlobContext context) override {
    return ipc::serve([&]() -> kj::Promise<void> {
      std::string text = context.getParams().getDigest();
      Digest digest = Digest::parse(text, "blob digest");
      auto it = blobs_.find(digest.text());
      if (it == blobs_.end()) {
        fail(ErrorCategory::INVALID_ARGUMENT,
             "blob " + digest.text() + " is not a layer or the config of " + image_.name);
      }
      uint64_t size = it->second;

      BlobSource source;
      source.subject = client_->source().registry + "/" + client_->source().repository;
      source.owner = client_.get();
      source.download = [client = kj::addRef(*client_),
                         digest](std::unique_ptr<BodySink> sink) mutable {
        return client->fetchBlob(digest, std::move(sink));
      };
      auto started = std::chrono::steady_clock::now();
      log::debug("fetching blob", {{"image", image_.name}, {"digest", digest.text()}});
      return cache_.fetch(digest, size, kj::mv(source))
          .then(
              [context, digest, size, started, name = image_.name](kj::AutoCloseFd fd) mutable {
                auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started);
                log::info("blob ready", {{"image", name},
                                         {"digest", digest.text()},
                                         {"size", size},
                                         {"ms", static_cast<int64_t>(elapsed.count())}});
                context.getResults().setFile(kj::heap<FileServer>(kj::mv(fd), size));
              },
              [name = image_.name, digest](kj::Exception&& exception) {
                log::warn("blob fetch failed", {{"image", name},
                                                {"digest", digest.text()},
                                                {"error", exception.getDescription().cStr()}});
                kj::throwFatalException(kj::mv(exception));
              });
    });
  }

 private:
  kj::Own<RegistryClient> client_;
  ResolvedImage image_;
  BlobCache& cache_;
  std::map<std::string, uint64_t> blobs_;  // digest -> size, of every blob fetchBlob may hand out
};

}  // namespace

ImagedServer::ImagedServer(ipc::DaemonInfo info, ImageResolver& resolver,
                           const PullSettingsHolder& settings, BlobCache& cache)
    : DaemonServer(std::move(info)), resolver_(resolver), settings_(settings), cache_(cache) {}

kj::Promise<void> ImagedServer::resolve(ResolveContext context) {
  return ipc::serve([&]() -> kj::Promise<void> {
    auto params = context.getParams();
    std::string reference = params.getReference();
    auto given = params.getCredentials();
    RegistryCredentials credentials = credentialsFromAuthConfig(
        given.getUsername().cStr(), given.getPassword().cStr(), given.getAuth().cStr(),
        given.getIdentityToken().cStr(), given.getRegistryToken().cStr());

    log::info("resolving image", {{"reference", reference}});
    return resolver_.resolve(reference, std::move(credentials))
        .then(
            [this, context, reference](Resolution resolution) mutable {
              log::info("resolved image", {{"reference", reference},
                                           {"name", resolution.image.name},
                                           {"manifest", resolution.image.manifestDigest.text()},
                                           {"layers", resolution.image.layers.size()}});
              context.getResults().setPull(kj::heap<PullServer>(kj::mv(resolution), cache_));
            },
            [reference](kj::Exception&& exception) {
              log::warn("resolve failed",
                        {{"reference", reference}, {"error", exception.getDescription().cStr()}});
              kj::throwFatalException(kj::mv(exception));
            });
  });
}

kj::Promise<void> ImagedServer::candidates(CandidatesContext context) {
  return ipc::serve([&]() -> kj::Promise<void> {
    std::vector<Reference> references = crio::imaged::candidates(
        settings_.current()->registries, context.getParams().getReference().cStr());
    std::vector<std::string> names;
    for (const auto& reference : references)
      names.push_back(reference.string());
    auto list = context.getResults().initNames(static_cast<unsigned>(names.size()));
    for (size_t i = 0; i < names.size(); ++i)
      list.set(static_cast<unsigned>(i), names[i]);
    return kj::READY_NOW;
  });
}

}  // namespace crio::imaged
