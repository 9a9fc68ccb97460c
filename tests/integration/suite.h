// Test harness: the real daemons of the suite started as separate processes under a throwaway
// --root, and a real gRPC client on their CRI socket.
#pragma once

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cri/api.grpc.pb.h"

namespace crio::testing {

// The build tree's daemons.
std::string daemonBinary(const std::string& name);

// A child process with its stderr captured to a file.
class Process {
 public:
  Process(std::string name, std::vector<std::string> argv, std::string logFile);
  ~Process();  // SIGKILL if still running

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` and waits up to `timeout` for the exit; returns the wait status or -1.
  int stop(int signal = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void kill9();
  const std::string& logFile() const { return logFile_; }
  std::string log() const;

 private:
  std::string name_;
  std::string logFile_;
  pid_t pid_ = -1;
  int status_ = -1;
};

class Suite {
 public:
  // Creates a temporary root; `configText` (if any) becomes ROOT/etc/crio/crio.conf. The root gets
  // a policy.json that accepts every image, ROOT/etc/containers/policy.json.
  explicit Suite(const std::string& configText = "");
  ~Suite();  // stops every daemon and removes the root

  const std::string& root() const { return root_; }
  std::string criSocket() const { return root_ + "/run/crio/crio.sock"; }

  void startImaged();
  void startStored();
  void startCri();
  void startAll();
  // Waits until `path` accepts connections.
  static bool waitForSocket(const std::string& path, std::chrono::milliseconds timeout);

  Process* daemon(const std::string& name);
  void forget(const std::string& name);

  runtime::v1::RuntimeService::Stub& runtime();
  runtime::v1::ImageService::Stub& images();

  // Status conditions by type ("RuntimeReady" -> condition).
  std::map<std::string, runtime::v1::RuntimeCondition> conditions(bool verbose = false,
                                                                  std::string* info = nullptr);
  // Polls Status until RuntimeReady equals `ready` or the timeout passes.
  bool waitRuntimeReady(bool ready, std::chrono::milliseconds timeout,
                        runtime::v1::RuntimeCondition* last = nullptr);

  std::vector<std::string> commonArgs() const;

 private:
  void start(const std::string& name, std::vector<std::string> extra);
  void removeLeftoverPods();
  void reapLeftovers();

  std::string root_;
  std::map<std::string, std::unique_ptr<Process>> daemons_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<runtime::v1::ImageService::Stub> images_;
};

// Deadline for one test RPC.
std::unique_ptr<grpc::ClientContext> rpcContext(
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace crio::testing
