#include "crio-cri/rpc/grpc-status.h"

namespace crio::cri {

grpc::Status toGrpcStatus(const Error& error) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (error.category()) {
    case ErrorCategory::INVALID_ARGUMENT:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ErrorCategory::NOT_FOUND:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case ErrorCategory::ALREADY_EXISTS:
      code = grpc::StatusCode::ALREADY_EXISTS;
      break;
    case ErrorCategory::FAILED_PRECONDITION:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case ErrorCategory::PERMISSION_DENIED:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    case ErrorCategory::UNAVAILABLE:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case ErrorCategory::DEADLINE_EXCEEDED:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    case ErrorCategory::RESOURCE_EXHAUSTED:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case ErrorCategory::UNIMPLEMENTED:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
    case ErrorCategory::INTERNAL:
      code = grpc::StatusCode::INTERNAL;
      break;
  }
  return grpc::Status(code, error.what());
}

}  // namespace crio::cri
