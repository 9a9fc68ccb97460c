// The suite's side of the systemd service protocol: readiness and status notifications, the
// watchdog, and sockets passed by socket activation. Every call is a no-op when the process was
// not started by systemd (no NOTIFY_SOCKET, no LISTEN_FDS), so the same binary runs anywhere.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace crio::systemd {

void notifyReady(std::string_view status);
void notifyStopping();
void notifyReloading();
void notifyStatus(std::string_view status);
void notifyWatchdog();

// Half the interval systemd expects watchdog pings at, or nullopt when the watchdog is off.
std::optional<std::chrono::milliseconds> watchdogPingInterval();

// A listening socket passed by socket activation: the one whose FileDescriptorName= is `name`,
// else the only one passed. -1 when none. The fd is marked close-on-exec.
int takeListenFd(std::string_view name);

// True when systemd is PID 1 of this machine.
bool booted();

}  // namespace crio::systemd
