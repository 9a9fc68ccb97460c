# A file handed from one daemon to another as an open file descriptor, not as bytes in RPC
# messages. The server side of a FileHandle overrides getFd(); the receiver gets the descriptor
# with Capability::Client::getFd() (the connection must allow fd passing, see ipc/server.h).
@0x8d2d73a07ba5f395;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

interface FileHandle {
  # Size in bytes of the file behind the descriptor.
  size @0 () -> (size :UInt64);
}
