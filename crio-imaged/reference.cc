#include "crio-imaged/reference.h"

#include <arpa/inet.h>

#include <cstdio>

#include "common/error.h"

namespace crio::imaged {

namespace {

constexpr size_t SHA256_HEX_LENGTH = 64;
constexpr size_t MAX_PORT = 65535;
constexpr size_t MAX_QUOTED_LENGTH = 300;

bool isLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool isAlnum(char c) {
  return isLowerAlnum(c) || (c >= 'A' && c <= 'Z');
}

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isWordChar(char c) {
  return isAlnum(c) || c == '_';
}

bool isLowerHex(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f');
}

bool isHex(char c) {
  return isLowerHex(c) || (c >= 'A' && c <= 'F');
}

// One component of a path: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool isValidPathComponent(std::string_view component) {
  size_t i = 0;
  auto alnumRun = [&]() {
    size_t start = i;
    while (i < component.size() && isLowerAlnum(component[i]))
      ++i;
    return i > start;
  };

  if (!alnumRun()) return false;
  while (i < component.size()) {
    char c = component[i];
    if (c == '.') {
      ++i;
    } else if (c == '_') {
      ++i;
      if (i < component.size() && component[i] == '_') ++i;
    } else if (c == '-') {
      while (i < component.size() && component[i] == '-')
        ++i;
    } else {
      return false;
    }
    if (!alnumRun()) return false;
  }
  return true;
}

// One label of a DNS host: [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool isValidHostLabel(std::string_view label) {
  if (label.empty() || !isAlnum(label.front()) || !isAlnum(label.back())) return false;
  for (char c : label) {
    if (!isAlnum(c) && c != '-') return false;
  }
  return true;
}

bool isValidPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  size_t value = 0;
  for (char c : port) {
    if (!isDigit(c)) return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  return value <= MAX_PORT;
}

bool isValidHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    std::string literal(host.substr(1, host.size() - 2));
    struct in6_addr address;
    return inet_pton(AF_INET6, literal.c_str(), &address) == 1;
  }
  if (host.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    if (!isValidHostLabel(host.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// The rule docker and containers/image use to tell "host/repo" from "namespace/repo".
bool looksLikeDomain(std::string_view component) {
  return component.find_first_of(".:") != std::string_view::npos || component == "localhost" ||
         (!component.empty() && component.front() == '[');
}

bool isSha256Identifier(std::string_view text) {
  if (text.size() != SHA256_HEX_LENGTH) return false;
  for (char c : text) {
    if (!isLowerHex(c)) return false;
  }
  return true;
}

[[noreturn]] void invalidReference(std::string_view text, const std::string& reason) {
  fail(ErrorCategory::INVALID_ARGUMENT,
       "invalid image reference " + quoteInput(text) + ": " + reason);
}

// The reason a path is invalid, for the error message; "" when it is valid.
std::string pathProblem(std::string_view path) {
  if (path.empty()) return "the repository name is empty";
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') return "the repository name must be lowercase";
  }
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view component =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (component.empty()) return "the repository name has an empty component";
    if (!isValidPathComponent(component)) {
      return "repository name component " + quoteInput(component) +
             " is invalid: use lowercase letters and digits, separated by '.', '_', '__' or '-'";
    }
    if (slash == std::string_view::npos) return "";
    start = slash + 1;
  }
}

// Applies the docker.io rules to a reference that has a domain.
void normalizeDockerHub(Reference& reference) {
  if (reference.domain == LEGACY_DOCKER_DOMAIN) reference.domain = DOCKER_DOMAIN;
  if (reference.domain == DOCKER_DOMAIN && reference.path.find('/') == std::string::npos) {
    reference.path = "library/" + reference.path;
  }
}

void checkNameLength(std::string_view text, const Reference& reference) {
  size_t length = reference.name().size();
  if (length > MAX_NAME_LENGTH) {
    invalidReference(text, "the name is " + std::to_string(length) + " characters, more than " +
                               std::to_string(MAX_NAME_LENGTH));
  }
}

}  // namespace

std::string Reference::name() const {
  if (domain.empty()) return path;
  return domain + "/" + path;
}

std::string Reference::string() const {
  std::string text = name();
  if (!tag.empty()) text += ":" + tag;
  if (!digest.empty()) text += "@" + digest;
  return text;
}

std::string Reference::pullString() const {
  if (!digest.empty()) return name() + "@" + digest;
  if (!tag.empty()) return name() + ":" + tag;
  return name();
}

std::string Reference::repoDigest() const {
  if (digest.empty()) return "";
  return name() + "@" + digest;
}

std::string Reference::manifestReference() const {
  return digest.empty() ? tag : digest;
}

bool isValidDomain(std::string_view domain) {
  // The port follows the last ':' unless that ':' is inside an IPv6 literal's brackets.
  size_t colon = domain.rfind(':');
  size_t bracket = domain.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    return isValidHost(domain.substr(0, colon)) && isValidPort(domain.substr(colon + 1));
  }
  return isValidHost(domain);
}

bool isValidPath(std::string_view path) {
  return pathProblem(path).empty();
}

bool isValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > MAX_TAG_LENGTH || !isWordChar(tag.front())) return false;
  for (char c : tag) {
    if (!isWordChar(c) && c != '.' && c != '-') return false;
  }
  return true;
}

std::string digestProblem(std::string_view digest) {
  size_t colon = digest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return "a digest has the form sha256:<64 hex digits>";
  }
  std::string_view algorithm = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);
  if (algorithm != "sha256") {
    return "only sha256 digests are supported, not " + quoteInput(algorithm);
  }
  for (char c : hex) {
    if (!isHex(c)) return "the digest contains a character that is not a hex digit";
    if (!isLowerHex(c)) return "the digest's hex digits must be lowercase";
  }
  if (hex.size() != SHA256_HEX_LENGTH) {
    return "a sha256 digest has 64 hex digits, this one has " + std::to_string(hex.size());
  }
  return "";
}

Reference parseReference(std::string_view text) {
  if (text.empty()) invalidReference(text, "the reference is empty");
  if (text.size() > MAX_REFERENCE_LENGTH) {
    invalidReference(text, "the reference is " + std::to_string(text.size()) +
                               " characters, more than " + std::to_string(MAX_REFERENCE_LENGTH));
  }
  // A bare image id would otherwise parse as a repository name on docker.io.
  if (isSha256Identifier(text)) {
    invalidReference(text, "a 64-character hex string is an image id, not a repository name");
  }

  Reference reference;
  std::string_view rest = text;

  size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view digest = rest.substr(at + 1);
    std::string problem = digestProblem(digest);
    if (!problem.empty()) invalidReference(text, problem);
    reference.digest = std::string(digest);
    rest = rest.substr(0, at);
  }

  // A ':' after the last '/' starts the tag; one before it belongs to the domain's port.
  size_t colon = rest.rfind(':');
  size_t slash = rest.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!isValidTag(tag)) {
      invalidReference(text, "tag " + quoteInput(tag) +
                                 " is invalid: use up to 128 letters, digits, '_', '.' and '-', "
                                 "not starting with '.' or '-'");
    }
    reference.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }

  size_t firstSlash = rest.find('/');
  if (firstSlash != std::string_view::npos && looksLikeDomain(rest.substr(0, firstSlash))) {
    std::string_view domain = rest.substr(0, firstSlash);
    if (!isValidDomain(domain)) {
      invalidReference(text, "registry " + quoteInput(domain) +
                                 " is invalid: expected host[:port] with a DNS name or a "
                                 "bracketed IPv6 address");
    }
    reference.domain = std::string(domain);
    rest = rest.substr(firstSlash + 1);
  }

  std::string problem = pathProblem(rest);
  if (!problem.empty()) invalidReference(text, problem);
  reference.path = std::string(rest);

  if (!reference.domain.empty()) normalizeDockerHub(reference);
  checkNameLength(text, reference);
  return reference;
}

Reference parseDockerReference(std::string_view text) {
  Reference reference = parseReference(text);
  if (reference.isShortName()) reference = qualify(reference, DOCKER_DOMAIN);
  return withDefaultTag(std::move(reference));
}

bool isShortName(std::string_view text) {
  return parseReference(text).isShortName();
}

Reference qualify(const Reference& shortName, std::string_view domain) {
  Reference reference = shortName;
  reference.domain = std::string(domain);
  normalizeDockerHub(reference);
  checkNameLength(reference.string(), reference);
  return reference;
}

Reference withDefaultTag(Reference reference) {
  if (reference.tag.empty() && reference.digest.empty()) reference.tag = DEFAULT_TAG;
  return reference;
}

std::string quoteInput(std::string_view text) {
  std::string quoted = "\"";
  for (size_t i = 0; i < text.size() && i < MAX_QUOTED_LENGTH; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      quoted += escaped;
    } else {
      quoted += static_cast<char>(c);
    }
  }
  if (text.size() > MAX_QUOTED_LENGTH) quoted += "...";
  quoted += "\"";
  return quoted;
}

}  // namespace crio::imaged
