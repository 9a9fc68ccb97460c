// The user and groups the container's process runs as.
//
// Sources, in order of precedence (as CRI-O and containerd resolve them):
//   1. run_as_user (a uid) or run_as_username (a name) of the container's security context;
//   2. otherwise the image's User: "", "uid", "name", "uid:gid", "name:group", "uid:group",
//      "name:gid";
//   3. run_as_group, when set, replaces the group found above.
// Names are looked up in the image's /etc/passwd and /etc/group, read through RootfsFiles so that
// links in the image cannot point the lookup at host files. A name that is not found is an error;
// a numeric uid that is not in /etc/passwd runs with gid 0.
//
// Additional gids: the primary gid first (as containerd and Docker list it, so `id -G` shows
// it), then, with SupplementalGroupsPolicy Merge, every group of /etc/group that lists the user's
// name as a member, then the request's supplemental_groups. Strict leaves out /etc/group.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crio-cri/oci/rootfs-files.h"

namespace crio::cri::oci {

// Bound on /etc/passwd and /etc/group of an image.
constexpr size_t MAX_ACCOUNT_FILE_BYTES = 4 << 20;
// Bound on the additional gids of a process: NGROUPS_MAX of Linux.
constexpr size_t MAX_ADDITIONAL_GIDS = 65536;

struct PasswdEntry {
  std::string name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  uint32_t gid = 0;
  std::vector<std::string> members;
};

// Parses /etc/passwd and /etc/group text (passwd(5), group(5)). Comments, NIS lines ("+", "-")
// and lines with a missing field or a non-numeric id are skipped, as libc skips them.
std::vector<PasswdEntry> parsePasswd(std::string_view text);
std::vector<GroupEntry> parseGroup(std::string_view text);

struct UserRequest {
  std::optional<int64_t> runAsUser;   // security_context.run_as_user
  std::optional<int64_t> runAsGroup;  // security_context.run_as_group
  std::string runAsUsername;          // security_context.run_as_username
  std::string imageUser;              // the image config's User
  std::vector<int64_t> supplementalGroups;
  bool strictSupplementalGroups = false;  // SupplementalGroupsPolicy Strict
};

struct ProcessUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additionalGids;
};

// Resolves the request against the image's account files. Throws INVALID_ARGUMENT naming the
// field and value for a negative or out-of-range id, and for a user or group name that the
// image's files do not contain.
ProcessUser resolveProcessUser(const UserRequest& request, const RootfsFiles& rootfs);

}  // namespace crio::cri::oci
