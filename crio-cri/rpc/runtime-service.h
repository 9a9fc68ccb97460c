// runtime.v1.RuntimeService on gRPC's callback API. Each method either hands the request to its
// handler (one file per RPC or small family of them under rpc/) or returns UNIMPLEMENTED with
// its name.
#pragma once

#include "cri/api.grpc.pb.h"
#include "crio-cri/daemon.h"

namespace crio::cri {

class RuntimeService final : public runtime::v1::RuntimeService::CallbackService {
 public:
  explicit RuntimeService(Daemon& daemon) : daemon_(daemon) {}

#define CRIO_DECLARE_UNARY(Method, Request, Response)                    \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* context, \
                                   const runtime::v1::Request* request,  \
                                   runtime::v1::Response* response) override;
#define CRIO_DECLARE_STREAM(Method, Request, Response)     \
  grpc::ServerWriteReactor<runtime::v1::Response>* Method( \
      grpc::CallbackServerContext* context, const runtime::v1::Request* request) override;
#include "crio-cri/rpc/runtime-methods.inc"
#undef CRIO_DECLARE_UNARY
#undef CRIO_DECLARE_STREAM

 private:
  Daemon& daemon_;
};

}  // namespace crio::cri
