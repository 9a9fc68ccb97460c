#include "ipc/serve.h"

#include <signal.h>

#include "common/log.h"
#include "common/systemd-notify.h"

namespace crio::ipc {

namespace {

kj::Promise<void> watchdogLoop(kj::Timer& timer, kj::Duration interval) {
  systemd::notifyWatchdog();
  return timer.afterDelay(interval).then(
      [&timer, interval]() { return watchdogLoop(timer, interval); });
}

kj::Promise<void> reloadLoop(kj::UnixEventPort& port, std::function<void()>& reload) {
  return port.onSignal(SIGHUP).then([&port, &reload](siginfo_t) {
    systemd::notifyReloading();
    try {
      reload();
    } catch (const std::exception& e) {
      log::error("reload failed; keeping the previous configuration", {{"error", e.what()}});
    }
    systemd::notifyReady("Reloaded");
    return reloadLoop(port, reload);
  });
}

}  // namespace

void captureDaemonSignals() {
  kj::UnixEventPort::captureSignal(SIGTERM);
  kj::UnixEventPort::captureSignal(SIGINT);
  kj::UnixEventPort::captureSignal(SIGHUP);
  signal(SIGPIPE, SIG_IGN);
}

void serveUntilTerminated(kj::AsyncIoContext& io, Server& server, const std::string& readyStatus,
                          std::function<void()> reload, kj::Promise<void> stop) {
  auto& port = io.unixEventPort;
  auto serving = server.run().eagerlyEvaluate([](kj::Exception&& e) {
    log::error("accept loop failed", {{"error", e.getDescription().cStr()}});
  });
  auto reloading = reloadLoop(port, reload).eagerlyEvaluate(nullptr);
  kj::Promise<void> watchdog = nullptr;
  if (auto interval = systemd::watchdogPingInterval()) {
    watchdog = watchdogLoop(io.provider->getTimer(), interval->count() * kj::MILLISECONDS)
                   .eagerlyEvaluate(nullptr);
  }

  systemd::notifyReady(readyStatus);
  auto term = port.onSignal(SIGTERM).then([](siginfo_t) { return std::string("SIGTERM"); });
  auto interrupt = port.onSignal(SIGINT).then([](siginfo_t) { return std::string("SIGINT"); });
  auto stopped = stop.then([]() { return std::string("stop request"); });
  std::string why =
      term.exclusiveJoin(kj::mv(interrupt)).exclusiveJoin(kj::mv(stopped)).wait(io.waitScope);
  log::info("shutting down", {{"reason", why}});
  systemd::notifyStopping();
}

}  // namespace crio::ipc
