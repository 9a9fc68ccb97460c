// Paths inside a container, as the CRI request and the image name them.
//
// The OCI runtime resolves these inside the container's root filesystem, so a path with a ".."
// component could name something outside the folder it appears to name. Every path from a
// request or an image passes through cleanContainerPath() before it reaches the spec.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crio::cri::oci {

// Bound on one path from a request or an image: PATH_MAX of Linux.
constexpr size_t MAX_CONTAINER_PATH_BYTES = 4096;

// Returns `path` in clean form ("/a/b": no "." components, no repeated or trailing "/").
// Throws INVALID_ARGUMENT naming `field` and the value when the path is empty, is not absolute,
// contains a ".." component or a NUL byte, or is longer than MAX_CONTAINER_PATH_BYTES.
std::string cleanContainerPath(std::string_view path, std::string_view field);

// Number of components of a clean absolute path: "/" is 0, "/a/b" is 2.
size_t pathDepth(std::string_view cleanPath);

// True when `path` is `parent` or lies below it; both clean and absolute.
bool isPathWithin(std::string_view path, std::string_view parent);

}  // namespace crio::cri::oci
