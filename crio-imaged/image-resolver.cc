#include "crio-imaged/image-resolver.h"

#include <unistd.h>

#include <cerrno>

#include "common/log.h"
#include "crio-imaged/async-error.h"
#include "crio-imaged/manifest.h"
#include "crio-imaged/reference.h"
#include "crio-imaged/short-names.h"

namespace crio::imaged {

namespace {

// The subject of a message about `client`'s image: "registry/repository:tag" where it is fetched.
std::string subjectOf(const RegistryClient& client) {
  return client.source().name();
}

RegistrySource registrySourceOf(const PullSource& source) {
  RegistrySource out;
  out.registry = source.reference.domain;
  out.repository = source.reference.path;
  out.tag = source.reference.tag;
  out.digest = source.reference.digest;
  if (out.tag.empty() && out.digest.empty()) out.tag = DEFAULT_TAG;
  out.insecure = source.insecure;
  return out;
}

RegistryCredentials fromStored(StoredCredentials stored) {
  RegistryCredentials credentials;
  credentials.username = std::move(stored.username);
  credentials.password = std::move(stored.password);
  credentials.identityToken = std::move(stored.identityToken);
  return credentials;
}

}  // namespace

// One pull's progress through its plan: candidates[candidate].sources[source] is tried next.
struct ImageResolver::PullState {
  std::string reference;  // as requested
  std::shared_ptr<const PullSettings> settings;
  PullPlan plan;
  RegistryCredentials credentials;  // from the request; see the top of image-resolver.h
  size_t candidate = 0;
  size_t source = 0;
  std::vector<std::string> failures;
  ErrorCategory lastCategory = ErrorCategory::NOT_FOUND;

  const PullCandidate& current() const { return plan.candidates[candidate]; }

  void recordFailure(const Error& error) {
    failures.push_back(error.what());
    lastCategory = error.category();
  }

  void skipCandidate() {
    ++candidate;
    source = 0;
  }

  void nextSource() {
    if (++source >= current().sources.size()) skipCandidate();
  }

  RegistryCredentials credentialsFor(const PullSource& pullSource) const {
    if (!credentials.empty() && pullSource.reference.domain == current().name.domain) {
      return credentials;
    }
    std::optional<StoredCredentials> stored =
        settings->storedCredentials(pullSource.reference.name());
    if (!stored) return {};
    log::debug("using stored registry credentials",
               {{"source", pullSource.reference.name()}, {"from", stored->source}});
    return fromStored(std::move(*stored));
  }

  [[noreturn]] void failAll() const {
    if (failures.size() == 1) failAsync(lastCategory, failures[0]);
    std::string message =
        "pulling " + quoteInput(reference) + " failed (" + plan.description + "); tried:";
    for (const auto& failure : failures)
      message += " [" + failure + "]";
    failAsync(lastCategory, message);
  }
};

ImageResolver::ImageResolver(RegistryContext& context, const PullSettingsHolder& settings,
                             BlobCache& cache, Platform platform)
    : context_(context), settings_(settings), cache_(cache), platform_(std::move(platform)) {}

kj::Promise<Resolution> ImageResolver::resolve(const std::string& reference,
                                               RegistryCredentials credentials) {
  return kj::evalNow([&]() -> kj::Promise<Resolution> {
    auto state = kj::heap<PullState>();
    state->reference = reference;
    state->settings = settings_.current();
    keepCategory([&] {
      state->plan = resolvePull(state->settings->registries, reference);
      state->settings->requirePolicy();
    });
    state->credentials = std::move(credentials);
    return tryNext(kj::mv(state));
  });
}

kj::Promise<Resolution> ImageResolver::tryNext(kj::Own<PullState> state) {
  while (true) {
    if (state->candidate >= state->plan.candidates.size()) state->failAll();
    const PullCandidate& candidate = state->current();
    if (state->source == 0) {
      try {
        state->settings->requirePolicy().precheck(candidate.name);
      } catch (const Error& e) {
        state->recordFailure(e);
        state->skipCandidate();
        continue;
      }
      if (candidate.sources.empty()) {
        state->skipCandidate();
        continue;
      }
    }

    const PullSource& pullSource = candidate.sources[state->source];
    RegistryCredentials credentials;
    try {
      credentials = state->credentialsFor(pullSource);
    } catch (const Error& e) {
      state->recordFailure(e.withContext(pullSource.reference.name()));
      state->nextSource();
      continue;
    }
    if (state->failures.size() > 0) {
      log::info("trying the next source", {{"reference", state->reference},
                                           {"name", candidate.name.string()},
                                           {"source", pullSource.reference.string()},
                                           {"previous_error", state->failures.back()}});
    }

    auto client =
        kj::refcounted<RegistryClient>(context_, registrySourceOf(pullSource), credentials);
    RegistryClient& ref = *client;
    Reference name = candidate.name;
    auto settings = state->settings;
    return kj::evalNow([&] { return resolveFrom(ref, name); })
        .then(
            [client = kj::addRef(*client), settings,
             name](ResolvedImage image) mutable -> kj::Promise<Resolution> {
              return keepCategory([&] {
                // NOTE: the policy is evaluated on the platform's image manifest, not on the list
                // it was chosen from. That is enough for the requirement types evaluated today,
                // none of which reads the manifest.
                PolicyImage policyImage{name, image.manifest, image.manifestDigest.text(), nullptr};
                settings->requirePolicy().evaluate(policyImage);
                return Resolution{kj::mv(client), std::move(image)};
              });
            },
            [this,
             state = kj::mv(state)](kj::Exception&& exception) mutable -> kj::Promise<Resolution> {
              state->recordFailure(errorOf(exception));
              state->nextSource();
              return tryNext(kj::mv(state));
            })
        .attach(kj::mv(client));
  }
}

kj::Promise<ResolvedImage> ImageResolver::resolveFrom(RegistryClient& client,
                                                      const Reference& name) {
  const RegistrySource& source = client.source();
  return client.fetchManifest(source.manifestReference())
      .then([this, &client, name](FetchedManifest fetched) -> kj::Promise<ResolvedImage> {
        return keepCategory([&]() -> kj::Promise<ResolvedImage> {
          const RegistrySource& source = client.source();
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
          image.name = name.string();
          image.repoDigest = name.name() + "@" + digest.text();
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

kj::Promise<std::string> ImageResolver::fetchConfig(RegistryClient& client,
                                                    const Descriptor& config) {
  std::string subject = client.source().registry + "/" + client.source().repository;
  BlobSource source;
  source.subject = subject;
  source.owner = &client;
  source.download = [client = kj::addRef(client),
                     digest = config.digest](std::unique_ptr<BodySink> sink) mutable {
    return client->fetchBlob(digest, std::move(sink));
  };
  // The size was checked against MAX_CONFIG_BYTES when the manifest was parsed.
  size_t size = config.size;
  return cache_.fetch(config.digest, config.size, kj::mv(source))
      .then([size, subject](kj::AutoCloseFd fd) {
        std::string body(size, '\0');
        size_t done = 0;
        while (done < size) {
          ssize_t n = pread(fd.get(), body.data() + done, size - done, static_cast<off_t>(done));
          if (n < 0 && errno == EINTR) continue;
          if (n <= 0)
            failAsync(ErrorCategory::INTERNAL, subject + ": cannot read the cached config");
          done += static_cast<size_t>(n);
        }
        return body;
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

  return fetchConfig(client, manifest.config)
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
