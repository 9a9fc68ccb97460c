#include "crio-cri/oci/container-path.h"

#include <vector>

#include "common/error.h"
#include "crio-cri/oci/quote.h"

namespace crio::cri::oci {

std::string cleanContainerPath(std::string_view path, std::string_view field) {
  auto reject = [&](std::string_view reason) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         std::string(field) + " " + quoteValue(path) + " " + std::string(reason));
  };

  if (path.empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT, std::string(field) + " is empty");
  }
  if (path.size() > MAX_CONTAINER_PATH_BYTES) {
    reject("is longer than " + std::to_string(MAX_CONTAINER_PATH_BYTES) + " bytes");
  }
  if (path.find('\0') != std::string_view::npos) reject("contains a NUL byte");
  if (path[0] != '/') reject("is not an absolute path");

  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") reject("contains a \"..\" component");
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }

  std::string clean;
  for (std::string_view part : parts) {
    clean += '/';
    clean += part;
  }
  return clean.empty() ? "/" : clean;
}

size_t pathDepth(std::string_view cleanPath) {
  if (cleanPath == "/") return 0;
  size_t depth = 0;
  for (char c : cleanPath) {
    if (c == '/') depth++;
  }
  return depth;
}

bool isPathWithin(std::string_view path, std::string_view parent) {
  if (parent == "/") return true;
  if (path.size() < parent.size() || path.substr(0, parent.size()) != parent) return false;
  return path.size() == parent.size() || path[parent.size()] == '/';
}

}  // namespace crio::cri::oci
