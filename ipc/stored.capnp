# crio-stored: the layer and image store. Unpacks verified layers, keeps image metadata and the
# writable layer of each container. Its clients are crio-cri and, for mounts, crio-conmon.
@0xd5b0bcfc4d728a48;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

using Daemon = import "daemon.capnp";

interface Stored extends(Daemon.Daemon) {
}
