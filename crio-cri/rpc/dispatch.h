// How a CRI handler runs: inline on gRPC's callback thread for calls that never block (Version,
// Status, List...), or on the daemon's worker pool for calls that do. Either way the reactor is
// finished exactly once with the handler's status, and every call is logged at debug level with
// its duration.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_callback.h>

#include <chrono>
#include <string_view>

#include "common/log.h"
#include "crio-cri/daemon.h"
#include "crio-cri/rpc/grpc-status.h"

namespace crio::cri {

enum class RunOn { CALLBACK_THREAD, WORKER_POOL };

template <typename Fn>
grpc::ServerUnaryReactor* dispatch(Daemon& daemon, grpc::CallbackServerContext* context,
                                   std::string_view method, RunOn where, Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto body = [reactor, method, fn = std::forward<Fn>(fn)]() mutable {
    auto start = std::chrono::steady_clock::now();
    grpc::Status status = statusOf(fn);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    if (!status.ok()) {
      log::debug("request failed", {{"method", method},
                                    {"code", static_cast<int>(status.error_code())},
                                    {"error", status.error_message()},
                                    {"micros", micros}});
    } else {
      log::trace("request done", {{"method", method}, {"micros", micros}});
    }
    reactor->Finish(status);
  };
  if (where == RunOn::CALLBACK_THREAD) {
    body();
  } else {
    daemon.workers().submit(std::move(body));
  }
  return reactor;
}

inline grpc::ServerUnaryReactor* unimplemented(grpc::CallbackServerContext* context,
                                               std::string_view method) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                               std::string(method) + " is not implemented by this runtime"));
  return reactor;
}

// For server-streaming methods this runtime does not serve yet.
template <typename Response>
grpc::ServerWriteReactor<Response>* unimplementedStream(std::string_view method) {
  class Reactor : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Reactor(std::string_view m) {
      this->Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                std::string(m) + " is not implemented by this runtime"));
    }
    void OnDone() override { delete this; }
  };
  return new Reactor(method);
}

}  // namespace crio::cri
