#include "common/systemd-notify.h"

#include <fcntl.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

namespace crio::systemd {

void notifyReady(std::string_view status) {
  std::string message = "READY=1\nSTATUS=" + std::string(status);
  sd_notify(0, message.c_str());
}

void notifyStopping() {
  sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
}

void notifyReloading() {
  sd_notify(0, "RELOADING=1\nSTATUS=Reloading configuration");
}

void notifyStatus(std::string_view status) {
  std::string message = "STATUS=" + std::string(status);
  sd_notify(0, message.c_str());
}

void notifyWatchdog() {
  sd_notify(0, "WATCHDOG=1");
}

std::optional<std::chrono::milliseconds> watchdogPingInterval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::milliseconds(usec / 2000);
}

int takeListenFd(std::string_view name) {
  char** names = nullptr;
  int count = sd_listen_fds_with_names(1, &names);
  if (count <= 0) return -1;
  int chosen = -1;
  for (int i = 0; i < count; ++i) {
    if (names != nullptr && names[i] != nullptr && name == names[i])
      chosen = SD_LISTEN_FDS_START + i;
  }
  if (chosen < 0 && count == 1) chosen = SD_LISTEN_FDS_START;
  if (names != nullptr) {
    for (int i = 0; i < count; ++i)
      std::free(names[i]);
    std::free(names);
  }
  if (chosen >= 0) fcntl(chosen, F_SETFD, FD_CLOEXEC);
  return chosen;
}

bool booted() {
  return sd_booted() > 0;
}

}  // namespace crio::systemd
