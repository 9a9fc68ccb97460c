// Helpers for crio-imaged's integration tests: temporary folders, child processes, and the
// servers the tests run on 127.0.0.1 (docker-registry, the fake registry and token service
// scripts next to this file, crio-imaged itself) plus a Cap'n Proto client of crio-imaged.
#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/io.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "ipc/daemon-info.h"
#include "ipc/imaged.capnp.h"

namespace crio::imaged::test {

namespace schema = crio::ipc::schema;

// A folder under /tmp, removed with everything in it at destruction. Mode 0755, so that
// crio-imaged's unprivileged user can reach files the test puts there.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string readFile(const std::string& path);
// Creates parent folders (0755) as needed.
void writeFile(const std::string& path, const std::string& content, mode_t mode = 0644);
void makeDirs(const std::string& path);

struct CommandResult {
  int status = -1;     // exit status, or -1 when killed or timed out
  std::string output;  // stdout and stderr together
};

// Runs a program to completion (at most `timeout`), feeding `input` to its stdin.
CommandResult runCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         std::chrono::seconds timeout = std::chrono::seconds(60));
// Like runCommand, but throws with the output when the program fails.
std::string checkCommand(const std::vector<std::string>& argv, const std::string& input = "");

// A child process, stopped (SIGTERM, then SIGKILL after 5 s) at destruction. Its output goes to
// `logFile`.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& logFile);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void stop();

 private:
  pid_t pid_ = -1;
};

int freePort();
bool waitForPort(int port, std::chrono::milliseconds timeout);
// Waits for `path` to exist and returns its content.
std::string waitForFile(const std::string& path, std::chrono::milliseconds timeout);

std::string pythonInterpreter();
std::string scriptPath(const std::string& name);
std::string buildDir();

// Debian's docker-registry on 127.0.0.1 with a configuration written by the test.
struct RegistryConfig {
  std::string storage;  // filesystem root directory
  std::string tlsCert;  // with tlsKey: serve https
  std::string tlsKey;
  std::string clientCa;    // demand client certificates signed by this CA
  std::string htpasswd;    // Basic authentication against this file
  std::string tokenRealm;  // Bearer tokens from this realm, signed by the key of tokenCert
  std::string tokenCert;
};

constexpr const char* TOKEN_SERVICE = "test-registry";
constexpr const char* TOKEN_ISSUER = "test-issuer";

class DockerRegistry {
 public:
  DockerRegistry(const std::string& dir, const RegistryConfig& config);

  // "127.0.0.1:PORT", the registry part of image references.
  const std::string& host() const { return host_; }
  void stop() { process_->stop(); }

 private:
  std::string host_;
  std::unique_ptr<Process> process_;
};

// imaged-fake-registry.py serving what `spec` describes (see that script).
class FakeRegistry {
 public:
  FakeRegistry(const std::string& dir, const nlohmann::json& spec);
  const std::string& host() const { return host_; }
  // The requests served so far, one JSON object each.
  std::vector<nlohmann::json> requests() const;

 private:
  std::string dir_;
  std::string host_;
  std::unique_ptr<Process> process_;
};

// imaged-token-server.py with a fresh signing key. It accepts alice:secret and the refresh token
// "refresh-alice".
class TokenServer {
 public:
  explicit TokenServer(const std::string& dir);
  std::string realm() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  const std::string& certificate() const { return cert_; }
  std::vector<nlohmann::json> requests() const;

 private:
  std::string dir_;
  std::string cert_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// crio-imaged started from the build tree as root (so that it drops to nobody and installs its
// seccomp filter), with --root in `dir`.
struct ImagedConfig {
  std::vector<std::string> insecureRegistries;
  std::string progressTimeout = "30s";
};

class Imaged {
 public:
  Imaged(const std::string& dir, const ImagedConfig& config);

  const std::string& socket() const { return socket_; }
  std::string certsDir() const { return root_ + "/etc/containers/certs.d"; }
  std::string cacheDir() const { return root_ + "/var/cache/crio/imaged"; }
  pid_t pid() const { return process_->pid(); }
  std::string log() const { return readFile(logFile_); }

 private:
  std::string root_;
  std::string socket_;
  std::string logFile_;
  std::unique_ptr<Process> process_;
};

struct Credentials {
  std::string username;
  std::string password;
  std::string auth;
  std::string identityToken;
  std::string registryToken;
};

struct LayerView {
  std::string digest;
  uint64_t size = 0;
  std::string mediaType;
  std::string diffId;
};

// ResolvedImage copied out of its message.
struct ImageView {
  std::string name;
  std::string repoDigest;
  std::string manifestDigest;
  std::string manifestMediaType;
  std::string manifest;
  std::string configDigest;
  std::string config;
  std::vector<LayerView> layers;
};

// A Cap'n Proto client of crio-imaged with its own event loop. Failed calls throw crio::Error
// with the category the daemon sent.
class ImagedClient {
 public:
  explicit ImagedClient(const std::string& socket);
  ~ImagedClient();

  schema::Pull::Client resolve(const std::string& reference, const Credentials& credentials = {});
  ImageView image(schema::Pull::Client& pull);
  // The received descriptor (duplicated, owned by the caller).
  kj::AutoCloseFd fetch(schema::Pull::Client& pull, const std::string& digest);
  // Fetches every digest at once and waits for all.
  std::vector<kj::AutoCloseFd> fetchAll(schema::Pull::Client& pull,
                                        const std::vector<std::string>& digests);
  // Like fetchAll over several pulls: element i is fetched from pulls[i].
  std::vector<kj::AutoCloseFd> fetchEach(std::vector<schema::Pull::Client>& pulls,
                                         const std::vector<std::string>& digests);
  std::vector<std::string> candidates(const std::string& reference);
  ipc::DaemonInfo info();

 private:
  kj::Promise<kj::AutoCloseFd> fetchPromise(schema::Pull::Client& pull, const std::string& digest);
  template <typename T>
  T wait(kj::Promise<T>&& promise);

  kj::Own<kj::AsyncIoContext> io_;
  kj::Own<kj::AsyncCapabilityStream> stream_;
  kj::Own<capnp::TwoPartyClient> client_;
  kj::Own<schema::Imaged::Client> imaged_;
};

// "sha256:<hex>" of a file's content (through its descriptor).
std::string sha256OfFd(int fd);
uint64_t sizeOfFd(int fd);

}  // namespace crio::imaged::test

namespace crio::imaged::test {

// The crio::Error `fn` throws, or INTERNAL "no error" (and a test failure) when it throws none.
template <typename Fn>
Error errorFrom(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  return Error(ErrorCategory::INTERNAL, "no error");
}

}  // namespace crio::imaged::test
