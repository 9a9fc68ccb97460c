# crio-stored: the layer and image store. Unpacks verified layers, keeps image metadata and the
# writable layer of each container. Its clients are crio-cri and, for mounts, crio-conmon.
#
# Schemas only ever grow: new fields and methods take new ordinals.
@0xd5b0bcfc4d728a48;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("crio::ipc::schema");

using Daemon = import "daemon.capnp";
using File = import "file.capnp";

struct LayerInfo {
  chainId @0 :Text;         # sha256 chain id (OCI image spec), the layer's key in the store
  diffId @1 :Text;
  parentChainId @2 :Text;   # "" for a base layer
  size @3 :UInt64;          # bytes unpacked
}

struct ImageRecord {
  id @0 :Text;              # the config digest, hex without "sha256:"
  names @1 :List(Text);     # repo tags: docker.io/library/busybox:latest
  repoDigests @2 :List(Text);
  topChainId @3 :Text;      # chain id of the top layer; "" for an image with no layers
  layerChainIds @4 :List(Text);
  config @5 :Data;
  manifest @6 :Data;
  manifestMediaType @7 :Text;
  size @8 :UInt64;          # bytes of every layer unpacked plus config and manifest
  createdAt @9 :Int64;      # nanoseconds since the Unix epoch
}

struct FsUsage {
  mountpoint @0 :Text;
  usedBytes @1 :UInt64;
  inodesUsed @2 :UInt64;
  timestamp @3 :Int64;
}

# The writable layer of a container, as overlayfs takes it:
#   lowerdir=LOWER0:LOWER1:...,upperdir=UPPER,workdir=WORK (with userxattr).
struct ContainerLayer {
  containerId @0 :Text;
  imageId @1 :Text;          # hex config digest of the image it sits on
  lowerDirs @2 :List(Text);  # the image's layer directories, topmost first
  upperDir @3 :Text;
  workDir @4 :Text;
}

interface Stored extends(Daemon.Daemon) {
  hasLayer @0 (chainId :Text) -> (present :Bool);

  # Unpacks the blob behind `file` (compressed as `mediaType` says) on top of `parentChainId`.
  # The uncompressed stream must hash to `diffId`, else nothing is kept. Two imports of the same
  # chain id wait for one unpack.
  importLayer @1 (file :File.FileHandle, mediaType :Text, diffId :Text, parentChainId :Text)
      -> (layer :LayerInfo);

  # Records an image whose layers are all present; names move from any image holding them.
  commitImage @2 (image :ImageRecord) -> (image :ImageRecord);

  listImages @3 () -> (images :List(ImageRecord));

  # Finds an image by id (full or unique prefix), by name, or by repo digest.
  findImage @4 (reference :Text) -> (found :Bool, image :ImageRecord);

  # Removes the image (with all its names) and every layer nothing else uses. An image a
  # container uses is kept. Absent: removed = false, no error.
  removeImage @5 (reference :Text) -> (removed :Bool);

  imageFsUsage @6 () -> (usage :FsUsage);

  # Creates the writable layer of `containerId` (letters, digits, '_', '-', '.', at most 128) on
  # the image `imageId` (an id, name or digest) and records the container as a holder of the
  # image, so that removeImage fails with [failed_precondition] while it exists. Calling it
  # again for the same image returns the same layer; for another image: [already_exists].
  createContainerLayer @7 (containerId :Text, imageId :Text) -> (layer :ContainerLayer);

  # Deletes the container's layer and its hold on the image. Absent: removed = false, no error.
  # The caller unmounts the overlay first.
  removeContainerLayer @8 (containerId :Text) -> (removed :Bool);

  # The layer of a container, to mount it again (after a reboot or a crio-cri restart).
  containerLayer @9 (containerId :Text) -> (found :Bool, layer :ContainerLayer);
}
