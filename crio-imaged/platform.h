// The platform an image must be built for to run here, in the names of the OCI image index
// (GOOS and GOARCH values, with the ARM variant). Also how an entry of a manifest list or image
// index is matched against it.
#pragma once

#include <string>
#include <vector>

namespace crio::imaged {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // GOARCH: "amd64", "arm64", "arm", "386", "ppc64le", ...
  std::string variant;       // "v8" for arm64, "v7" for 32-bit ARM, "" where none applies

  // "linux/arm64/v8", or "linux/amd64" without a variant.
  std::string text() const;
};

// Maps a kernel machine name (uname -m) to its GOARCH name and default variant: x86_64 is
// amd64, aarch64 is arm64/v8, armv7l is arm/v7. An unknown machine name is returned as it is.
Platform platformForMachine(const std::string& machine);

// linux and this kernel's architecture.
Platform hostPlatform();

// Scores how well `candidate` suits `wanted`: 0 when it cannot run, higher is better. The os and
// the architecture must be equal. An exact variant scores best, then an entry without a variant,
// then (for arm) an older variant that the host can also run.
int platformScore(const Platform& wanted, const Platform& candidate);

}  // namespace crio::imaged
