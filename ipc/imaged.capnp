# crio-imaged: resolves image names, talks to registries, verifies digests and signatures.
# Its only client is crio-cri, which orchestrates a pull: resolve() once, then fetchBlob() for each
# layer crio-stored does not have yet, handing each blob's descriptor on to crio-stored.
#
# Schemas only ever grow: new fields and methods take new ordinals.
@0x8c07dcab751dfc4a;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

using Daemon = import "daemon.capnp";
using File = import "file.capnp";

# Credentials for one pull, from the CRI request. Never logged.
struct Credentials {
  username @0 :Text;
  password @1 :Text;
  auth @2 :Text;            # base64 "user:password"
  serverAddress @3 :Text;
  identityToken @4 :Text;
  registryToken @5 :Text;
}

struct LayerDescriptor {
  digest @0 :Text;          # of the blob as stored in the registry (compressed)
  size @1 :UInt64;          # bytes of the blob
  mediaType @2 :Text;       # tells the compression: tar, tar+gzip, tar+zstd
  diffId @3 :Text;          # of the uncompressed tar, from the image config's rootfs.diff_ids
}

struct ResolvedImage {
  name @0 :Text;            # fully qualified name as asked for: docker.io/library/busybox:latest
  repoDigest @1 :Text;      # repository@sha256:... of the manifest pulled
  manifestDigest @2 :Text;
  manifestMediaType @3 :Text;
  manifest @4 :Data;        # the image manifest (after platform selection), as served
  configDigest @5 :Text;    # the image id
  config @6 :Data;          # the image config, digest-verified
  layers @7 :List(LayerDescriptor);
}

# One resolved pull: the registry (or mirror) that answered and its credentials are kept here,
# so blobs come from the same place as the manifest.
interface Pull {
  image @0 () -> (image :ResolvedImage);
  # Downloads (or finds in the cache) the blob with the given digest, verifies it and returns a
  # read-only descriptor of the complete, verified file.
  fetchBlob @1 (digest :Text) -> (file :File.FileHandle);
}

interface Imaged extends(Daemon.Daemon) {
  # Resolves `reference` through registries.conf (aliases, search registries, prefixes, mirrors),
  # evaluates policy.json, and fetches and verifies the manifest and config.
  resolve @0 (reference :Text, credentials :Credentials) -> (pull :Pull);
  # The fully qualified names a short or qualified reference may stand for, in search order,
  # without network access (for finding local images by a short name).
  candidates @1 (reference :Text) -> (names :List(Text));
}
