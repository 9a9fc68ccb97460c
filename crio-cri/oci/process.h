// The process section of the spec apart from its user and capabilities: arguments, environment,
// working folder and resource limits.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "crio-cri/oci/image-config.h"

namespace crio::cri::oci {

// Bound on the arguments and environment together: Linux's ARG_MAX with the usual 8 MiB stack
// (a quarter of it). execve(2) would fail with E2BIG beyond it anyway.
constexpr size_t MAX_ARGS_AND_ENV_BYTES = 2 << 20;

// PATH when neither the image nor the request sets one: the value Docker, CRI-O and containerd
// use.
constexpr const char* DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Combines the request's command and args with the image's Entrypoint and Cmd, as Kubernetes
// documents it. With command set the result is command + args. With only args set it is
// Entrypoint + args, and with neither it is Entrypoint + Cmd. Throws INVALID_ARGUMENT "no command
// specified" when the result is empty, and INVALID_ARGUMENT when an argument contains a NUL byte.
std::vector<std::string> resolveArgs(const std::vector<std::string>& command,
                                     const std::vector<std::string>& args,
                                     const ImageConfig& image);

struct EnvRequest {
  std::vector<std::pair<std::string, std::string>> envs;  // the request's envs, in order
  std::string hostname;                                   // value of HOSTNAME
  bool tty = false;                                       // adds TERM=xterm when unset
};

// Merges the image's Env with the request. The image's variables come first and HOSTNAME
// replaces the image's value. The request's variables then replace both by key, and a new key is
// appended. PATH gets DEFAULT_PATH when unset, and with a terminal TERM gets "xterm" when unset.
// Image entries without "=" are skipped. Throws INVALID_ARGUMENT naming envs[i] for an empty
// key, a key with "=", or a NUL byte.
std::vector<std::string> buildEnv(const ImageConfig& image, const EnvRequest& request);

// The request's working_dir, else the image's WorkingDir (made absolute), else "/". Throws
// INVALID_ARGUMENT for a relative or ".." path in the request.
std::string resolveWorkingDir(const std::string& requested, const ImageConfig& image);

// Throws INVALID_ARGUMENT when args and env together exceed MAX_ARGS_AND_ENV_BYTES.
void checkArgsAndEnvSize(const std::vector<std::string>& args, const std::vector<std::string>& env);

// Translates [crio.runtime] default_ulimits entries ("nofile=1024:2048", "core=-1", "nproc=4096")
// into OCI rlimits ({"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048}). -1 means unlimited.
// Throws INVALID_ARGUMENT naming the entry for an unknown name, a malformed value, or soft
// above hard.
nlohmann::json buildRlimits(const std::vector<std::string>& ulimits);

}  // namespace crio::cri::oci
