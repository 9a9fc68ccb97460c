# crio-conmon: the monitor of one container. It runs the OCI runtime, holds the container's stdio,
# writes its CRI log and records its exit. crio-cri connects to it and reconnects after a restart.
@0xd49941801fc1bdf7;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

using Daemon = import "daemon.capnp";

interface Monitor extends(Daemon.Daemon) {
}
