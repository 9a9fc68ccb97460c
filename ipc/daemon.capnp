# What every daemon of the suite answers, whatever its job: who it is and how it runs.
# The other schemas extend Daemon, so a client can ask any peer for its info the same way.
#
# Schemas only ever grow: a new field or method takes the next ordinal, and nothing is renumbered
# or retyped, because monitors outlive daemon upgrades.
@0x97b38f391da89d98;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

struct DaemonInfo {
  name @0 :Text;           # "crio-imaged", "crio-stored", "crio-conmon"
  version @1 :Text;        # the suite's version
  pid @2 :UInt32;
  startedAt @3 :Int64;     # nanoseconds since the Unix epoch
  capabilities @4 :Text;   # effective capability set, as names
  seccomp @5 :Text;        # "filter" or "disabled"
}

interface Daemon {
  info @0 () -> (info :DaemonInfo);
}
