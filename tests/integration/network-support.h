// Code shared by the pod network tests and the pod network benchmark: a test-only CNI network
// on the host and the means to leave the host as it was.
//
// The network is a bridge named TEST_BRIDGE with host-local addresses from TEST_SUBNET, set up
// by the real plugins of TEST_PLUGIN_DIR. Running them changes the host in three ways, which
// HostNetworkGuard undoes: the bridge itself, iptables rules and chains (portmap leaves its
// top-level CNI-HOSTPORT-* chains behind after DEL), and net.ipv4.ip_forward (the bridge plugin
// turns it on for a gateway).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/process-spawn.h"

namespace crio::testing {

constexpr const char* TEST_PLUGIN_DIR = "/usr/lib/cni";
constexpr const char* TEST_BRIDGE = "crt-br0";
constexpr const char* TEST_NETWORK = "crt-net";
constexpr const char* TEST_SUBNET = "10.244.213.0/24";
constexpr const char* TEST_SUBNET_PREFIX = "10.244.213.";
constexpr const char* TEST_GATEWAY = "10.244.213.1";
// Held exclusively by every user of the test network, so that ctest -j runs them one by one.
constexpr const char* TEST_NETWORK_LOCK = "/tmp/crio-network-test.lock";

// "" when the plugins, nsenter, busybox and iptables the tests need are installed and the
// process is root; otherwise why not.
std::string missingNetworkTestTools();

// Runs a program (looked up in /usr/sbin, /usr/bin, /sbin, /bin when not absolute) with a
// minimal PATH.
ProcessResult runCommand(std::vector<std::string> argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20));

// Writes DIR/10-crt.conflist: bridge (gateway, no masquerade) with host-local state under
// `ipamDir`, then portmap, then `extraPlugins` (JSON objects, each starting with ", ").
void writeTestConflist(const std::string& dir, const std::string& ipamDir,
                       const std::string& portmapOptions = "",
                       const std::string& extraPlugins = "");

// Takes TEST_NETWORK_LOCK, records ip_forward and the iptables rules of the nat and filter
// tables (IPv4 and IPv6), and removes a TEST_BRIDGE left by an earlier run that was killed.
// restore() (or the destructor) deletes TEST_BRIDGE, removes every rule and chain that was not
// there before, writes ip_forward back and releases the lock.
class HostNetworkGuard {
 public:
  HostNetworkGuard();
  ~HostNetworkGuard();
  HostNetworkGuard(const HostNetworkGuard&) = delete;
  HostNetworkGuard& operator=(const HostNetworkGuard&) = delete;

  // Returns "" when the host is back as it was, else what still differs.
  std::string restore();

 private:
  struct Rules {
    std::string command;
    std::string table;
    std::vector<std::string> lines;
  };

  int lock_ = -1;
  bool restored_ = false;
  std::string ipForward_;
  std::vector<Rules> rules_;
};

// Listens on TCP `port` inside the network namespace at `netns`, from a short-lived thread that
// joins it; the socket stays in that namespace. Returns the listening socket, or -1.
int listenInNamespace(const std::string& netns, int port);

// Connects from the host to ip:port and returns what the server wrote, "" when nothing arrived
// within two seconds.
std::string fetchGreeting(const std::string& ip, int port);

// Replies to every connection on `listener` with `greeting` until destroyed.
class GreetingServer {
 public:
  GreetingServer(int listener, std::string greeting);
  ~GreetingServer();

 private:
  int listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Runs `fn` in a forked child that has dropped to crio-cri's capabilities and installed
// crio-cri's seccomp filter (the lists in crio-cri/main.cc), as CNI plugins run in production.
// Returns "" or the child's error.
std::string runAsCrioCri(const std::function<void()>& fn);

}  // namespace crio::testing
