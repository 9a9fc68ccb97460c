// The one place where crio::Error becomes a gRPC status.
#pragma once

#include <grpcpp/support/status.h>

#include "common/error.h"

namespace crio::cri {

grpc::Status toGrpcStatus(const Error& error);

// Runs `fn`, returning OK, or the status of whatever it threw (anything that is not a
// crio::Error is INTERNAL).
template <typename Fn>
grpc::Status statusOf(Fn&& fn) {
  try {
    fn();
    return grpc::Status::OK;
  } catch (const Error& e) {
    return toGrpcStatus(e);
  } catch (const std::exception& e) {
    return grpc::Status(grpc::StatusCode::INTERNAL, e.what());
  }
}

}  // namespace crio::cri
