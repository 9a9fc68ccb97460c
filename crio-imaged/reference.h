// Image references ("names") as docker and containers/image parse them:
//
//   [DOMAIN/]PATH[:TAG][@DIGEST]
//
// DOMAIN  host[:port], where host is a DNS name (letters, digits and inner hyphens, separated by
//         dots) or an IPv6 literal in brackets ("[::1]"). The first '/'-separated component is
//         taken as the domain only when it contains '.' or ':', or is "localhost", or starts with
//         '['. Otherwise the name has no domain and is a short name ("busybox", "library/busybox").
// PATH    components separated by '/'. Each is lowercase letters and digits, joined by '.', '_',
//         "__" or a run of '-'. DOMAIN/PATH together is at most 255 characters.
// TAG     a letter, digit or '_', then up to 127 of letters, digits, '_', '.', '-'.
// DIGEST  "sha256:" and 64 lowercase hex digits. Other algorithms are rejected.
//
// Normalization for names with a domain: "index.docker.io" becomes "docker.io", and a one-component
// path on docker.io gets "library/" ("docker.io/busybox" is "docker.io/library/busybox"). A short
// name is put on a registry only by qualify(), which is what registries.conf resolution does.
//
// A reference may carry both a tag and a digest ("busybox:1.36@sha256:..."). The image is then
// pulled by the digest and keeps the tag in its name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crio::imaged {

// Bound on the text given to parseReference(), checked before any parsing: the longest valid
// reference is 255 (name) + 1 + 128 (tag) + 1 + 71 (digest) = 456 characters.
constexpr size_t MAX_REFERENCE_LENGTH = 512;
// DOMAIN/PATH, as docker's NameTotalLengthMax.
constexpr size_t MAX_NAME_LENGTH = 255;
constexpr size_t MAX_TAG_LENGTH = 128;

constexpr std::string_view DOCKER_DOMAIN = "docker.io";
constexpr std::string_view LEGACY_DOCKER_DOMAIN = "index.docker.io";
constexpr std::string_view DEFAULT_TAG = "latest";

struct Reference {
  std::string domain;  // "" for a short name
  std::string path;    // "library/busybox"
  std::string tag;     // "" when none was given
  std::string digest;  // "" or "sha256:<64 hex>"

  bool isShortName() const { return domain.empty(); }
  bool hasTag() const { return !tag.empty(); }
  bool hasDigest() const { return !digest.empty(); }

  // DOMAIN/PATH, or PATH for a short name: "docker.io/library/busybox".
  std::string name() const;
  // The whole reference: NAME[:TAG][@DIGEST], "docker.io/library/busybox:latest".
  std::string string() const;
  // What a registry is asked for: NAME@DIGEST when there is a digest, else NAME:TAG (NAME when
  // there is neither).
  std::string pullString() const;
  // The repo digest form NAME@DIGEST, or "" when the reference has no digest.
  std::string repoDigest() const;
  // The last part of the manifest URL: the digest when there is one, else the tag.
  std::string manifestReference() const;

  bool operator==(const Reference&) const = default;
};

// Parses and validates `text`. A name with a domain is normalized as described above, and a
// short name keeps an empty domain and its path as written. No default tag is added.
// Throws crio::Error INVALID_ARGUMENT naming the input and what is wrong with it.
Reference parseReference(std::string_view text);

// Parses `text` as docker does: a short name is on docker.io, and "latest" is added when there is
// neither a tag nor a digest.
Reference parseDockerReference(std::string_view text);

// True when `text` names no domain. Throws like parseReference() when `text` is invalid.
bool isShortName(std::string_view text);

// Puts the short name `shortName` on the registry `domain` (host[:port]), applying the docker.io
// rules. Throws INVALID_ARGUMENT when the result is not a valid reference (too long).
Reference qualify(const Reference& shortName, std::string_view domain);

// Returns `reference` with the tag "latest" when it has neither a tag nor a digest.
Reference withDefaultTag(Reference reference);

// True for host[:port] as a reference's domain may be written ("example.com", "localhost:5000",
// "[::1]:5000").
bool isValidDomain(std::string_view domain);

// True for a repository path of one or more components ("library/busybox").
bool isValidPath(std::string_view path);

bool isValidTag(std::string_view tag);

// Checks a digest and returns "" when it is valid, else the reason ("only sha256 digests are
// supported, not sha512").
std::string digestProblem(std::string_view digest);

// Returns `text` in double quotes for an error message, with control and non-ASCII bytes escaped as
// \xNN and cut after 300 bytes, because references come from outside and end up in logs.
std::string quoteInput(std::string_view text);

}  // namespace crio::imaged
