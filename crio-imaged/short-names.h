// Short names ("busybox", "library/busybox:1.36"): image names without a registry, resolved
// through registries.conf as containers-registries.conf(5) describes.
//
// A short name is looked up, without its tag or digest, in [aliases]. An alias gives the one
// fully qualified name to use, with the short name's tag or digest put back. Otherwise each of
// unqualified-search-registries gives a candidate, in order, and short-name-mode decides:
//   enforcing   A single search registry is used. More than one is an error that lists the
//               candidates, because a daemon has no terminal to ask on. containers/image would
//               prompt there.
//   permissive, disabled   Every candidate is tried in order.
// The machine-written alias cache (short-name-aliases.conf) is neither read nor written.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crio-imaged/reference.h"
#include "crio-imaged/registries.h"

namespace crio::imaged {

struct PullCandidate {
  // The name the image gets: fully qualified, with the tag "latest" when the request had neither
  // a tag nor a digest.
  Reference name;
  std::vector<PullSource> sources;  // where to pull `name` from, in order
};

struct PullPlan {
  // Tried in order until one succeeds. Candidates whose every source is blocked are left out.
  std::vector<PullCandidate> candidates;
  // Resolution rule that applied, for logs and errors: "qualified name", "alias in FILE",
  // "unqualified-search-registries in FILE".
  std::string description;
};

// Resolves the requested `text` (qualified or short) to what to pull. Throws crio::Error:
// INVALID_ARGUMENT for an invalid reference, a short name with no alias and no search registries,
// or an ambiguous short name in enforcing mode (the message lists the candidates);
// PERMISSION_DENIED when every candidate is blocked.
PullPlan resolvePull(const RegistriesConfig& config, std::string_view text);

// Lists the fully qualified names that `text` may stand for among images already stored, in
// order and without network access. A qualified name gives itself. A short name gives its alias
// if there is one, then localhost/NAME, then NAME on each search registry. Each name has the tag
// "latest" when `text` has neither a tag nor a digest. Throws INVALID_ARGUMENT for an invalid
// reference.
std::vector<Reference> candidates(const RegistriesConfig& config, std::string_view text);

}  // namespace crio::imaged
