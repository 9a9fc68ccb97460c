// The main loop of a daemon that serves one Cap'n Proto interface (crio-imaged, crio-stored,
// crio-conmon): accept connections, ping the systemd watchdog, reload on SIGHUP, and stop
// cleanly on SIGTERM or SIGINT.
#pragma once

#include <kj/async-io.h>

#include <functional>
#include <string>

#include "ipc/server.h"

namespace crio::ipc {

// Must run before any thread starts: routes SIGTERM, SIGINT, SIGHUP to the event loop.
void captureDaemonSignals();

// Serves until SIGTERM or SIGINT (or until `stop` resolves), then returns after telling systemd
// it is stopping. `reload` runs on SIGHUP.
void serveUntilTerminated(kj::AsyncIoContext& io, Server& server, const std::string& readyStatus,
                          std::function<void()> reload, kj::Promise<void> stop = kj::NEVER_DONE);

}  // namespace crio::ipc
