// The container id on every log line of the monitor. A monitor serves one container for its
// whole life, so the id is set once at start and read by every module that logs.
#pragma once

#include <string>

#include "common/log.h"

namespace crio::conmon {

void setLoggedContainerId(std::string id);

// {"container", ID}, the first field of each of the monitor's log lines.
log::Field containerField();

}  // namespace crio::conmon
