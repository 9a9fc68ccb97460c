// Choosing the container's seccomp filter and reading seccomp profiles from files.
//
// The choice, as CRI-O and containerd make it:
//   - a privileged container runs without a filter, whatever profile the request names;
//   - security_context.seccomp when set, else the deprecated seccomp_profile_path string
//     ("runtime/default" or "docker/default", "unconfined", "localhost/PATH") of older kubelets;
//   - neither set means no filter (kubelet sends RuntimeDefault itself when the node's
//     SeccompDefault asks for it);
//   - RuntimeDefault is the file named by [crio.runtime] seccomp_profile when set and present
//     (CRI-O falls back to its built-in profile when that file is missing, and so does this),
//     else the built-in profile of seccomp-profile.h;
//   - Localhost reads the JSON file at localhost_ref, an absolute path on the node.
//
// A profile file may be in the OCI linux.seccomp form or in Docker's form (as moby and
// containers/common write it: "names" or "name", "archMap", and per-rule "includes" and
// "excludes" conditions on capabilities, architectures and kernel version). Both become the OCI
// form, with the conditions evaluated for this container.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "crio-cri/oci/seccomp-profile.h"

namespace crio::cri::oci {

// Bounds on a profile file: its size and its number of rules and of syscall names.
constexpr size_t MAX_SECCOMP_PROFILE_BYTES = 1 << 20;
constexpr size_t MAX_SECCOMP_RULES = 4096;
constexpr size_t MAX_SECCOMP_NAMES = 16384;

enum class SeccompKind { UNSET, RUNTIME_DEFAULT, UNCONFINED, LOCALHOST };

struct SeccompSelection {
  SeccompKind kind = SeccompKind::UNSET;
  std::string localhostPath;  // for LOCALHOST
};

// Parses the deprecated seccomp_profile_path string; "" is UNSET. Throws INVALID_ARGUMENT for
// any other form.
SeccompSelection parseSeccompProfilePath(const std::string& value);

// The linux.seccomp object for the container, or nullopt to run without a filter.
// `configProfilePath` is [crio.runtime] seccomp_profile ("" for the built-in profile).
std::optional<nlohmann::json> chooseSeccomp(const SeccompSelection& selection, bool privileged,
                                            const SeccompContext& context,
                                            const std::string& configProfilePath);

// Converts a profile document in either form into an OCI linux.seccomp object for `context`.
// `source` names the document in error messages. Throws INVALID_ARGUMENT naming the source and
// the field for anything malformed or unsupported.
nlohmann::json convertSeccompProfile(const nlohmann::json& profile, const SeccompContext& context,
                                     const std::string& source);

// Reads, parses and converts the profile file at `path` (absolute, a regular file of at most
// MAX_SECCOMP_PROFILE_BYTES). A missing file is NOT_FOUND.
nlohmann::json loadSeccompProfileFile(const std::string& path, const SeccompContext& context);

}  // namespace crio::cri::oci
