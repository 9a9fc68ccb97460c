#include "crio-imaged/short-names.h"

#include <algorithm>
#include <optional>

#include "common/error.h"
#include "common/log.h"

namespace crio::imaged {

namespace {

// Returns the alias for a short name, with the short name's tag and digest put on it, or nullopt
// when there is none. `file` receives the file that defined the alias.
std::optional<Reference> aliasFor(const RegistriesConfig& config, const Reference& shortName,
                                  std::string* file = nullptr) {
  auto it = config.aliases.find(shortName.path);
  if (it == config.aliases.end()) return std::nullopt;
  Reference name = it->second.value;
  name.tag = shortName.tag;
  name.digest = shortName.digest;
  if (file != nullptr) *file = it->second.file;
  return name;
}

void appendUnique(std::vector<Reference>& names, Reference name) {
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    names.push_back(std::move(name));
  }
}

std::string joinNames(const std::vector<Reference>& names) {
  std::string text;
  for (const auto& name : names) {
    if (!text.empty()) text += ", ";
    text += name.string();
  }
  return text;
}

std::string filesDescription(const RegistriesConfig& config) {
  if (config.filesRead.empty()) return "no registries.conf file was found";
  std::string text = "read ";
  for (size_t i = 0; i < config.filesRead.size(); ++i) {
    if (i > 0) text += ", ";
    text += config.filesRead[i];
  }
  return text;
}

PullCandidate candidateFor(const RegistriesConfig& config, Reference name) {
  std::vector<PullSource> sources = pullSources(config, name);
  return PullCandidate{std::move(name), std::move(sources)};
}

}  // namespace

PullPlan resolvePull(const RegistriesConfig& config, std::string_view text) {
  Reference requested = parseReference(text);
  PullPlan plan;

  if (!requested.isShortName()) {
    plan.description = "qualified name";
    plan.candidates.push_back(candidateFor(config, withDefaultTag(std::move(requested))));
    return plan;
  }

  std::string aliasFile;
  if (std::optional<Reference> alias = aliasFor(config, requested, &aliasFile)) {
    plan.description = "alias in " + aliasFile;
    plan.candidates.push_back(candidateFor(config, withDefaultTag(std::move(*alias))));
    return plan;
  }

  if (config.unqualifiedSearchRegistries.empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "short name " + quoteInput(text) +
             " has no alias and no unqualified-search-registries are defined (" +
             filesDescription(config) + "); use a fully qualified name such as " +
             withDefaultTag(qualify(requested, DOCKER_DOMAIN)).string());
  }

  std::vector<Reference> names;
  for (const auto& registry : config.unqualifiedSearchRegistries) {
    appendUnique(names, withDefaultTag(qualify(requested, registry)));
  }
  if (config.shortNameMode == ShortNameMode::ENFORCING && names.size() > 1) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "short name " + quoteInput(text) + " is ambiguous: short-name-mode is \"enforcing\" (" +
             config.shortNameModeFile + ") and no alias is defined for " +
             quoteInput(requested.path) + ", so it may be any of " + joinNames(names) +
             "; request one of these fully qualified names, or add an [aliases] entry to "
             "registries.conf");
  }

  plan.description = "unqualified-search-registries in " + config.searchRegistriesFile;
  std::vector<std::string> blocked;
  for (auto& name : names) {
    try {
      plan.candidates.push_back(candidateFor(config, std::move(name)));
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::PERMISSION_DENIED) throw;
      log::debug("short-name candidate skipped", {{"image", text}, {"reason", e.what()}});
      blocked.push_back(e.what());
    }
  }
  if (plan.candidates.empty()) {
    std::string message = "every candidate for short name " + quoteInput(text) + " is blocked";
    for (const auto& reason : blocked) {
      message += "; " + reason;
    }
    fail(ErrorCategory::PERMISSION_DENIED, message);
  }
  return plan;
}

std::vector<Reference> candidates(const RegistriesConfig& config, std::string_view text) {
  Reference requested = parseReference(text);
  if (!requested.isShortName()) return {withDefaultTag(std::move(requested))};

  std::vector<Reference> names;
  if (std::optional<Reference> alias = aliasFor(config, requested)) {
    appendUnique(names, withDefaultTag(std::move(*alias)));
  }
  appendUnique(names, withDefaultTag(qualify(requested, "localhost")));
  for (const auto& registry : config.unqualifiedSearchRegistries) {
    appendUnique(names, withDefaultTag(qualify(requested, registry)));
  }
  return names;
}

}  // namespace crio::imaged
