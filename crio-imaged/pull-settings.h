// The files that decide how crio-imaged resolves and authorizes a pull, loaded together into one
// immutable snapshot: registries.conf and its drop-ins (registries.h), policy.json (policy.h) and
// the auth files (auth-file.h).
//
// Loading and privileges: crio-imaged loads the snapshot as root, before it switches to its
// unprivileged user, and again on SIGHUP as that user. When a reload cannot read or parse a file,
// it keeps that part of the previous snapshot and logs why. So a root-only auth file (0600, such
// as /run/containers/0/auth.json) read at start stays in use after a reload, and edits to it take
// effect only at the next start.
//
// A snapshot never throws for a broken policy or auth file when it is built. The error is stored
// and raised by the pulls that need the file, so that a typo in policy.json fails pulls with its
// message instead of stopping the daemon.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "crio-imaged/auth-file.h"
#include "crio-imaged/policy.h"
#include "crio-imaged/registries.h"

namespace crio::imaged {

// One auth file as loaded: its content, or the error that reading it gave, or neither when the
// file does not exist.
struct LoadedAuthFile {
  std::string path;
  std::optional<AuthFile> file;
  std::optional<Error> error;
};

struct PullSettings {
  RegistriesConfig registries;
  // The evaluator of policy.json, or null when it could not be loaded; `policyError` is then the
  // reason.
  std::shared_ptr<const PolicyEvaluator> policy;
  std::optional<Error> policyError;
  std::vector<LoadedAuthFile> authFiles;  // in search order

  // The evaluator, or throws the stored load error (FAILED_PRECONDITION for a missing file).
  const PolicyEvaluator& requirePolicy() const;

  // Searches the auth files in order for `name` (host[:port]/path of the source pulled from).
  // Throws the load error of a file reached before a match, and what AuthFile::find throws.
  std::optional<StoredCredentials> storedCredentials(const std::string& name) const;
};

// Reads every file `config` names, with `paths` for the default auth file locations. Throws
// crio::Error when registries.conf or a drop-in is invalid. When `previous` is given, each part
// that fails to load keeps its value from `previous` (and registries.conf errors are logged
// instead of thrown).
std::shared_ptr<const PullSettings> loadPullSettings(const Config& config, const Paths& paths,
                                                     const PullSettings* previous = nullptr);

// The current snapshot, replaced as a whole on reload. A pull keeps the snapshot it started with.
class PullSettingsHolder {
 public:
  PullSettingsHolder(Config config, Paths paths);

  std::shared_ptr<const PullSettings> current() const { return current_; }
  // Re-reads the files with `config` (the reloaded crio.conf); never throws.
  void reload(Config config);

 private:
  Config config_;
  Paths paths_;
  std::shared_ptr<const PullSettings> current_;
};

}  // namespace crio::imaged
