# crio-conmon: the monitor of one container. It runs the OCI runtime, holds the container's stdio,
# writes its CRI log and records its exit. crio-cri connects to it and reconnects after a restart.
#
# Monitors outlive upgrades of crio-cri, so this schema only ever grows: a new field or method
# takes the next ordinal; nothing is renumbered or retyped. Errors arrive as exceptions whose
# description is "[category] message" (ipc/errors.h).
@0xd49941801fc1bdf7;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

using Daemon = import "daemon.capnp";

enum ContainerStatus {
  creating @0;  # `runtime create` has not finished yet
  created @1;   # created, not started: the init process waits for `runtime start`
  running @2;
  stopped @3;   # the init process exited, or create failed (reason "CreateFailed")
}

# Times are nanoseconds since the Unix epoch, 0 while the event has not happened.
struct ContainerState {
  status @0 :ContainerStatus;
  pid @1 :Int32;           # the init process in the monitor's pid namespace; 0 before created
  createdAt @2 :Int64;     # when `runtime create` succeeded
  startedAt @3 :Int64;     # when `runtime start` succeeded
  finishedAt @4 :Int64;    # when the monitor reaped the init process
  exitCode @5 :Int32;      # set when stopped: the exit status, 128+N after signal N, -1 if
                           # create failed
  oomKilled @6 :Bool;      # the kernel OOM killer killed a process of the container's cgroup
  reason @7 :Text;         # when stopped: "Completed", "Error", "OOMKilled" or "CreateFailed"
  message @8 :Text;        # detail for the reason, such as the runtime's error output
}

struct ExecResult {
  exitCode @0 :Int32;      # the command's exit status, 128+N after signal N
  stdout @1 :Data;         # at most 16 MiB each; the rest is discarded
  stderr @2 :Data;         # (empty with tty: the terminal merges both into stdout)
  stdoutTruncated @3 :Bool;
  stderrTruncated @4 :Bool;
}

interface Monitor extends(Daemon.Daemon) {
  # The container now. Answers in every status, also after the container exited.
  state @0 () -> (state :ContainerState);

  # Resolves once `runtime create` has finished. Fails with the runtime's error output when it
  # failed ([internal]) or timed out ([deadline_exceeded]).
  waitCreated @1 () -> (state :ContainerState);

  # Runs `runtime start`. Only from status created ([failed_precondition] otherwise).
  start @2 () -> (state :ContainerState);

  # Sends `signal` to the init process. delivered = false when it had already exited.
  kill @3 (signal :Int32) -> (delivered :Bool);

  # Sends `signal` (0 means SIGTERM), waits up to `timeoutSeconds` for the exit, then sends
  # SIGKILL; returns once the container has exited. Returns at once when it already had.
  stop @4 (timeoutSeconds :Int64, signal :Int32) -> (state :ContainerState);

  # Resolves when the container has exited (at once if it already had).
  waitExit @5 () -> (state :ContainerState);

  # Runs `argv` in the container with `runtime exec` and collects its output. Returns when the
  # command exits, even if processes it started keep its stdout or stderr open. `env` entries
  # (KEY=VALUE) are added to the container's environment. `timeoutSeconds` 0 means no limit;
  # past it the command is killed and the call fails with [deadline_exceeded].
  execSync @6 (argv :List(Text), timeoutSeconds :Int64, env :List(Text), tty :Bool)
      -> (result :ExecResult);

  # Closes and reopens the CRI log file at its path (after the kubelet renamed it).
  reopenLog @7 ();

  # Runs `runtime delete --force` and then ends the monitor. Only when the container is not
  # running ([failed_precondition] otherwise; a created container is killed). The exit record
  # stays for crio-cri to remove.
  delete @8 ();
}
