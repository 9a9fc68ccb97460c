#include "crio-imaged/pull-settings.h"

#include "common/log.h"

namespace crio::imaged {

namespace {

void logWarnings(const std::vector<ConfigWarning>& warnings) {
  for (const auto& warning : warnings) {
    log::warn("ignored configuration",
              {{"file", warning.file}, {"key", warning.key}, {"reason", warning.message}});
  }
}

// Runs `load` and returns its error instead of throwing it; any other exception becomes INTERNAL.
template <typename Fn>
std::optional<Error> loadError(Fn&& load) {
  try {
    load();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    return Error(ErrorCategory::INTERNAL, e.what());
  }
  return std::nullopt;
}

RegistriesConfig loadRegistriesPart(const Config& config, const PullSettings* previous) {
  RegistriesConfig registries;
  std::optional<Error> error =
      loadError([&] { registries = loadRegistries(registriesSources(config)); });
  if (!error) {
    logWarnings(registries.warnings);
    return registries;
  }
  if (previous == nullptr) throw *error;
  log::error("registries.conf not reloaded; keeping the previous configuration",
             {{"error", error->what()}});
  return previous->registries;
}

void loadPolicyPart(const Config& config, const PullSettings* previous, PullSettings& settings) {
  std::optional<Error> error = loadError([&] {
    auto policy = std::make_shared<const Policy>(Policy::load(config.signaturePolicy));
    logWarnings(policy->warnings());
    settings.policy = std::make_shared<const PolicyEvaluator>(std::move(policy));
  });
  if (!error) return;
  if (previous != nullptr && previous->policy != nullptr) {
    log::error("policy.json not reloaded; keeping the previous policy", {{"error", error->what()}});
    settings.policy = previous->policy;
    return;
  }
  log::warn("every pull fails until policy.json is fixed", {{"error", error->what()}});
  settings.policyError = *error;
}

LoadedAuthFile loadAuthFile(const std::string& path, const PullSettings* previous) {
  LoadedAuthFile loaded{path, std::nullopt, std::nullopt};
  loaded.error = loadError([&] { loaded.file = AuthFile::load(path); });
  if (!loaded.error || previous == nullptr) return loaded;

  for (const auto& old : previous->authFiles) {
    if (old.path == path && old.file) {
      log::warn("auth file not reloaded; keeping the content read before",
                {{"file", path}, {"error", loaded.error->what()}});
      return old;
    }
  }
  return loaded;
}

}  // namespace

const PolicyEvaluator& PullSettings::requirePolicy() const {
  if (policy == nullptr) {
    throw policyError.value_or(Error(ErrorCategory::FAILED_PRECONDITION, "no policy loaded"));
  }
  return *policy;
}

std::optional<StoredCredentials> PullSettings::storedCredentials(const std::string& name) const {
  for (const auto& loaded : authFiles) {
    if (loaded.error) throw *loaded.error;
    if (!loaded.file) continue;
    if (auto credentials = loaded.file->find(name)) return credentials;
  }
  return std::nullopt;
}

std::shared_ptr<const PullSettings> loadPullSettings(const Config& config, const Paths& paths,
                                                     const PullSettings* previous) {
  auto settings = std::make_shared<PullSettings>();
  settings->registries = loadRegistriesPart(config, previous);
  loadPolicyPart(config, previous, *settings);
  for (const auto& path : defaultAuthFiles(config.globalAuthFile, paths)) {
    settings->authFiles.push_back(loadAuthFile(path, previous));
  }
  return settings;
}

PullSettingsHolder::PullSettingsHolder(Config config, Paths paths)
    : config_(std::move(config)),
      paths_(std::move(paths)),
      current_(loadPullSettings(config_, paths_)) {}

void PullSettingsHolder::reload(Config config) {
  config_ = std::move(config);
  try {
    current_ = loadPullSettings(config_, paths_, current_.get());
  } catch (const std::exception& e) {
    log::error("pull settings not reloaded", {{"error", e.what()}});
    return;
  }
  log::info("pull settings reloaded", {{"registries_files", current_->registries.filesRead.size()},
                                       {"policy", config_.signaturePolicy}});
}

}  // namespace crio::imaged
