#include "crio-imaged/auth-file.h"

#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/log.h"
#include "crio-imaged/bounded-file.h"
#include "crio-imaged/reference.h"

namespace crio::imaged {

namespace {

using json = nlohmann::json;

// The value of a base64 character, or -1.
int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Decodes standard base64 with padding, skipping the line breaks that some encoders insert.
// Returns nullopt when the text is not valid base64.
std::optional<std::string> decodeBase64(std::string_view text) {
  std::string clean;
  for (char c : text) {
    if (c != '\r' && c != '\n') clean += c;
  }
  if (clean.size() % 4 != 0) return std::nullopt;

  std::string out;
  for (size_t i = 0; i < clean.size(); i += 4) {
    bool last = i + 4 == clean.size();
    int values[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      char c = clean[i + j];
      if (c == '=' && last && j >= 2) {
        ++padding;
        values[j] = 0;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after '='
      values[j] = base64Value(c);
      if (values[j] < 0) return std::nullopt;
    }
    uint32_t group = (static_cast<uint32_t>(values[0]) << 18) |
                     (static_cast<uint32_t>(values[1]) << 12) |
                     (static_cast<uint32_t>(values[2]) << 6) | static_cast<uint32_t>(values[3]);
    out += static_cast<char>((group >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((group >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(group & 0xff);
  }
  return out;
}

bool startsWith(std::string_view text, std::string_view start) {
  return text.substr(0, start.size()) == start;
}

// The registries docker and containers/image treat as one.
std::string normalizeRegistry(std::string_view host) {
  if (host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io") {
    return "index.docker.io";
  }
  return std::string(host);
}

// A key as a registry host: URL keys lose their scheme and path.
std::string normalizeKey(std::string_view key) {
  std::string_view stripped = key;
  if (startsWith(stripped, "http://")) {
    stripped.remove_prefix(7);
  } else if (startsWith(stripped, "https://")) {
    stripped.remove_prefix(8);
  }
  if (stripped.size() != key.size()) stripped = stripped.substr(0, stripped.find('/'));
  return normalizeRegistry(stripped);
}

std::string keyPath(const std::string& key) {
  return "auths." + quoteInput(key);
}

}  // namespace

UserPassword decodeAuth(std::string_view base64, const std::string& where) {
  std::optional<std::string> decoded = decodeBase64(base64);
  if (!decoded) fail(ErrorCategory::INVALID_ARGUMENT, where + ": not valid base64");
  if (decoded->empty()) return {};

  size_t colon = decoded->find(':');
  if (colon == std::string::npos) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         where + ": the decoded value has no ':' between user name and password");
  }
  UserPassword result{decoded->substr(0, colon), decoded->substr(colon + 1)};
  // containers/image strips NUL bytes from both ends of the password, so this does too.
  while (!result.password.empty() && result.password.back() == '\0')
    result.password.pop_back();
  while (!result.password.empty() && result.password.front() == '\0')
    result.password.erase(0, 1);
  return result;
}

AuthFile AuthFile::parse(std::string_view text, const std::string& fileName) {
  AuthFile file;
  file.file_ = fileName;
  auto invalid = [&](const std::string& key, const std::string& reason) {
    fail(ErrorCategory::INVALID_ARGUMENT, fileName + ": " + key + ": " + reason);
  };

  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // The parser's message quotes the text near the error, which may be a secret.
    fail(ErrorCategory::INVALID_ARGUMENT,
         fileName + ": invalid JSON at byte " + std::to_string(e.byte));
  }
  if (!root.is_object()) invalid("(document)", "expected an object");

  if (root.contains("auths")) {
    const json& auths = root["auths"];
    if (!auths.is_object()) invalid("auths", "expected an object");
    if (auths.size() > MAX_AUTH_ENTRIES) {
      fail(ErrorCategory::RESOURCE_EXHAUSTED,
           fileName + ": auths: more than " + std::to_string(MAX_AUTH_ENTRIES) + " entries");
    }
    for (const auto& [key, value] : auths.items()) {
      if (!value.is_object()) invalid(keyPath(key), "expected an object");
      Entry entry;
      for (const auto& [field, fieldValue] : value.items()) {
        if (field != "auth" && field != "identitytoken") continue;
        if (!fieldValue.is_string()) invalid(keyPath(key) + "." + field, "expected a string");
        (field == "auth" ? entry.auth : entry.identityToken) = fieldValue.get<std::string>();
      }
      file.auths_.emplace(key, std::move(entry));
    }
  }

  if (root.contains("credHelpers")) {
    const json& helpers = root["credHelpers"];
    if (!helpers.is_object()) invalid("credHelpers", "expected an object");
    if (file.auths_.size() + helpers.size() > MAX_AUTH_ENTRIES) {
      fail(ErrorCategory::RESOURCE_EXHAUSTED,
           fileName + ": more than " + std::to_string(MAX_AUTH_ENTRIES) + " entries");
    }
    for (const auto& [registry, helper] : helpers.items()) {
      if (!helper.is_string()) invalid("credHelpers." + quoteInput(registry), "expected a string");
      file.credHelpers_.emplace(registry, helper.get<std::string>());
    }
  }

  if (root.contains("credsStore")) {
    log::debug("auth file names a credential store, which is not used", {{"file", fileName}});
  }
  return file;
}

std::optional<AuthFile> AuthFile::load(const std::string& path) {
  std::optional<std::string> text = readBoundedFile(path, MAX_AUTH_FILE_SIZE);
  if (!text) return std::nullopt;
  return parse(*text, path);
}

std::optional<StoredCredentials> AuthFile::decode(const std::string& key,
                                                  const Entry& entry) const {
  UserPassword user = decodeAuth(entry.auth, file_ + ": " + keyPath(key) + ".auth");
  if (user.username.empty() && user.password.empty() && entry.identityToken.empty()) {
    return std::nullopt;
  }
  return StoredCredentials{std::move(user.username), std::move(user.password), entry.identityToken,
                           file_ + " (key " + key + ")"};
}

std::optional<StoredCredentials> AuthFile::find(std::string_view name) const {
  std::string host(name.substr(0, name.find('/')));

  auto helper = credHelpers_.find(host);
  if (helper != credHelpers_.end()) {
    fail(ErrorCategory::UNIMPLEMENTED,
         file_ + ": credHelpers names " + quoteInput(helper->second) + " for " + quoteInput(host) +
             ", but credential helpers are not supported by this runtime; store the "
             "credentials in an \"auths\" entry or pass them in the pull request");
  }

  std::string key(name);
  while (true) {
    auto it = auths_.find(key);
    if (it != auths_.end()) {
      if (auto credentials = decode(it->first, it->second)) return credentials;
    }
    size_t slash = key.rfind('/');
    if (slash == std::string::npos) break;
    key.resize(slash);
  }

  std::string registry = normalizeRegistry(host);
  for (const auto& [entryKey, entry] : auths_) {
    if (normalizeKey(entryKey) != registry) continue;
    if (auto credentials = decode(entryKey, entry)) return credentials;
  }
  return std::nullopt;
}

std::vector<std::string> defaultAuthFiles(const std::string& globalAuthFile, const Paths& paths) {
  if (!globalAuthFile.empty()) return {globalAuthFile};
  return {paths.under("/run/containers/0/auth.json"),
          paths.under("/root/.config/containers/auth.json"),
          paths.under("/root/.docker/config.json")};
}

std::optional<StoredCredentials> findCredentials(const std::vector<std::string>& files,
                                                 std::string_view name) {
  for (const auto& path : files) {
    std::optional<AuthFile> file = AuthFile::load(path);
    if (!file) continue;
    if (auto credentials = file->find(name)) {
      log::debug("registry credentials found", {{"name", name}, {"source", credentials->source}});
      return credentials;
    }
  }
  return std::nullopt;
}

}  // namespace crio::imaged
