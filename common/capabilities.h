// Dropping Linux capabilities and privileges at daemon start (libcap).
//
// Each daemon keeps only the capabilities of its role (docs/architecture.md has the table). The
// drop covers every set: bounding, permitted, effective, inheritable and ambient, so neither the
// daemon nor anything it executes can regain the rest.
#pragma once

#include <string>
#include <vector>

namespace crio {

// Capability names as in capabilities(7) without the CAP_ prefix: "NET_ADMIN".
using CapabilityList = std::vector<std::string>;

// Keeps exactly `keep` in the permitted and effective sets, empties the inheritable and ambient
// sets and removes every other capability from the bounding set. Throws on an unknown name or a
// failed system call.
void dropCapabilitiesExcept(const CapabilityList& keep);

// Sets PR_SET_NO_NEW_PRIVS: no exec of this process or its children gains privileges.
void setNoNewPrivileges();

// Switches to an unprivileged user (a name, or a number): supplementary groups, gid, then uid,
// each for real, effective and saved ids. Every capability is gone afterwards.
void switchToUser(const std::string& user);

// The effective set as names, "none" when empty: "CHOWN,FOWNER".
std::string effectiveCapabilities();

// Parses a name such as "NET_ADMIN" or "CAP_NET_ADMIN" (any case); -1 when unknown.
int capabilityFromName(const std::string& name);

}  // namespace crio
