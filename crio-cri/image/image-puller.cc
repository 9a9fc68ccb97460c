#include "crio-cri/image/image-puller.h"

#include <openssl/evp.h>

#include <chrono>
#include <thread>

#include "common/log.h"
#include "crio-cri/peer-call.h"
#include "ipc/imaged.capnp.h"
#include "ipc/stored.capnp.h"

namespace crio::cri {

namespace {

using ipc::schema::Imaged;
using ipc::schema::Pull;
using ipc::schema::Stored;

std::string sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char HEX[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += HEX[digest[i] >> 4];
    out += HEX[digest[i] & 0xf];
  }
  return out;
}

struct Layer {
  std::string digest;
  std::string mediaType;
  std::string diffId;
  std::string chainId;
  bool present = false;
};

struct Resolved {
  std::string name;
  std::string repoDigest;
  std::string manifestMediaType;
  kj::Array<capnp::byte> manifest;
  std::string configDigest;
  kj::Array<capnp::byte> config;
  std::vector<Layer> layers;
};

// The tag name an image is recorded under: the reference without a digest, or none when the
// reference names only a digest.
std::vector<std::string> tagNames(const std::string& name) {
  auto at = name.find('@');
  if (at == std::string::npos) return {name};
  std::string withoutDigest = name.substr(0, at);
  auto slash = withoutDigest.rfind('/');
  auto colon = withoutDigest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    return {withoutDigest};
  }
  return {};
}

std::string hexOf(const std::string& digest) {
  auto colon = digest.find(':');
  return colon == std::string::npos ? digest : digest.substr(colon + 1);
}

// One attempt of a pull, run on the IPC loop thread.
kj::Promise<ImageRecord> pullOnLoop(Daemon& daemon, std::string reference,
                                    PullCredentials credentials) {
  auto imaged = daemon.imaged().client<Imaged>();
  auto stored = daemon.stored().client<Stored>();

  auto request = imaged.resolveRequest();
  request.setReference(reference);
  auto creds = request.initCredentials();
  creds.setUsername(credentials.username);
  creds.setPassword(credentials.password);
  creds.setAuth(credentials.auth);
  creds.setServerAddress(credentials.serverAddress);
  creds.setIdentityToken(credentials.identityToken);
  creds.setRegistryToken(credentials.registryToken);
  Pull::Client pull = request.send().getPull();

  auto resolved = kj::heap<Resolved>();
  auto& state = *resolved;
  return pull.imageRequest()
      .send()
      .then([&state](capnp::Response<Pull::ImageResults>&& response) {
        auto image = response.getImage();
        state.name = image.getName();
        state.repoDigest = image.getRepoDigest();
        state.manifestMediaType = image.getManifestMediaType();
        state.manifest = kj::heapArray(image.getManifest());
        state.configDigest = image.getConfigDigest();
        state.config = kj::heapArray(image.getConfig());
        std::vector<std::string> diffIds;
        for (auto layer : image.getLayers()) {
          Layer entry;
          entry.digest = layer.getDigest();
          entry.mediaType = layer.getMediaType();
          entry.diffId = layer.getDiffId();
          state.layers.push_back(std::move(entry));
          diffIds.emplace_back(layer.getDiffId());
        }
        auto chains = chainIds(diffIds);
        for (size_t i = 0; i < chains.size(); ++i)
          state.layers[i].chainId = chains[i];
      })
      .then([&state, stored]() mutable {
        auto checks = kj::heapArrayBuilder<kj::Promise<void>>(state.layers.size());
        for (auto& layer : state.layers) {
          auto check = stored.hasLayerRequest();
          check.setChainId(layer.chainId);
          checks.add(check.send().then(
              [&layer](auto&& response) { layer.present = response.getPresent(); }));
        }
        return kj::joinPromises(checks.finish());
      })
      .then([&state, pull, stored]() mutable {
        // Every missing blob is requested at once; imports then run in layer order, because a
        // layer is unpacked on top of its parent.
        kj::Promise<void> chain = kj::READY_NOW;
        std::string parent;
        for (auto& layer : state.layers) {
          if (layer.present) {
            parent = layer.chainId;
            continue;
          }
          auto fetch = pull.fetchBlobRequest();
          fetch.setDigest(layer.digest);
          auto blob = fetch.send().getFile();
          chain = chain.then([&layer, parent, blob, stored]() mutable {
            auto import = stored.importLayerRequest();
            import.setFile(kj::mv(blob));
            import.setMediaType(layer.mediaType);
            import.setDiffId(layer.diffId);
            import.setParentChainId(parent);
            return import.send().then([&layer](auto&& response) {
              std::string chainId = response.getLayer().getChainId();
              if (chainId != layer.chainId) {
                throw Error(ErrorCategory::INTERNAL, "crio-stored recorded layer " + layer.diffId +
                                                         " as " + chainId + ", expected " +
                                                         layer.chainId);
              }
            });
          });
          parent = layer.chainId;
        }
        return chain;
      })
      .then([&state, stored]() mutable {
        auto commit = stored.commitImageRequest();
        auto record = commit.initImage();
        record.setId(hexOf(state.configDigest));
        auto names = tagNames(state.name);
        auto nameList = record.initNames(static_cast<unsigned>(names.size()));
        for (size_t i = 0; i < names.size(); ++i)
          nameList.set(i, names[i]);
        auto digests = record.initRepoDigests(state.repoDigest.empty() ? 0 : 1);
        if (!state.repoDigest.empty()) digests.set(0, state.repoDigest);
        record.setTopChainId(state.layers.empty() ? "" : state.layers.back().chainId);
        auto chainList = record.initLayerChainIds(static_cast<unsigned>(state.layers.size()));
        for (size_t i = 0; i < state.layers.size(); ++i)
          chainList.set(i, state.layers[i].chainId);
        record.setConfig(state.config);
        record.setManifest(state.manifest);
        record.setManifestMediaType(state.manifestMediaType);
        record.setCreatedAt(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
        return commit.send().then(
            [](auto&& response) { return readImageRecord(response.getImage()); });
      })
      .attach(kj::mv(resolved), kj::mv(pull));
}

}  // namespace

std::vector<std::string> chainIds(const std::vector<std::string>& diffIds) {
  std::vector<std::string> chains;
  for (const auto& diffId : diffIds) {
    if (chains.empty()) {
      chains.push_back(diffId);
    } else {
      chains.push_back("sha256:" + sha256Hex(chains.back() + " " + diffId));
    }
  }
  return chains;
}

ImageRecord pullImage(Daemon& daemon, const std::string& reference,
                      const PullCredentials& credentials) {
  for (int attempt = 1;; ++attempt) {
    try {
      return callPeer(daemon, "crio-imaged or crio-stored",
                      [&]() { return pullOnLoop(daemon, reference, credentials); });
    } catch (const Error& e) {
      // A pull is idempotent: when a peer restarted under it, wait for the peer and try again.
      // Only a lost daemon is worth a retry here; an unreachable registry was already retried by
      // crio-imaged, and its UNAVAILABLE error is final.
      std::string message = e.what();
      bool peerLost = !daemon.imagedState().connected || !daemon.storedState().connected ||
                      message.find(" disconnected: ") != std::string::npos ||
                      message.find(" is not reachable at ") != std::string::npos;
      if (e.category() != ErrorCategory::UNAVAILABLE || !peerLost || attempt >= PULL_ATTEMPTS) {
        throw;
      }
      log::warn("pull interrupted, retrying after the peers reconnect",
                {{"image", reference}, {"attempt", attempt}, {"error", e.what()}});
      callPeer(daemon, "crio-imaged", [&]() {
        return daemon.imaged().whenConnected(10 * kj::SECONDS).then([&daemon]() {
          return daemon.stored().whenConnected(10 * kj::SECONDS);
        });
      });
    }
  }
}

}  // namespace crio::cri
