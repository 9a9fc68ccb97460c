// The host's mount table (/proc/self/mountinfo, proc(5)), read to check mount propagation.
//
// A line is: ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER.
// The optional fields carry propagation: "shared:N" for a mount in peer group N, "master:N" for
// a slave of group N; neither means private.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace crio::cri::oci {

// Bound on the mount table read at once; a node with many pods has many mounts.
constexpr size_t MAX_MOUNTINFO_BYTES = 64 << 20;

struct MountInfoEntry {
  std::string root;                   // the folder of the file system mounted; escapes decoded
  std::string mountPoint;             // octal escapes (\040) decoded
  std::vector<std::string> optional;  // "shared:1", "master:2"
  std::string fsType;                 // "cgroup", "cgroup2", "overlay"

  bool isShared() const;
  bool isSlave() const;
};

// Parses mountinfo text; malformed lines are skipped.
std::vector<MountInfoEntry> parseMountInfo(std::string_view text);

// Reads and parses the mount table at `path` (normally /proc/self/mountinfo).
std::vector<MountInfoEntry> readMountInfo(const std::string& path);

// The mount that contains `path` (absolute, links resolved): the entry with the longest mount
// point that is `path` or a parent of it, the last one in the table when mounts are stacked.
// nullptr when none matches.
const MountInfoEntry* findContainingMount(const std::vector<MountInfoEntry>& mounts,
                                          const std::string& path);

}  // namespace crio::cri::oci
