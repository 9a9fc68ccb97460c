# crio-imaged: resolves image names, talks to registries, verifies digests and signatures.
# Its only client is crio-cri.
@0x8c07dcab751dfc4a;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

using Daemon = import "daemon.capnp";

interface Imaged extends(Daemon.Daemon) {
}
