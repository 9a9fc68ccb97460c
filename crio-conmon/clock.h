// Wall-clock time as the monitor reports it: nanoseconds since the Unix epoch (CLOCK_REALTIME).
#pragma once

#include <time.h>

#include <cstdint>

namespace crio::conmon {

inline int64_t realtimeNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace crio::conmon
