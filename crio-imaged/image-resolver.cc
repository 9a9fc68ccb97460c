#include "crio-imaged/image-resolver.h"

#include "common/log.h"
#include "crio-imaged/async-error.h"
#include "crio-imaged/manifest.h"

namespace crio::imaged {

namespace {

// The subject of a message about `client`'s image: "registry/repository:tag".
std::string subjectOf(const RegistryClient& client) {
  return client.source().name();
}

}  // namespace

ImageResolver::ImageResolver(RegistryContext& context, const SourceList& sources, Platform platform)
    : context_(context), sources_(sources), platform_(std::move(platform)) {}

kj::Promise<Resolution> ImageResolver::resolve(const std::string& reference,
                                               RegistryCredentials credentials) {
  std::vector<PullSource> sources = sources_.pullSources(reference);
  return trySources(std::move(sources), 0, std::move(credentials), {});
}

kj::Promise<Resolution> ImageResolver::trySources(std::vector<PullSource> sources, size_t index,
                                                  RegistryCredentials credentials,
                                                  std::vector<std::string> failures) {
  const PullSource& source = sources[index];
  RegistryCredentials effective = credentials;
  if (effective.empty()) {
    if (auto stored = sources_.storedCredentials(source)) effective = *stored;
  }
  auto client = kj::refcounted<RegistryClient>(context_, source, std::move(effective));
  RegistryClient& ref = *client;
  return resolveFrom(ref)
      .then([client = kj::addRef(*client)](ResolvedImage image) mutable {
        return Resolution{kj::mv(client), std::move(image)};
      })
      .catch_([this, sources = std::move(sources), index, credentials = std::move(credentials),
               failures = std::move(failures)](
                  kj::Exception&& exception) mutable -> kj::Promise<Resolution> {
        Error error = errorOf(exception);
        if (index + 1 >= sources.size()) {
          if (failures.empty()) return kj::mv(exception);
          failures.push_back(error.what());
          std::string message = "no source has the image; tried:";
          for (const auto& failure : failures)
            message += " [" + failure + "]";
          failAsync(error.category(), message);
        }
        log::info("source failed; trying the next",
                  {{"source", sources[index].name()}, {"error", error.what()}});
        failures.push_back(error.what());
        return trySources(std::move(sources), index + 1, std::move(credentials),
                          std::move(failures));
      })
      .attach(kj::mv(client));
}

kj::Promise<ResolvedImage> ImageResolver::resolveFrom(RegistryClient& client) {
  const PullSource& source = client.source();
  return client.fetchManifest(source.manifestReference())
      .then([this, &client](FetchedManifest fetched) -> kj::Promise<ResolvedImage> {
        return keepCategory([&]() -> kj::Promise<ResolvedImage> {
          const PullSource& source = client.source();
          std::string subject = subjectOf(client);
          Digest digest = sha256Of(fetched.body);
          if (!source.digest.empty() && digest.text() != source.digest) {
            fail(ErrorCategory::INVALID_ARGUMENT,
                 subject +
                     ": the manifest does not match the digest asked for; the registry sent "
                     "content with digest " +
                     digest.text());
          }
          if (source.digest.empty() && Digest::isValid(fetched.digestHeader) &&
              fetched.digestHeader != digest.text()) {
            fail(ErrorCategory::INVALID_ARGUMENT,
                 subject + ": the manifest does not match the Docker-Content-Digest header " +
                     fetched.digestHeader + " the registry sent; its content has digest " +
                     digest.text());
          }
          std::string mediaType = withContext(
              subject, [&] { return manifestMediaType(fetched.body, fetched.contentType); });

          ResolvedImage image;
          image.name = source.name();
          image.repoDigest = source.registry + "/" + source.repository + "@" + digest.text();
          if (!isIndexMediaType(mediaType)) {
            return resolveImageManifest(client, std::move(image), std::move(fetched.body),
                                        std::move(mediaType), std::move(digest));
          }

          ImageIndex index =
              withContext(subject, [&] { return parseImageIndex(fetched.body, mediaType); });
          Descriptor entry = withContext(subject, [&] { return selectPlatform(index, platform_); });
          log::debug("selected a platform from the manifest list",
                     {{"image", subject},
                      {"platform", entry.platform.text()},
                      {"manifest", entry.digest.text()}});
          return client.fetchManifest(entry.digest.text())
              .then([this, &client, image = std::move(image),
                     entry](FetchedManifest child) mutable -> kj::Promise<ResolvedImage> {
                return keepCategory([&]() -> kj::Promise<ResolvedImage> {
                  std::string subject = subjectOf(client);
                  Digest digest = sha256Of(child.body);
                  if (!(digest == entry.digest) || child.body.size() != entry.size) {
                    fail(ErrorCategory::INVALID_ARGUMENT,
                         subject + ": the manifest for " + entry.platform.text() +
                             " does not match its manifest list entry (digest " +
                             entry.digest.text() + ", " + std::to_string(entry.size) +
                             " bytes); the registry sent " + std::to_string(child.body.size()) +
                             " bytes with digest " + digest.text());
                  }
                  std::string mediaType = withContext(
                      subject, [&] { return manifestMediaType(child.body, child.contentType); });
                  if (isIndexMediaType(mediaType)) {
                    fail(ErrorCategory::INVALID_ARGUMENT,
                         subject + ": the manifest list entry for " + entry.platform.text() +
                             " is itself a list; nested lists are not supported");
                  }
                  return resolveImageManifest(client, std::move(image), std::move(child.body),
                                              std::move(mediaType), std::move(digest));
                });
              });
        });
      });
}

kj::Promise<ResolvedImage> ImageResolver::resolveImageManifest(RegistryClient& client,
                                                               ResolvedImage image,
                                                               std::string body,
                                                               std::string mediaType,
                                                               Digest digest) {
  std::string subject = subjectOf(client);
  ImageManifest manifest = keepCategory(
      [&] { return withContext(subject, [&] { return parseImageManifest(body, mediaType); }); });
  image.manifestDigest = digest;
  image.manifestMediaType = mediaType;
  image.manifest = std::move(body);
  image.configDigest = manifest.config.digest;

  Descriptor config = manifest.config;
  return client.fetchSmallBlob(config.digest, config.size)
      .then([this, image = std::move(image), manifest = std::move(manifest),
             subject](std::string configBody) mutable {
        return keepCategory([&] {
          Digest digest = sha256Of(configBody);
          if (!(digest == manifest.config.digest) || configBody.size() != manifest.config.size) {
            fail(ErrorCategory::INVALID_ARGUMENT,
                 subject + ": the image config does not match its descriptor (digest " +
                     manifest.config.digest.text() + ", " + std::to_string(manifest.config.size) +
                     " bytes); the registry sent " + std::to_string(configBody.size()) +
                     " bytes with digest " + digest.text());
          }
          ImageConfig config = withContext(subject, [&] { return parseImageConfig(configBody); });
          withContext(subject, [&] { checkLayersMatchConfig(manifest, config); });
          if (config.platform.architecture != platform_.architecture ||
              config.platform.os != platform_.os) {
            log::warn("the image config names another platform than this node's",
                      {{"image", subject},
                       {"config_platform", config.platform.text()},
                       {"node_platform", platform_.text()}});
          }

          image.config = std::move(configBody);
          for (size_t i = 0; i < manifest.layers.size(); ++i) {
            const Descriptor& layer = manifest.layers[i];
            image.layers.push_back({layer.digest, layer.size, layer.mediaType, config.diffIds[i]});
          }
          return std::move(image);
        });
      });
}

}  // namespace crio::imaged
