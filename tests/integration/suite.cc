#include "tests/integration/suite.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace crio::testing {

namespace fs = std::filesystem;

std::string daemonBinary(const std::string& name) {
  return std::string(CRIO_BUILD_DIR) + "/" + name + "/" + name;
}

Process::Process(std::string name, std::vector<std::string> argv, std::string logFile)
    : name_(std::move(name)), logFile_(std::move(logFile)) {
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = open(logFile_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    // The test process may block signals; the daemon must start with a clean mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (running()) kill9();
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int status;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return r == 0;
}

int Process::stop(int signal, std::chrono::milliseconds timeout) {
  if (!running()) return status_;
  ::kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

void Process::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  pid_ = -1;
}

std::string Process::log() const {
  std::ifstream in(logFile_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Suite::Suite(const std::string& configText) {
  char pattern[] = "/tmp/crio-it-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = pattern;
  // crio-imaged runs as an unprivileged user and must be able to reach its folders below.
  chmod(root_.c_str(), 0755);
  fs::create_directories(root_ + "/etc/crio/crio.conf.d");
  fs::create_directories(root_ + "/logs");
  if (!configText.empty()) std::ofstream(root_ + "/etc/crio/crio.conf") << configText;
  // crio-imaged fails every pull without a policy; tests of the policy itself overwrite this.
  fs::create_directories(root_ + "/etc/containers");
  std::ofstream(root_ + "/etc/containers/policy.json")
      << R"({"default": [{"type": "insecureAcceptAnything"}]})"
      << "\n";
}

// Removes what a test left running: every pod (and with it its containers, monitors, PID holder,
// network and mounts) through the CRI while crio-cri still runs.
void Suite::removeLeftoverPods() {
  Process* cri = daemon("crio-cri");
  if (cri == nullptr || !cri->running()) return;
  runtime::v1::ListPodSandboxRequest list;
  runtime::v1::ListPodSandboxResponse pods;
  auto context = rpcContext(std::chrono::seconds(5));
  if (!runtime().ListPodSandbox(context.get(), list, &pods).ok()) return;
  for (const auto& pod : pods.items()) {
    runtime::v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(pod.id());
    runtime::v1::RemovePodSandboxResponse removed;
    auto removeContext = rpcContext(std::chrono::seconds(30));
    runtime().RemovePodSandbox(removeContext.get(), remove, &removed);
  }
}

// Kills processes that still name the root on their command line (monitors, PID holders whose
// crio-cri died) and detaches mounts below it, deepest first, so removing the root is safe.
void Suite::reapLeftovers() {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(root_ + "/") != std::string::npos ||
        cmdline.find(root_ + '\0') != std::string::npos) {
      ::kill(std::stoi(name), SIGKILL);
    }
  }
  std::vector<std::string> mounts;
  std::ifstream info("/proc/self/mountinfo");
  std::string line;
  while (std::getline(info, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, point;
    fields >> id >> parent >> device >> root >> point;
    if (point.rfind(root_ + "/", 0) == 0) mounts.push_back(point);
  }
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& point : mounts)
    umount2(point.c_str(), MNT_DETACH);
}

Suite::~Suite() {
  removeLeftoverPods();
  runtime_.reset();
  images_.reset();
  channel_.reset();
  for (auto& [name, process] : daemons_)
    process->stop(SIGTERM, std::chrono::seconds(5));
  daemons_.clear();
  reapLeftovers();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::vector<std::string> Suite::commonArgs() const {
  return {"--root", root_};
}

void Suite::start(const std::string& name, std::vector<std::string> extra) {
  std::vector<std::string> argv = {daemonBinary(name)};
  for (auto& a : commonArgs())
    argv.push_back(a);
  for (auto& a : extra)
    argv.push_back(a);
  daemons_[name] = std::make_unique<Process>(name, argv, root_ + "/logs/" + name + ".log");
}

void Suite::startImaged() {
  start("crio-imaged", {});
  if (!waitForSocket(root_ + "/run/crio/imaged/imaged.sock", std::chrono::seconds(10))) {
    throw std::runtime_error("crio-imaged did not start: " + daemons_["crio-imaged"]->log());
  }
}

void Suite::startStored() {
  start("crio-stored", {});
  if (!waitForSocket(root_ + "/run/crio/stored.sock", std::chrono::seconds(10))) {
    throw std::runtime_error("crio-stored did not start: " + daemons_["crio-stored"]->log());
  }
}

void Suite::startCri() {
  start("crio-cri", {});
  if (!waitForSocket(criSocket(), std::chrono::seconds(10))) {
    throw std::runtime_error("crio-cri did not start: " + daemons_["crio-cri"]->log());
  }
}

void Suite::startAll() {
  startStored();
  startImaged();
  startCri();
}

bool Suite::waitForSocket(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Process* Suite::daemon(const std::string& name) {
  auto it = daemons_.find(name);
  return it == daemons_.end() ? nullptr : it->second.get();
}

void Suite::forget(const std::string& name) {
  daemons_.erase(name);
}

runtime::v1::RuntimeService::Stub& Suite::runtime() {
  if (!runtime_) {
    channel_ = grpc::CreateChannel("unix://" + criSocket(), grpc::InsecureChannelCredentials());
    runtime_ = runtime::v1::RuntimeService::NewStub(channel_);
    images_ = runtime::v1::ImageService::NewStub(channel_);
  }
  return *runtime_;
}

runtime::v1::ImageService::Stub& Suite::images() {
  runtime();
  return *images_;
}

std::map<std::string, runtime::v1::RuntimeCondition> Suite::conditions(bool verbose,
                                                                       std::string* info) {
  runtime::v1::StatusRequest request;
  request.set_verbose(verbose);
  runtime::v1::StatusResponse response;
  auto context = rpcContext();
  grpc::Status status = runtime().Status(context.get(), request, &response);
  if (!status.ok()) throw std::runtime_error("Status failed: " + status.error_message());
  std::map<std::string, runtime::v1::RuntimeCondition> out;
  for (const auto& c : response.status().conditions())
    out[c.type()] = c;
  if (info != nullptr) {
    *info = "";
    for (const auto& [key, value] : response.info())
      *info += key + "=" + value + "\n";
  }
  return out;
}

bool Suite::waitRuntimeReady(bool ready, std::chrono::milliseconds timeout,
                             runtime::v1::RuntimeCondition* last) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto c = conditions()["RuntimeReady"];
    if (last != nullptr) *last = c;
    if (c.status() == ready) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::unique_ptr<grpc::ClientContext> rpcContext(std::chrono::milliseconds timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

}  // namespace crio::testing
