#include "crio-imaged/registries.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>

#include "common/error.h"
#include "common/log.h"
#include "crio-imaged/bounded-file.h"

namespace crio::imaged {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view AUTH_FILE_HELPER = "containers-auth.json";

// ---------------------------------------------------------------------------------------------
// Prefix and location syntax

bool startsWith(std::string_view text, std::string_view start) {
  return text.substr(0, start.size()) == start;
}

bool isWildcard(std::string_view prefix) {
  return startsWith(prefix, "*.");
}

// The same test reference.cc applies to the first component of an image name.
bool looksLikeDomain(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos || component == "localhost" ||
         startsWith(component, "[");
}

// Returns "" when `text` is a valid prefix or location, else the reason. `text` has no trailing
// '/'. The forms are host[:port], host[:port]/path, host[:port]/path:tag, host[:port]/path@digest,
// and "*.host" when `allowWildcard` is set.
std::string prefixProblem(std::string_view text, bool allowWildcard) {
  if (text.empty()) return "must not be empty";
  if (startsWith(text, "http://") || startsWith(text, "https://")) {
    return "must not include a URI scheme (http:// or https://)";
  }
  if (isWildcard(text)) {
    if (!allowWildcard) return "a wildcard is only allowed in a prefix";
    std::string_view host = text.substr(2);
    if (host.find_first_of("/@:[") != std::string_view::npos || !isValidDomain(host)) {
      return "a wildcard prefix must have the form *.example.com, without port or path";
    }
    return "";
  }
  if (text.find('*') != std::string_view::npos) {
    return "'*' is only allowed as the leading \"*.\" of a prefix";
  }

  size_t slash = text.find('/');
  std::string_view domain = text.substr(0, slash);
  if (!isValidDomain(domain))
    return "registry " + quoteInput(domain) + " is not a valid host[:port]";
  if (!looksLikeDomain(domain)) {
    return "registry " + quoteInput(domain) +
           " must contain '.' or ':' or be localhost, as in image names";
  }
  if (slash == std::string_view::npos) return "";

  std::string_view rest = text.substr(slash + 1);
  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string problem = digestProblem(rest.substr(at + 1));
    if (!problem.empty()) return problem;
    rest = rest.substr(0, at);
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos) {
    if (!isValidTag(rest.substr(colon + 1))) return "the tag is invalid";
    rest = rest.substr(0, colon);
  }
  if (!isValidPath(rest)) return "repository path " + quoteInput(rest) + " is invalid";
  return "";
}

// The host[:port] of a qualified reference's text.
std::string_view domainOf(std::string_view referenceText) {
  return referenceText.substr(0, referenceText.find('/'));
}

bool isInsecureByCrioConf(const RegistriesConfig& config, const Reference& reference) {
  std::string text = reference.pullString();
  for (const auto& prefix : config.insecureRegistries) {
    if (matchPrefix(text, prefix) != std::string::npos) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Reading one file

struct ParsedFile {
  std::vector<RegistryEntry> registries;
  std::optional<std::vector<std::string>> search;
  std::optional<ShortNameMode> mode;
  // An empty optional removes the alias.
  std::vector<std::pair<std::string, std::optional<Reference>>> aliases;
};

class FileParser {
 public:
  FileParser(const std::string& file, std::vector<ConfigWarning>& warnings)
      : file_(file), warnings_(warnings) {}

  ParsedFile parse(const std::string& text, bool dropIn);

 private:
  [[noreturn]] void invalid(const std::string& key, const std::string& reason) const {
    fail(ErrorCategory::INVALID_ARGUMENT, file_ + ": " + key + ": " + reason);
  }
  [[noreturn]] void tooMany(const std::string& key, size_t limit) const {
    fail(ErrorCategory::RESOURCE_EXHAUSTED,
         file_ + ": " + key + ": more than " + std::to_string(limit) + " entries");
  }
  void warn(const std::string& key, const std::string& message) {
    warnings_.push_back({file_, key, message});
  }

  bool boolean(const toml::node& node, const std::string& key) const;
  std::string string(const toml::node& node, const std::string& key) const;
  std::vector<std::string> strings(const toml::node& node, const std::string& key,
                                   size_t limit) const;
  // Strips trailing '/' and checks the syntax.
  std::string location(const toml::node& node, const std::string& key, bool allowWildcard) const;

  RegistryEntry registry(const toml::table& table, const std::string& key);
  Mirror mirror(const toml::table& table, const std::string& key, const RegistryEntry& entry);
  std::vector<std::string> searchRegistries(const toml::node& node);
  ShortNameMode shortNameMode(const toml::node& node) const;
  void aliases(const toml::node& node, ParsedFile& parsed) const;
  void v1Format(const toml::node& node, ParsedFile& parsed);
  void checkConflicts(const std::vector<RegistryEntry>& entries) const;

  const std::string& file_;
  std::vector<ConfigWarning>& warnings_;
};

std::string typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

bool FileParser::boolean(const toml::node& node, const std::string& key) const {
  if (!node.is_boolean()) invalid(key, "expected a boolean, got " + typeName(node));
  return node.as_boolean()->get();
}

std::string FileParser::string(const toml::node& node, const std::string& key) const {
  if (!node.is_string()) invalid(key, "expected a string, got " + typeName(node));
  return node.as_string()->get();
}

std::vector<std::string> FileParser::strings(const toml::node& node, const std::string& key,
                                             size_t limit) const {
  const toml::array* array = node.as_array();
  if (array == nullptr) invalid(key, "expected an array of strings, got " + typeName(node));
  if (array->size() > limit) tooMany(key, limit);
  std::vector<std::string> values;
  for (const auto& element : *array) {
    values.push_back(string(element, key));
  }
  return values;
}

std::string FileParser::location(const toml::node& node, const std::string& key,
                                 bool allowWildcard) const {
  std::string value = string(node, key);
  while (!value.empty() && value.back() == '/')
    value.pop_back();
  std::string problem = prefixProblem(value, allowWildcard);
  if (!problem.empty()) invalid(key, quoteInput(value) + " is invalid: " + problem);
  return value;
}

Mirror FileParser::mirror(const toml::table& table, const std::string& key,
                          const RegistryEntry& entry) {
  Mirror mirror;
  bool hasLocation = false;
  for (const auto& [name, node] : table) {
    std::string field(name.str());
    std::string fieldKey = key + "." + field;
    if (field == "location") {
      mirror.location = location(node, fieldKey, false);
      hasLocation = true;
    } else if (field == "insecure") {
      mirror.insecure = boolean(node, fieldKey);
    } else if (field == "pull-from-mirror") {
      std::string use = string(node, fieldKey);
      if (use == "digest-only") {
        mirror.use = MirrorUse::DIGEST_ONLY;
      } else if (use == "tag-only") {
        mirror.use = MirrorUse::TAG_ONLY;
      } else if (use != "all" && !use.empty()) {
        invalid(fieldKey,
                quoteInput(use) + " is not one of \"all\", \"digest-only\", \"tag-only\"");
      }
      if (!use.empty() && entry.mirrorByDigestOnly) {
        invalid(fieldKey,
                "cannot be set when the registry sets mirror-by-digest-only; use one or the other");
      }
    } else {
      warn(fieldKey, "unknown key, ignored");
    }
  }
  if (!hasLocation) invalid(key + ".location", "a mirror needs a location");
  return mirror;
}

RegistryEntry FileParser::registry(const toml::table& table, const std::string& key) {
  RegistryEntry entry;
  entry.file = file_;

  // mirror-by-digest-only is read first because the mirrors' pull-from-mirror is checked
  // against it.
  if (const toml::node* node = table.get("mirror-by-digest-only")) {
    entry.mirrorByDigestOnly = boolean(*node, key + ".mirror-by-digest-only");
  }
  for (const auto& [name, node] : table) {
    std::string field(name.str());
    std::string fieldKey = key + "." + field;
    if (field == "prefix") {
      entry.prefix = location(node, fieldKey, true);
    } else if (field == "location") {
      // An explicit empty location is allowed with a wildcard prefix, which is checked below.
      if (node.is_string() && node.as_string()->get().empty()) continue;
      entry.location = location(node, fieldKey, false);
    } else if (field == "insecure") {
      entry.insecure = boolean(node, fieldKey);
    } else if (field == "blocked") {
      entry.blocked = boolean(node, fieldKey);
    } else if (field == "mirror-by-digest-only") {
      continue;
    } else if (field == "pull-from-mirror") {
      invalid(fieldKey, "only a [[registry.mirror]] table may set pull-from-mirror");
    } else if (field == "mirror") {
      const toml::array* mirrors = node.as_array();
      if (mirrors == nullptr) invalid(fieldKey, "expected [[registry.mirror]] tables");
      if (mirrors->size() > MAX_MIRRORS_PER_REGISTRY) tooMany(fieldKey, MAX_MIRRORS_PER_REGISTRY);
      for (size_t i = 0; i < mirrors->size(); ++i) {
        std::string mirrorKey = fieldKey + "[" + std::to_string(i) + "]";
        const toml::table* mirrorTable = mirrors->get(i)->as_table();
        if (mirrorTable == nullptr) invalid(mirrorKey, "expected a table");
        entry.mirrors.push_back(mirror(*mirrorTable, mirrorKey, entry));
      }
    } else {
      warn(fieldKey, "unknown key, ignored");
    }
  }

  if (entry.prefix.empty()) {
    if (entry.location.empty()) invalid(key, "needs a location or a prefix");
    entry.prefix = entry.location;
  } else if (entry.location.empty() && !isWildcard(entry.prefix)) {
    invalid(key + ".location", "needs a location unless the prefix is a wildcard (*.example.com)");
  }
  return entry;
}

std::vector<std::string> FileParser::searchRegistries(const toml::node& node) {
  const std::string key = "unqualified-search-registries";
  std::vector<std::string> registries = strings(node, key, MAX_SEARCH_REGISTRIES);
  for (auto& registry : registries) {
    while (!registry.empty() && registry.back() == '/')
      registry.pop_back();
    if (!isValidDomain(registry) || !looksLikeDomain(registry)) {
      invalid(key, quoteInput(registry) +
                       " is not a registry host[:port] (it must contain '.' or ':' or be "
                       "localhost)");
    }
    if (registry == LEGACY_DOCKER_DOMAIN) registry = DOCKER_DOMAIN;
  }
  return registries;
}

ShortNameMode FileParser::shortNameMode(const toml::node& node) const {
  std::string value = string(node, "short-name-mode");
  if (value == "enforcing") return ShortNameMode::ENFORCING;
  if (value == "permissive") return ShortNameMode::PERMISSIVE;
  if (value == "disabled") return ShortNameMode::DISABLED;
  invalid("short-name-mode",
          quoteInput(value) + " is not one of \"enforcing\", \"permissive\", \"disabled\"");
}

void FileParser::aliases(const toml::node& node, ParsedFile& parsed) const {
  const toml::table* table = node.as_table();
  if (table == nullptr) invalid("aliases", "expected a table, got " + typeName(node));
  if (table->size() > MAX_ALIASES) tooMany("aliases", MAX_ALIASES);
  for (const auto& [name, valueNode] : *table) {
    std::string shortName(name.str());
    std::string key = "aliases." + quoteInput(shortName);
    std::string value = string(valueNode, key);

    Reference parsedName;
    try {
      parsedName = parseReference(shortName);
    } catch (const Error& e) {
      invalid(key, e.what());
    }
    if (!parsedName.isShortName()) {
      invalid(key, "an alias name must be a short name, without a registry");
    }
    if (parsedName.hasTag() || parsedName.hasDigest()) {
      invalid(key, "an alias name must not have a tag or digest");
    }

    if (value.empty()) {
      parsed.aliases.emplace_back(shortName, std::nullopt);
      continue;
    }
    Reference target;
    try {
      target = parseReference(value);
    } catch (const Error& e) {
      invalid(key, e.what());
    }
    if (target.isShortName()) {
      invalid(key, quoteInput(value) + " must be a fully qualified name with a registry");
    }
    if (target.hasTag() || target.hasDigest()) {
      invalid(key, quoteInput(value) + " must not have a tag or digest");
    }
    parsed.aliases.emplace_back(shortName, target);
  }
}

// Maps [registries.search], [registries.insecure] and [registries.block] to version 2.
void FileParser::v1Format(const toml::node& node, ParsedFile& parsed) {
  const toml::table* table = node.as_table();
  if (table == nullptr) invalid("registries", "expected a table, got " + typeName(node));

  auto entryFor = [&](const std::string& registry, const std::string& key) -> RegistryEntry& {
    std::string location = registry;
    while (!location.empty() && location.back() == '/')
      location.pop_back();
    std::string problem = prefixProblem(location, false);
    if (!problem.empty()) invalid(key, quoteInput(registry) + " is invalid: " + problem);
    for (auto& entry : parsed.registries) {
      if (entry.location == location) return entry;
    }
    if (parsed.registries.size() >= MAX_REGISTRY_ENTRIES) tooMany(key, MAX_REGISTRY_ENTRIES);
    parsed.registries.push_back({location, location});
    parsed.registries.back().file = file_;
    return parsed.registries.back();
  };

  for (const auto& [name, listNode] : *table) {
    std::string list(name.str());
    std::string key = "registries." + list + ".registries";
    const toml::table* listTable = listNode.as_table();
    if (listTable == nullptr) invalid("registries." + list, "expected a table");
    const toml::node* registries = listTable->get("registries");
    if (registries == nullptr) continue;
    if (list == "search") {
      parsed.search = searchRegistries(*registries);
    } else if (list == "insecure") {
      for (const auto& registry : strings(*registries, key, MAX_REGISTRY_ENTRIES)) {
        entryFor(registry, key).insecure = true;
      }
    } else if (list == "block") {
      for (const auto& registry : strings(*registries, key, MAX_REGISTRY_ENTRIES)) {
        entryFor(registry, key).blocked = true;
      }
    } else {
      warn("registries." + list, "unknown key, ignored");
    }
  }
}

// Tables for the same location must agree on insecure and blocked, as in containers/image.
void FileParser::checkConflicts(const std::vector<RegistryEntry>& entries) const {
  std::map<std::string, const RegistryEntry*> byLocation;
  for (const auto& entry : entries) {
    const std::string& location = entry.location.empty() ? entry.prefix : entry.location;
    auto [it, inserted] = byLocation.emplace(location, &entry);
    if (inserted) continue;
    if (it->second->insecure != entry.insecure) {
      invalid("registry", "location " + quoteInput(location) +
                              " is defined more than once with different \"insecure\" values");
    }
    if (it->second->blocked != entry.blocked) {
      invalid("registry", "location " + quoteInput(location) +
                              " is defined more than once with different \"blocked\" values");
    }
  }
}

ParsedFile FileParser::parse(const std::string& text, bool dropIn) {
  toml::table root;
  try {
    root = toml::parse(text, file_);
  } catch (const toml::parse_error& e) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         file_ + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }

  ParsedFile parsed;
  bool hasV2 = false;
  for (const auto& [name, node] : root) {
    std::string key(name.str());
    if (key == "registries") continue;
    hasV2 = true;
    if (key == "registry") {
      const toml::array* tables = node.as_array();
      if (tables == nullptr) invalid(key, "expected [[registry]] tables");
      if (tables->size() > MAX_REGISTRY_ENTRIES) tooMany(key, MAX_REGISTRY_ENTRIES);
      std::set<std::string> prefixes;
      for (size_t i = 0; i < tables->size(); ++i) {
        std::string entryKey = "registry[" + std::to_string(i) + "]";
        const toml::table* table = tables->get(i)->as_table();
        if (table == nullptr) invalid(entryKey, "expected a table");
        RegistryEntry entry = registry(*table, entryKey);
        if (!prefixes.insert(entry.prefix).second) {
          warn(entryKey, "prefix " + quoteInput(entry.prefix) +
                             " appears in an earlier [[registry]] table of this file; this one "
                             "is ignored");
          continue;
        }
        parsed.registries.push_back(std::move(entry));
      }
    } else if (key == "unqualified-search-registries") {
      parsed.search = searchRegistries(node);
    } else if (key == "short-name-mode") {
      if (node.is_string() && node.as_string()->get().empty()) continue;
      parsed.mode = shortNameMode(node);
    } else if (key == "aliases") {
      aliases(node, parsed);
    } else if (key == "credential-helpers") {
      std::vector<std::string> helpers = strings(node, key, MAX_SEARCH_REGISTRIES);
      for (const auto& helper : helpers) {
        if (helper == AUTH_FILE_HELPER) continue;
        warn(key, "credential helper " + quoteInput(helper) +
                      " is not supported; only auth.json files are read");
      }
    } else if (key == "additional-layer-store-auth-helper") {
      warn(key, "not supported, ignored");
    } else {
      warn(key, "unknown key, ignored");
    }
  }

  if (const toml::node* v1 = root.get("registries")) {
    if (dropIn) {
      invalid("registries", "drop-in files must use the version 2 format ([[registry]] tables)");
    }
    if (hasV2) {
      invalid("registries",
              "the version 1 format ([registries.*]) cannot be mixed with version 2 keys");
    }
    v1Format(*v1, parsed);
  }

  checkConflicts(parsed.registries);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Merging

void merge(RegistriesConfig& config, ParsedFile parsed, const std::string& file) {
  std::map<std::string, RegistryEntry> byPrefix;
  for (auto& entry : config.registries) {
    byPrefix[entry.prefix] = std::move(entry);
  }
  for (auto& entry : parsed.registries) {
    byPrefix[entry.prefix] = std::move(entry);
  }
  if (byPrefix.size() > MAX_REGISTRY_ENTRIES) {
    fail(ErrorCategory::RESOURCE_EXHAUSTED, file + ": registry: more than " +
                                                std::to_string(MAX_REGISTRY_ENTRIES) +
                                                " [[registry]] tables in all files together");
  }
  config.registries.clear();
  for (auto& [prefix, entry] : byPrefix) {
    config.registries.push_back(std::move(entry));
  }

  if (parsed.search) {
    config.unqualifiedSearchRegistries = std::move(*parsed.search);
    config.searchRegistriesFile = file;
  }
  if (parsed.mode) {
    config.shortNameMode = *parsed.mode;
    config.shortNameModeFile = file;
  }
  for (auto& [name, value] : parsed.aliases) {
    if (value) {
      config.aliases[name] = Alias{std::move(*value), file};
    } else {
      config.aliases.erase(name);
    }
  }
  if (config.aliases.size() > MAX_ALIASES) {
    fail(ErrorCategory::RESOURCE_EXHAUSTED, file + ": aliases: more than " +
                                                std::to_string(MAX_ALIASES) +
                                                " aliases in all files together");
  }
}

void loadFile(RegistriesConfig& config, const std::string& path, bool dropIn) {
  std::optional<std::string> text = readBoundedFile(path, MAX_REGISTRIES_FILE_SIZE);
  if (!text) return;  // removed since the folder was listed
  FileParser parser(path, config.warnings);
  merge(config, parser.parse(*text, dropIn), path);
  config.filesRead.push_back(path);
}

std::vector<std::string> dropInFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return files;
  if (ec) fail(ErrorCategory::INTERNAL, "list " + dir + ": " + ec.message());
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    if (name.size() <= 5 || name.substr(name.size() - 5) != ".conf") continue;
    if (entry.is_directory(ec)) continue;
    files.push_back(entry.path().string());
    if (files.size() > MAX_REGISTRIES_DROP_INS) {
      fail(ErrorCategory::RESOURCE_EXHAUSTED,
           dir + ": more than " + std::to_string(MAX_REGISTRIES_DROP_INS) + " .conf files");
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public functions

std::string_view shortNameModeName(ShortNameMode mode) {
  switch (mode) {
    case ShortNameMode::ENFORCING:
      return "enforcing";
    case ShortNameMode::PERMISSIVE:
      return "permissive";
    case ShortNameMode::DISABLED:
      return "disabled";
  }
  return "permissive";
}

size_t matchPrefix(std::string_view referenceText, std::string_view prefix) {
  if (isWildcard(prefix)) {
    // "*.example.com" matches one or more labels in front of ".example.com".
    std::string_view domain = domainOf(referenceText);
    std::string_view suffix = prefix.substr(1);
    if (domain.size() <= suffix.size()) return std::string_view::npos;
    if (domain.substr(domain.size() - suffix.size()) != suffix) return std::string_view::npos;
    return domain.size();
  }
  if (!startsWith(referenceText, prefix)) return std::string_view::npos;
  if (referenceText.size() == prefix.size()) return prefix.size();

  char next = referenceText[prefix.size()];
  if (next == '/' || next == '@') return prefix.size();
  // After a repository a ':' starts the tag; after a bare host it would start a port, which
  // makes a different registry.
  if (next == ':' && prefix.find('/') != std::string_view::npos) return prefix.size();
  return std::string_view::npos;
}

const RegistryEntry* RegistriesConfig::findEntry(const Reference& reference) const {
  std::string text = reference.pullString();
  const RegistryEntry* best = nullptr;
  for (const auto& entry : registries) {
    if (matchPrefix(text, entry.prefix) == std::string::npos) continue;
    if (best == nullptr || entry.prefix.size() > best->prefix.size()) best = &entry;
  }
  return best;
}

RegistriesSources registriesSources(const Config& config) {
  RegistriesSources sources;
  sources.file = config.registriesConf;
  sources.dropInDir = config.registriesConfDir;
  sources.insecureRegistries = config.insecureRegistries;
  return sources;
}

RegistriesConfig loadRegistries(const RegistriesSources& sources) {
  RegistriesConfig config;

  for (const auto& entry : sources.insecureRegistries) {
    std::string prefix = entry;
    while (!prefix.empty() && prefix.back() == '/')
      prefix.pop_back();
    std::string problem = prefixProblem(prefix, true);
    if (!problem.empty()) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "[crio.image] insecure_registries: " + quoteInput(entry) + " is invalid: " + problem);
    }
    config.insecureRegistries.push_back(prefix);
  }

  if (!sources.file.empty()) {
    if (sources.fileExplicit && !fs::exists(sources.file)) {
      fail(ErrorCategory::NOT_FOUND, "registries configuration " + sources.file + " not found");
    }
    loadFile(config, sources.file, false);
  }
  if (!sources.dropInDir.empty()) {
    for (const auto& file : dropInFiles(sources.dropInDir)) {
      loadFile(config, file, true);
    }
  }

  log::debug(
      "registries configuration loaded",
      {{"files", static_cast<int64_t>(config.filesRead.size())},
       {"registries", static_cast<int64_t>(config.registries.size())},
       {"search_registries", static_cast<int64_t>(config.unqualifiedSearchRegistries.size())},
       {"aliases", static_cast<int64_t>(config.aliases.size())},
       {"short_name_mode", shortNameModeName(config.shortNameMode)}});
  return config;
}

namespace {

struct Endpoint {
  std::string location;  // "" keeps the name as written
  bool insecure;
  bool mirror;
};

Reference rewrite(const RegistryEntry& entry, const std::string& referenceText, size_t matched,
                  const std::string& location) {
  std::string physical =
      location.empty() ? referenceText : location + referenceText.substr(matched);
  try {
    Reference reference = parseReference(physical);
    if (!reference.isShortName()) return reference;
  } catch (const Error&) {
  }
  fail(ErrorCategory::INVALID_ARGUMENT,
       entry.file + ": registry with prefix " + quoteInput(entry.prefix) + ": location " +
           quoteInput(location) + " turns " + quoteInput(referenceText) + " into " +
           quoteInput(physical) + ", which is not a valid image reference");
}

}  // namespace

std::vector<PullSource> pullSources(const RegistriesConfig& config, const Reference& reference) {
  if (reference.isShortName()) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "pull sources need a fully qualified name, not the short name " +
             quoteInput(reference.string()));
  }

  const RegistryEntry* entry = config.findEntry(reference);
  if (entry == nullptr) {
    return {PullSource{reference, isInsecureByCrioConf(config, reference), false}};
  }

  std::string text = reference.pullString();
  size_t matched = matchPrefix(text, entry->prefix);
  bool digested = reference.hasDigest();

  std::vector<Endpoint> endpoints;
  for (const auto& mirror : entry->mirrors) {
    if (entry->mirrorByDigestOnly && !digested) continue;
    if (mirror.use == MirrorUse::DIGEST_ONLY && !digested) continue;
    if (mirror.use == MirrorUse::TAG_ONLY && digested) continue;
    endpoints.push_back({mirror.location, mirror.insecure, true});
  }
  if (!entry->blocked) endpoints.push_back({entry->location, entry->insecure, false});

  std::vector<PullSource> sources;
  std::vector<std::string> reasons;
  if (entry->blocked) {
    reasons.push_back("the registry with prefix " + quoteInput(entry->prefix) + " in " +
                      entry->file + " is blocked");
    if (entry->mirrors.empty()) {
      reasons.push_back("it has no mirrors");
    } else if (endpoints.empty()) {
      reasons.push_back(digested ? "none of its mirrors serves references with a digest"
                                 : "none of its mirrors serves references by tag");
    }
  }
  for (const auto& endpoint : endpoints) {
    Reference physical = rewrite(*entry, text, matched, endpoint.location);
    // A mirror or remapped location that falls under a blocked table is not contacted.
    const RegistryEntry* own = config.findEntry(physical);
    if (own != nullptr && own->blocked) {
      reasons.push_back((endpoint.mirror ? "mirror " : "location ") + physical.name() +
                        " is blocked by the prefix " + quoteInput(own->prefix) + " in " +
                        own->file);
      continue;
    }
    bool insecure = endpoint.insecure || isInsecureByCrioConf(config, physical);
    sources.push_back(PullSource{std::move(physical), insecure, endpoint.mirror});
  }
  if (!sources.empty()) return sources;

  std::string message = "pulling " + quoteInput(reference.string()) + " is blocked";
  for (size_t i = 0; i < reasons.size(); ++i) {
    message += (i == 0 ? ": " : "; ") + reasons[i];
  }
  fail(ErrorCategory::PERMISSION_DENIED, message);
}

}  // namespace crio::imaged
