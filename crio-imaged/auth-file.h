// Registry credentials stored in auth.json (containers-auth.json(5)) or docker's config.json:
//
//   {"auths": {"quay.io/team": {"auth": "<base64 of user:password>", "identitytoken": "..."}}}
//
// Files are searched in order and the first file with a usable entry wins; defaultAuthFiles()
// gives the daemon's order. Within a file, the keys tried for a name such as
// my-registry.local/ns/user/image are, most specific first:
//   my-registry.local/ns/user/image, my-registry.local/ns/user, my-registry.local/ns,
//   my-registry.local;
// then every key reduced to a host: a URL key ("https://index.docker.io/v1/") gives its host,
// and docker.io, index.docker.io and registry-1.docker.io are the same registry.
// An entry without credentials ({} as docker writes it next to a credential helper) is passed
// over. A credHelpers entry for the registry is an error, because this runtime does not run
// credential helpers. credsStore is ignored, and its entries carry no credentials of their own.
//
// Credentials are secrets: nothing here logs them, and StoredCredentials has no printing.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/paths.h"

namespace crio::imaged {

constexpr size_t MAX_AUTH_FILE_SIZE = 1024 * 1024;
constexpr size_t MAX_AUTH_ENTRIES = 4096;  // "auths" plus "credHelpers" entries per file

struct StoredCredentials {
  std::string username;
  std::string password;
  std::string identityToken;  // an OAuth2 refresh token, or "" when none
  // Origin of the credentials for logs, "FILE (key quay.io/team)". It never contains a secret.
  std::string source;
};

struct UserPassword {
  std::string username;
  std::string password;
};

// Decodes an "auth" value: base64 of "user:password". `where` names the value in errors
// ("FILE: auths.\"quay.io\".auth", or "CRI AuthConfig.auth"). An empty result means no
// credentials. Throws crio::Error INVALID_ARGUMENT for invalid base64 or a value without ':';
// the message never contains the value.
UserPassword decodeAuth(std::string_view base64, const std::string& where);

class AuthFile {
 public:
  // Throws INVALID_ARGUMENT naming `fileName` (and the key) when the JSON or its shape is invalid,
  // RESOURCE_EXHAUSTED when it has more than MAX_AUTH_ENTRIES entries.
  static AuthFile parse(std::string_view text, const std::string& fileName);
  // Returns nullopt when `path` does not exist. Throws like parse(), and with the errno category
  // (such as PERMISSION_DENIED) when the file cannot be read.
  static std::optional<AuthFile> load(const std::string& path);

  // Returns the credentials for `name` (host[:port]/path, the name without tag or digest of the
  // source being pulled from). Throws INVALID_ARGUMENT when the matching entry cannot be decoded,
  // and UNIMPLEMENTED when credHelpers names the registry.
  std::optional<StoredCredentials> find(std::string_view name) const;

  const std::string& file() const { return file_; }

 private:
  struct Entry {
    std::string auth;
    std::string identityToken;
  };

  std::optional<StoredCredentials> decode(const std::string& key, const Entry& entry) const;

  std::string file_;
  std::map<std::string, Entry> auths_;
  std::map<std::string, std::string> credHelpers_;
};

// The files the daemon reads, in order. When [crio.image] global_auth_file is set it is the only
// file, as an explicit auth file is in containers/image. Otherwise, below `paths`' root:
//   /run/containers/0/auth.json          (where podman login writes for root without
//                                         XDG_RUNTIME_DIR)
//   /root/.config/containers/auth.json   (XDG_CONFIG_HOME of root)
//   /root/.docker/config.json            (docker login)
// $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR and $DOCKER_CONFIG are not read: a daemon's environment
// is not the operator's login session. The legacy ~/.dockercfg is not read.
std::vector<std::string> defaultAuthFiles(const std::string& globalAuthFile, const Paths& paths);

// Searches `files` in order for `name` and returns the first credentials found. Missing files are
// skipped, and an unreadable or invalid file is an error naming it.
std::optional<StoredCredentials> findCredentials(const std::vector<std::string>& files,
                                                 std::string_view name);

}  // namespace crio::imaged
