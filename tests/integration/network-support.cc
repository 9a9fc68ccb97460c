#include "tests/integration/network-support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/capabilities.h"
#include "common/seccomp-filter.h"

namespace crio::testing {

namespace {

constexpr const char* PATH_ENV =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void shell(const std::string& script) {
  runCommand({"/bin/sh", "-c", script});
}

// The `iptables -S` lines of one table; unlike iptables-save, they carry no counters.
std::vector<std::string> ruleLines(const std::string& command, const std::string& table) {
  std::vector<std::string> lines;
  std::istringstream in(runCommand({command, "-w", "-t", table, "-S"}).stdoutData);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// Removes the rules and chains of `table` that are not in `before`: rules first (the shell
// undoes the quoting of comments), then the chains.
void removeNewRules(const std::string& command, const std::string& table,
                    const std::vector<std::string>& before) {
  std::set<std::string> old(before.begin(), before.end());
  std::vector<std::string> newChains;
  for (const auto& line : ruleLines(command, table)) {
    if (old.count(line)) continue;
    if (line.rfind("-A ", 0) == 0) {
      shell(command + " -w -t " + table + " -D " + line.substr(3));
    } else if (line.rfind("-N ", 0) == 0) {
      newChains.push_back(line.substr(3));
    }
  }
  for (const auto& chain : newChains) {
    shell(command + " -w -t " + table + " -F " + chain);
    shell(command + " -w -t " + table + " -X " + chain);
  }
}

}  // namespace

std::string missingNetworkTestTools() {
  if (geteuid() != 0) return "needs root for namespaces, bridges and iptables";
  for (const char* plugin : {"bridge", "host-local", "portmap", "loopback"}) {
    if (access((std::string(TEST_PLUGIN_DIR) + "/" + plugin).c_str(), X_OK) != 0) {
      return std::string("CNI plugin ") + plugin + " is not installed in " + TEST_PLUGIN_DIR +
             " (Debian package containernetworking-plugins)";
    }
  }
  for (const char* tool : {"/usr/bin/nsenter", "/bin/busybox", "/usr/sbin/iptables",
                           "/usr/sbin/ip6tables", "/usr/sbin/ip"}) {
    if (access(tool, X_OK) != 0) return std::string("needs ") + tool;
  }
  return "";
}

ProcessResult runCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  ProcessRequest request;
  request.path = argv[0];
  if (request.path[0] != '/') {
    for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
      if (access((dir + request.path).c_str(), X_OK) == 0) {
        request.path = dir + request.path;
        break;
      }
    }
  }
  request.argv = std::move(argv);
  request.env = {PATH_ENV};
  request.timeout = timeout;
  return runProcess(request);
}

void writeTestConflist(const std::string& dir, const std::string& ipamDir,
                       const std::string& portmapOptions, const std::string& extraPlugins) {
  std::ofstream out(dir + "/10-crt.conflist");
  out << R"({"cniVersion": "1.0.0", "name": ")" << TEST_NETWORK << R"(", "plugins": [)"
      << R"({"type": "bridge", "bridge": ")" << TEST_BRIDGE
      << R"(", "isGateway": true, "ipMasq": false, "hairpinMode": true,)"
      << R"( "ipam": {"type": "host-local", "dataDir": ")" << ipamDir
      << R"(", "ranges": [[{"subnet": ")" << TEST_SUBNET << R"(", "gateway": ")" << TEST_GATEWAY
      << R"("}]]}}, {"type": "portmap", "capabilities": {"portMappings": true})" << portmapOptions
      << "}" << extraPlugins << "]}";
}

HostNetworkGuard::HostNetworkGuard() {
  lock_ = open(TEST_NETWORK_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_ >= 0) flock(lock_, LOCK_EX);
  ipForward_ = readFile("/proc/sys/net/ipv4/ip_forward");
  for (const char* command : {"iptables", "ip6tables"}) {
    for (const char* table : {"nat", "filter"}) {
      rules_.push_back({command, table, ruleLines(command, table)});
    }
  }
  runCommand({"ip", "link", "delete", TEST_BRIDGE});
}

HostNetworkGuard::~HostNetworkGuard() {
  restore();
}

std::string HostNetworkGuard::restore() {
  if (restored_) return "";
  restored_ = true;
  std::string differences;
  runCommand({"ip", "link", "delete", TEST_BRIDGE});
  for (const auto& saved : rules_) {
    removeNewRules(saved.command, saved.table, saved.lines);
    if (ruleLines(saved.command, saved.table) != saved.lines) {
      differences += saved.command + " -t " + saved.table + " differs after cleanup. ";
    }
  }
  std::ofstream("/proc/sys/net/ipv4/ip_forward") << ipForward_;
  if (readFile("/proc/sys/net/ipv4/ip_forward") != ipForward_) {
    differences += "net.ipv4.ip_forward was not restored. ";
  }
  if (lock_ >= 0) {
    flock(lock_, LOCK_UN);
    close(lock_);
  }
  return differences;
}

int listenInNamespace(const std::string& netns, int port) {
  int listener = -1;
  std::thread thread([&]() {
    int ns = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return;
    int joined = setns(ns, CLONE_NEWNET);
    close(ns);
    if (joined != 0) return;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(fd, 16) != 0) {
      close(fd);
      return;
    }
    listener = fd;
  });
  thread.join();
  return listener;
}

std::string fetchGreeting(const std::string& ip, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  std::string reply;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buffer[256];
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return reply;
}

GreetingServer::GreetingServer(int listener, std::string greeting)
    : listener_(listener), thread_([this, greeting]() {
        while (!stop_) {
          pollfd pfd = {listener_, POLLIN, 0};
          if (poll(&pfd, 1, 50) <= 0) continue;
          int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
          if (client < 0) continue;
          ssize_t ignored = write(client, greeting.data(), greeting.size());
          (void)ignored;
          close(client);
        }
      }) {}

GreetingServer::~GreetingServer() {
  stop_ = true;
  thread_.join();
  close(listener_);
}

std::string runAsCrioCri(const std::function<void()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";

  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    std::string error;
    try {
      dropCapabilitiesExcept({"NET_ADMIN",
                              "NET_RAW",
                              "SYS_ADMIN",
                              "SYS_PTRACE",
                              "SYS_CHROOT",
                              "KILL",
                              "CHOWN",
                              "FOWNER",
                              "DAC_OVERRIDE",
                              "DAC_READ_SEARCH",
                              "SETUID",
                              "SETGID",
                              "SETPCAP",
                              "MKNOD",
                              "FSETID",
                              "SYS_RESOURCE",
                              "NET_BIND_SERVICE",
                              "AUDIT_WRITE",
                              "SETFCAP",
                              "SYS_NICE"});
      installSeccompFilter(
          {"crio-cri",
           {SyscallGroup::NETWORK, SyscallGroup::SPAWN, SyscallGroup::MOUNT,
            SyscallGroup::NAMESPACES, SyscallGroup::FILE_OWNERS, SyscallGroup::PROCESS_IDS}});
      fn();
    } catch (const std::exception& e) {
      error = e.what();
    }
    ssize_t ignored = write(fds[1], error.data(), error.size());
    (void)ignored;
    _exit(error.empty() ? 0 : 1);
  }

  close(fds[1]);
  std::string error;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;)
    error.append(buffer, static_cast<size_t>(n));
  close(fds[0]);

  int status = 0;
  waitpid(child, &status, 0);
  if (error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    error = "child ended with status " + std::to_string(status);
  }
  return error;
}

}  // namespace crio::testing
