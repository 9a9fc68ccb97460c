// The parts of an image's configuration (OCI image-spec config, or Docker's) that shape the
// container's process and mounts.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crio::cri::oci {

struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value"
  std::string workingDir;
  std::string user;
  std::string stopSignal;
  std::vector<std::string> volumes;  // keys of Volumes, sorted
};

// Reads the image configuration document (the object with "config", as stored with the image)
// or that "config" object alone. Absent or null fields are empty. Throws INVALID_ARGUMENT naming
// the field when a field has the wrong type.
ImageConfig parseImageConfig(const nlohmann::json& document);

}  // namespace crio::cri::oci
