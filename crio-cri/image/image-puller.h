// PullImage's orchestration. crio-cri never reads a layer: it asks crio-imaged to resolve the
// reference, asks crio-stored which layers it already has, has crio-imaged fetch the missing
// blobs (all at once; crio-imaged bounds its own transfers) and hands each blob's file descriptor
// on to crio-stored in layer order, then commits the image record.
#pragma once

#include <string>

#include "crio-cri/daemon.h"
#include "crio-cri/image/image-record.h"

namespace crio::cri {

// Credentials of one pull, from the CRI request. Never logged.
struct PullCredentials {
  std::string username;
  std::string password;
  std::string auth;
  std::string serverAddress;
  std::string identityToken;
  std::string registryToken;
};

// How often a pull is retried when a peer daemon restarts in the middle of it.
constexpr int PULL_ATTEMPTS = 3;

// Pulls `reference` and returns the stored image. Blocks; call from a worker thread.
ImageRecord pullImage(Daemon& daemon, const std::string& reference,
                      const PullCredentials& credentials);

// The chain id of each layer, from the diff ids in order (OCI image spec: the chain id of the
// first layer is its diff id; each next one is sha256 of "PARENT_CHAIN DIFF_ID").
std::vector<std::string> chainIds(const std::vector<std::string>& diffIds);

}  // namespace crio::cri
