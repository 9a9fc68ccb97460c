// Reads a configuration file that the suite does not own (registries.conf, policy.json,
// auth.json), with a size bound, so that a huge or special file cannot exhaust memory or block the
// daemon.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace crio::imaged {

// Returns the contents of the regular file at `path`, or nullopt when it does not exist.
// Throws crio::Error: RESOURCE_EXHAUSTED when the file is larger than `maxBytes`,
// INVALID_ARGUMENT when it is not a regular file (a FIFO, a device, a folder), and the category
// of errno for other failures (PERMISSION_DENIED for EACCES), each naming the path.
std::optional<std::string> readBoundedFile(const std::string& path, size_t maxBytes);

}  // namespace crio::imaged
