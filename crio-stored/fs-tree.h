// Walking a directory tree by descriptor: removing it and measuring it. Neither follows a
// symbolic link or crosses into another filesystem (a mount point below is left alone), and
// neither uses a path longer than one name, so a tree of any depth and content is handled the
// same. One descriptor is open per level being walked.
#pragma once

#include <cstdint>
#include <string>

namespace crio::stored {

// Removes NAME in `dirFd` and, when it is a directory, everything in it. Absent is fine.
void removeTreeAt(int dirFd, const std::string& name);

struct TreeUsage {
  uint64_t bytes = 0;   // allocated (st_blocks * 512), each inode once
  uint64_t inodes = 0;  // distinct inodes, the top directory included
};

// Measures the directory open as `dirFd`.
TreeUsage measureTree(int dirFd);

}  // namespace crio::stored
