#include "crio-imaged/source-list.h"

#include <algorithm>

#include "common/error.h"
#include "crio-imaged/digest.h"

namespace crio::imaged {

namespace {

// Bound on a reference as a whole; Docker limits repository names to 255 characters.
constexpr size_t MAX_REFERENCE_LENGTH = 512;
constexpr size_t MAX_TAG_LENGTH = 128;

[[noreturn]] void invalidReference(std::string_view reference, const std::string& reason) {
  std::string shown(reference.substr(0, 100));
  fail(ErrorCategory::INVALID_ARGUMENT, "invalid image reference \"" + shown + "\": " + reason);
}

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == ':' || c == '[' || c == ']';
}

bool isRepositoryChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '/';
}

bool isTagChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// A first path component names a registry when it looks like a host: it has a dot or a port, or
// it is "localhost" (the Docker rule).
bool looksLikeHost(std::string_view component) {
  return component.find('.') != std::string_view::npos ||
         component.find(':') != std::string_view::npos || component == "localhost";
}

PullSource parseQualified(std::string_view reference) {
  if (reference.empty()) invalidReference(reference, "it is empty");
  if (reference.size() > MAX_REFERENCE_LENGTH) {
    invalidReference(reference,
                     "it is longer than " + std::to_string(MAX_REFERENCE_LENGTH) + " characters");
  }
  std::string_view rest = reference;
  if (rest.rfind("docker://", 0) == 0) rest.remove_prefix(9);

  PullSource source;
  auto at = rest.find('@');
  if (at != std::string_view::npos) {
    source.digest = Digest::parse(rest.substr(at + 1), "image digest").text();
    rest = rest.substr(0, at);
  }

  auto slash = rest.find('/');
  if (slash == std::string_view::npos || !looksLikeHost(rest.substr(0, slash))) {
    invalidReference(reference,
                     "it is not fully qualified; use REGISTRY/REPOSITORY[:TAG] (short names are "
                     "resolved only through registries.conf)");
  }
  source.registry = rest.substr(0, slash);
  rest = rest.substr(slash + 1);

  // A colon after the last slash starts the tag.
  auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    source.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (source.tag.empty() || source.tag.size() > MAX_TAG_LENGTH ||
        !std::all_of(source.tag.begin(), source.tag.end(), isTagChar) || source.tag[0] == '.' ||
        source.tag[0] == '-') {
      invalidReference(reference, "the tag is not valid");
    }
  }
  source.repository = rest;

  if (!std::all_of(source.registry.begin(), source.registry.end(), isHostChar)) {
    invalidReference(reference, "the registry host is not valid");
  }
  if (source.repository.empty() ||
      !std::all_of(source.repository.begin(), source.repository.end(), isRepositoryChar)) {
    invalidReference(reference,
                     "the repository must be lowercase letters, digits, '.', '_', '-' and '/'");
  }
  // Empty components and dot segments would change the URL path the registry receives.
  std::string padded = "/" + source.repository + "/";
  if (padded.find("//") != std::string::npos || padded.find("/./") != std::string::npos ||
      padded.find("/../") != std::string::npos) {
    invalidReference(reference, "the repository has an empty or dot path component");
  }
  if (source.tag.empty() && source.digest.empty()) source.tag = "latest";
  return source;
}

}  // namespace

std::string PullSource::name() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string PullSource::manifestReference() const {
  return digest.empty() ? tag : digest;
}

SourceList::SourceList(const Config& config) : insecureRegistries_(config.insecureRegistries) {}

std::vector<PullSource> SourceList::pullSources(std::string_view reference) const {
  PullSource source = parseQualified(reference);
  std::string host = source.registry.substr(0, source.registry.rfind(':'));
  for (const auto& entry : insecureRegistries_) {
    if (entry == source.registry || entry == host) source.insecure = true;
  }
  return {source};
}

std::vector<std::string> SourceList::candidates(std::string_view reference) const {
  return {parseQualified(reference).name()};
}

std::optional<RegistryCredentials> SourceList::storedCredentials(const PullSource&) const {
  return std::nullopt;
}

}  // namespace crio::imaged
