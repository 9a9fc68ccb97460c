// registries.conf (containers-registries.conf(5), version 2) and its drop-in folder
// (containers-registries.conf.d(5)): which registry, mirror or remapped location an image name is
// pulled from, with which transport security, and whether pulling it is blocked.
//
// Files read, later ones overriding earlier ones:
//   1. The main file (/etc/containers/registries.conf). A missing file is an empty configuration
//      unless it was named explicitly. It may use the deprecated version 1 format
//      ([registries.search], [registries.insecure], [registries.block]), which is mapped to
//      version 2, but one file cannot mix both formats.
//   2. Every *.conf in the drop-in folder, in lexical order of file name. Other files and folders
//      are ignored, and drop-ins must use version 2.
// Merge rules:
//   - a [[registry]] table replaces an earlier one with the same prefix;
//   - unqualified-search-registries and short-name-mode replace earlier values when a file sets
//     them;
//   - [aliases] entries replace earlier ones name by name, and an empty value removes the alias.
// Within one file, a repeated prefix keeps the first table (with a warning), and tables with the
// same location must agree on `insecure` and `blocked`.
//
// The loaded configuration is an immutable value, so a daemon that reloads builds a new one.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "crio-imaged/reference.h"

namespace crio::imaged {

// Bounds on what the files may hold; a file over one of them is rejected with its name.
constexpr size_t MAX_REGISTRIES_FILE_SIZE = 1024 * 1024;
constexpr size_t MAX_REGISTRIES_DROP_INS = 256;
constexpr size_t MAX_REGISTRY_ENTRIES = 4096;  // [[registry]] tables, per file and merged
constexpr size_t MAX_MIRRORS_PER_REGISTRY = 64;
constexpr size_t MAX_SEARCH_REGISTRIES = 64;
constexpr size_t MAX_ALIASES = 16384;  // per file and merged

enum class ShortNameMode { ENFORCING, PERMISSIVE, DISABLED };

// A mirror's pull-from-mirror setting: which references it serves.
enum class MirrorUse { ALL, DIGEST_ONLY, TAG_ONLY };

std::string_view shortNameModeName(ShortNameMode mode);

struct Mirror {
  std::string location;  // host[:port][/namespace...], same form as a prefix
  bool insecure = false;
  MirrorUse use = MirrorUse::ALL;
};

// One [[registry]] table.
struct RegistryEntry {
  // host[:port][/namespace...][/repo][:tag|@digest], or "*.example.com" for every subdomain.
  std::string prefix;
  // Location the prefix-rooted namespace is pulled from. It is "" only with a wildcard prefix,
  // and the name is then pulled as written.
  std::string location;
  bool insecure = false;  // plain HTTP and unverified TLS allowed
  bool blocked = false;   // the primary location is never contacted, but mirrors still are
  bool mirrorByDigestOnly = false;
  std::vector<Mirror> mirrors;  // tried in this order, before the primary location
  std::string file;             // the file that defined this table, for messages
};

struct Alias {
  Reference value;  // qualified, without tag or digest
  std::string file;
};

struct RegistriesConfig {
  std::vector<RegistryEntry> registries;                 // one per prefix, sorted by prefix
  std::vector<std::string> unqualifiedSearchRegistries;  // host[:port], in search order
  std::string searchRegistriesFile;  // the file that set them, or "" when none did
  ShortNameMode shortNameMode = ShortNameMode::PERMISSIVE;
  std::string shortNameModeFile;
  std::map<std::string, Alias> aliases;  // keyed by short name without tag or digest
  // [crio.image] insecure_registries from crio.conf: prefixes (usually host[:port]) whose pull
  // sources are insecure whatever registries.conf sets.
  std::vector<std::string> insecureRegistries;
  std::vector<std::string> filesRead;
  std::vector<ConfigWarning> warnings;  // unknown keys and ignored settings, to be logged

  // The table whose prefix is the longest match for `reference` (a qualified reference, matched
  // as its pullString()), or nullptr when none matches. Equally long matches go to the first
  // prefix in sorted order.
  const RegistryEntry* findEntry(const Reference& reference) const;
};

struct RegistriesSources {
  std::string file;           // the main file
  std::string dropInDir;      // "" for none, and a missing folder is fine
  bool fileExplicit = false;  // a missing main file is then an error
  std::vector<std::string> insecureRegistries;
};

// The sources that crio.conf names: [crio.suite] registries_conf and registries_conf_dir, and
// [crio.image] insecure_registries.
RegistriesSources registriesSources(const Config& config);

// Reads and merges the files. Throws crio::Error: INVALID_ARGUMENT naming the file and the key
// for an invalid value, RESOURCE_EXHAUSTED naming the file when a bound is exceeded, NOT_FOUND
// for a missing explicit main file.
RegistriesConfig loadRegistries(const RegistriesSources& sources);

// One place to try a pull from.
struct PullSource {
  Reference reference;    // the physical reference: what to ask that registry for
  bool insecure = false;  // plain HTTP and unverified TLS allowed for this source
  bool mirror = false;    // false for the primary location
};

// Where the qualified reference `reference` is pulled from, in order: the mirrors that serve it,
// then the primary location. The longest matching prefix is replaced by the location of each
// (prefix "gcr.io" and location "localhost:5000" turn gcr.io/a/b:1 into localhost:5000/a/b:1),
// while the image keeps `reference` as its name. A mirror is used for a reference with a digest
// unless it is tag-only, and for one without a digest unless it is digest-only or the table has
// mirror-by-digest-only. A blocked table skips its primary location; a source whose own physical
// name falls under a blocked table is skipped too.
// Throws INVALID_ARGUMENT for a short name or a rewrite that gives an invalid reference, and
// PERMISSION_DENIED naming the prefix and its file when every source is blocked.
std::vector<PullSource> pullSources(const RegistriesConfig& config, const Reference& reference);

// Returns the length of the part of `referenceText` (a qualified reference's pullString()) that
// the registries.conf `prefix` matches, or npos.
// A host-only prefix ("example.com", "*.example.com") matches only that exact host[:port], so
// "example.com" does not match "example.com:5000/app".
size_t matchPrefix(std::string_view referenceText, std::string_view prefix);

}  // namespace crio::imaged
