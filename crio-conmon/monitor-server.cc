#include "crio-conmon/monitor-server.h"

#include "crio-conmon/async-error.h"
#include "ipc/errors.h"

namespace crio::conmon {

namespace {

using Schema = ipc::schema::ContainerStatus;

Schema toSchema(Status status) {
  switch (status) {
    case Status::CREATING:
      return Schema::CREATING;
    case Status::CREATED:
      return Schema::CREATED;
    case Status::RUNNING:
      return Schema::RUNNING;
    case Status::STOPPED:
      return Schema::STOPPED;
  }
  return Schema::CREATING;
}

// ipc::serve() for the synchronous part of a method, normalizeException() for its promise.
template <typename Fn>
kj::Promise<void> answer(Fn&& fn) {
  return ipc::serve(kj::fwd<Fn>(fn)).catch_([](kj::Exception&& e) -> kj::Promise<void> {
    return normalizeException(kj::mv(e));
  });
}

std::vector<std::string> toStrings(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto text : list) {
    out.emplace_back(text.cStr(), text.size());
  }
  return out;
}

}  // namespace

void fillContainerState(const ContainerState& state, ipc::schema::ContainerState::Builder out) {
  out.setStatus(toSchema(state.status));
  out.setPid(state.pid);
  out.setCreatedAt(state.createdAt);
  out.setStartedAt(state.startedAt);
  out.setFinishedAt(state.finishedAt);
  out.setExitCode(state.exitCode);
  out.setOomKilled(state.oomKilled);
  out.setReason(state.reason);
  out.setMessage(state.message);
}

MonitorServer::MonitorServer(ipc::DaemonInfo info, Container& container)
    : DaemonServer(std::move(info)), container_(container) {}

kj::Promise<void> MonitorServer::state(StateContext context) {
  return answer([&]() -> kj::Promise<void> {
    fillContainerState(container_.state(), context.getResults().initState());
    return kj::READY_NOW;
  });
}

kj::Promise<void> MonitorServer::waitCreated(WaitCreatedContext context) {
  return answer([this, context]() mutable {
    return container_.waitCreated().then([context](ContainerState state) mutable {
      fillContainerState(state, context.getResults().initState());
    });
  });
}

kj::Promise<void> MonitorServer::start(StartContext context) {
  return answer([this, context]() mutable {
    return container_.start().then([context](ContainerState state) mutable {
      fillContainerState(state, context.getResults().initState());
    });
  });
}

kj::Promise<void> MonitorServer::kill(KillContext context) {
  return answer([&]() -> kj::Promise<void> {
    bool delivered = container_.kill(context.getParams().getSignal());
    context.getResults().setDelivered(delivered);
    return kj::READY_NOW;
  });
}

kj::Promise<void> MonitorServer::stop(StopContext context) {
  return answer([this, context]() mutable {
    auto params = context.getParams();
    return container_.stop(params.getTimeoutSeconds(), params.getSignal())
        .then([context](ContainerState state) mutable {
          fillContainerState(state, context.getResults().initState());
        });
  });
}

kj::Promise<void> MonitorServer::waitExit(WaitExitContext context) {
  return answer([this, context]() mutable {
    return container_.waitExit().then([context](ContainerState state) mutable {
      fillContainerState(state, context.getResults().initState());
    });
  });
}

kj::Promise<void> MonitorServer::execSync(ExecSyncContext context) {
  return answer([this, context]() mutable {
    auto params = context.getParams();
    ExecRequest request;
    request.argv = toStrings(params.getArgv());
    request.env = toStrings(params.getEnv());
    request.tty = params.getTty();
    request.timeoutSeconds = params.getTimeoutSeconds();
    if (request.timeoutSeconds < 0) {
      fail(ErrorCategory::INVALID_ARGUMENT, "exec: timeoutSeconds must not be negative");
    }
    return container_.execSync(std::move(request)).then([context](ExecOutcome outcome) mutable {
      auto result = context.getResults().initResult();
      result.setExitCode(outcome.exitCode);
      result.setStdout(
          kj::arrayPtr(reinterpret_cast<const capnp::byte*>(outcome.stdoutBytes.data()),
                       outcome.stdoutBytes.size()));
      result.setStderr(
          kj::arrayPtr(reinterpret_cast<const capnp::byte*>(outcome.stderrBytes.data()),
                       outcome.stderrBytes.size()));
      result.setStdoutTruncated(outcome.stdoutTruncated);
      result.setStderrTruncated(outcome.stderrTruncated);
    });
  });
}

kj::Promise<void> MonitorServer::reopenLog(ReopenLogContext context) {
  return answer([&]() -> kj::Promise<void> {
    container_.reopenLog();
    return kj::READY_NOW;
  });
}

kj::Promise<void> MonitorServer::delete_(DeleteContext context) {
  return answer([this]() { return container_.remove(); });
}

}  // namespace crio::conmon
