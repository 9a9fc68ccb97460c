// Integration tests of crio-conmon with the real runc, and crun where the host's cgroup layout
// suits it. Each test writes an OCI bundle whose root is a shared busybox-static rootfs, starts
// the crio-conmon binary as a process of its own (new session, as a launcher would), and talks
// to it over its socket as crio-cri does. Needs root; skips otherwise.
#include <capnp/rpc-twoparty.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "crio-conmon/container-log.h"
#include "crio-conmon/exit-record.h"
#include "ipc/conmon.capnp.h"
#include "ipc/errors.h"
#include "ipc/unix-socket.h"

namespace crio::conmon {
namespace {

namespace fs = std::filesystem;
using schema = ipc::schema::Monitor;
using Status = ipc::schema::ContainerStatus;
using Clock = std::chrono::steady_clock;

constexpr const char* RUNC = "/usr/sbin/runc";
constexpr const char* CRUN = "/usr/bin/crun";
constexpr const char* BUSYBOX = "/bin/busybox";
// Parent of the cgroups of the tests that set cgroupsPath.
constexpr const char* CGROUP_PARENT = "crio-conmon-test";
constexpr auto RPC_TIMEOUT = 60 * kj::SECONDS;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<LogEntry> readLog(const std::string& path) {
  std::vector<LogEntry> entries;
  std::istringstream in(readFile(path));
  std::string line;
  while (std::getline(in, line)) {
    auto entry = parseLogEntry(line);
    EXPECT_TRUE(entry.has_value()) << "not a CRI log line: " << line.substr(0, 200);
    if (entry) entries.push_back(std::move(*entry));
  }
  return entries;
}

// The output of `stream` as the kubelet rebuilds it from the log.
std::string reassemble(const std::vector<LogEntry>& entries, Stream stream) {
  std::string out;
  for (const auto& entry : entries) {
    if (entry.stream != stream) continue;
    out += entry.content;
    if (!entry.partial) out += '\n';
  }
  return out;
}

// Alive and not a zombie.
bool processAlive(pid_t pid) {
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  return stat[close + 2] != 'Z' && stat[close + 2] != 'X';
}

// Runs a program to completion with stdio on /dev/null; returns its exit status.
int runProgram(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> args;
    for (const auto& arg : argv)
      args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits up to `timeout` for `pid` (a child of the test) to exit; -1 if it did not.
int waitForExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

struct LaunchOptions {
  std::vector<std::string> args;
  std::string runtime = RUNC;
  bool tty = false;
  bool openStdin = false;
  int64_t logSizeMax = -1;
  bool discardLog = false;                    // --log-path ""
  std::function<void(nlohmann::json&)> edit;  // changes config.json further
};

// One monitor process and what it serves.
struct Launched {
  pid_t pid = 0;
  std::string id;
  std::string bundle;
  std::string socket;
  std::string log;
  std::string runtime;
  std::string runtimeRoot;
};

class ConmonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skipReason_ = "needs root";
      return;
    }
    for (const char* program : {RUNC, BUSYBOX}) {
      if (access(program, X_OK) != 0) {
        skipReason_ = std::string("needs ") + program;
        return;
      }
    }
    char pattern[] = "/tmp/cct-XXXXXX";
    root_ = mkdtemp(pattern);
    fs::create_directories(root_ + "/rootfs/bin");
    fs::create_directories(root_ + "/s");
    fs::copy_file(BUSYBOX, root_ + "/rootfs/bin/busybox");
    // `busybox --install -s` would link to the host's path of busybox (/usr/bin/busybox on a
    // merged /usr), which the rootfs lacks; relative links work anywhere.
    FILE* list = popen((std::string(BUSYBOX) + " --list").c_str(), "r");
    ASSERT_NE(list, nullptr);
    char applet[256];
    while (fgets(applet, sizeof applet, list) != nullptr) {
      std::string name(applet);
      while (!name.empty() && name.back() == '\n')
        name.pop_back();
      if (name.empty() || name == "busybox") continue;
      fs::create_symlink("busybox", root_ + "/rootfs/bin/" + name);
    }
    ASSERT_EQ(pclose(list), 0);
    for (const char* dir : {"proc", "dev", "sys", "tmp", "etc"}) {
      fs::create_directories(root_ + "/rootfs/" + dir);
    }

    ASSERT_EQ(runProgram({RUNC, "spec", "--bundle", root_}), 0);
    baseConfig_ = nlohmann::json::parse(readFile(root_ + "/config.json"));
    fs::remove(root_ + "/config.json");
    baseConfig_["root"]["path"] = root_ + "/rootfs";
    baseConfig_["root"]["readonly"] = true;
    baseConfig_["process"]["terminal"] = false;
  }

  static void TearDownTestSuite() {
    if (root_.empty()) return;
    fs::remove_all(root_);
    for (const auto& entry : fs::directory_iterator("/sys/fs/cgroup")) {
      rmdir((entry.path().string() + "/" + CGROUP_PARENT).c_str());
    }
  }

  void SetUp() override {
    if (!skipReason_.empty()) GTEST_SKIP() << skipReason_;
    io_ = std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  }

  void TearDown() override {
    connections_.clear();
    for (auto& launched : launched_) {
      if (waitpid(launched.pid, nullptr, WNOHANG) == 0) {
        kill(launched.pid, SIGKILL);
        waitpid(launched.pid, nullptr, 0);
      }
      runProgram(
          {launched.runtime, "--root", launched.runtimeRoot, "delete", "--force", launched.id});
    }
    connections_.clear();
    io_.reset();
  }

  // A container id unique to the running test.
  static std::string testId(const std::string& suffix = "") {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    return "it-" + name + suffix;
  }

  Launched launch(const std::string& id, const LaunchOptions& options) {
    Launched l;
    l.id = id;
    l.bundle = root_ + "/" + id;
    l.socket = root_ + "/s/" + id + ".sock";
    l.log = l.bundle + "/ctr.log";
    l.runtime = options.runtime;
    l.runtimeRoot = root_ + "/" + fs::path(options.runtime).filename().string() + "-root";
    fs::create_directories(l.bundle);

    nlohmann::json config = baseConfig_;
    config["process"]["args"] = options.args;
    config["process"]["terminal"] = options.tty;
    if (options.edit) options.edit(config);
    std::ofstream(l.bundle + "/config.json") << config.dump(2);

    std::vector<std::string> argv = {CRIO_CONMON_PATH,
                                     "--container-id",
                                     id,
                                     "--bundle",
                                     l.bundle,
                                     "--runtime",
                                     options.runtime,
                                     "--runtime-root",
                                     l.runtimeRoot,
                                     "--socket",
                                     l.socket,
                                     "--exit-dir",
                                     exitDir(),
                                     "--log-path",
                                     options.discardLog ? "" : l.log,
                                     "--log-size-max",
                                     std::to_string(options.logSizeMax),
                                     "--ready-fd",
                                     "3",
                                     "--log-level",
                                     "debug"};
    if (options.tty) argv.push_back("--tty");
    if (options.openStdin) argv.push_back("--stdin");

    int ready[2];
    EXPECT_EQ(pipe2(ready, O_CLOEXEC), 0);
    std::string monitorLog = l.bundle + "/monitor.log";
    pid_t pid = fork();
    if (pid == 0) {
      setsid();
      sigset_t empty;
      sigemptyset(&empty);
      sigprocmask(SIG_SETMASK, &empty, nullptr);
      int null = open("/dev/null", O_RDONLY);
      int out = open(monitorLog.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(null, 0);
      dup2(out, 1);
      dup2(out, 2);
      dup2(ready[1], 3);
      fcntl(3, F_SETFD, 0);
      std::vector<char*> args;
      for (auto& arg : argv)
        args.push_back(arg.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(ready[1]);
    l.pid = pid;
    launched_.push_back(l);

    struct pollfd p = {ready[0], POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 10000), 1) << "monitor did not become ready; its log:\n"
                                     << readFile(monitorLog);
    char buf[32] = {};
    ssize_t n = read(ready[0], buf, sizeof buf - 1);
    close(ready[0]);
    EXPECT_GT(n, 0) << readFile(monitorLog);
    EXPECT_EQ(std::atoi(buf), pid);
    return l;
  }

  schema::Client connect(const Launched& l) {
    int fd = ipc::connectUnixSocket(l.socket, {0});
    auto connection = std::make_unique<Connection>();
    connection->stream =
        io_->lowLevelProvider->wrapSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    connection->client = kj::heap<capnp::TwoPartyClient>(*connection->stream);
    auto client = connection->client->bootstrap().castAs<schema>();
    connections_.push_back(std::move(connection));
    return client;
  }

  void disconnectAll() { connections_.clear(); }

  // Waits for `promise` on the test's event loop, at most RPC_TIMEOUT.
  template <typename T>
  T await(kj::Promise<T>&& promise) {
    auto timeout = io_->provider->getTimer().afterDelay(RPC_TIMEOUT).then([]() -> T {
      KJ_FAIL_ASSERT("RPC did not answer in time");
    });
    return promise.exclusiveJoin(kj::mv(timeout)).wait(io_->waitScope);
  }

  // Runs `fn`, which must fail, and returns its error as crio-cri would see it.
  template <typename Fn>
  Error failure(Fn&& fn) {
    try {
      fn();
    } catch (const kj::Exception& e) {
      return ipc::fromKjException(e, "crio-conmon");
    }
    ADD_FAILURE() << "the call succeeded";
    return Error(ErrorCategory::INTERNAL, "no error");
  }

  // waitCreated(), start(), and checks of the created state.
  void createAndStart(schema::Client& client) {
    auto created = await(client.waitCreatedRequest().send());
    ASSERT_EQ(created.getState().getStatus(), Status::CREATED);
    ASSERT_GT(created.getState().getPid(), 0);
    auto started = await(client.startRequest().send());
    EXPECT_NE(started.getState().getStartedAt(), 0);
  }

  struct ExitState {
    Status status;
    int exitCode;
    bool oomKilled;
    std::string reason;
    int64_t createdAt, startedAt, finishedAt;
  };

  ExitState waitExit(schema::Client& client) {
    auto response = await(client.waitExitRequest().send());
    auto s = response.getState();
    return {s.getStatus(),    s.getExitCode(),  s.getOomKilled(), s.getReason(),
            s.getCreatedAt(), s.getStartedAt(), s.getFinishedAt()};
  }

  // delete(), then the monitor's own exit.
  void remove(schema::Client& client, const Launched& l) {
    await(client.deleteRequest().send());
    EXPECT_EQ(waitForExit(l.pid, std::chrono::seconds(10)), 0)
        << "monitor did not end after delete; its log:\n"
        << readFile(l.bundle + "/monitor.log");
  }

  struct ExecOutput {
    int exitCode;
    std::string out, err;
    bool outTruncated, errTruncated;
  };

  ExecOutput exec(schema::Client& client, const std::vector<std::string>& argv,
                  int64_t timeoutSeconds = 0, std::vector<std::string> env = {}, bool tty = false) {
    auto request = client.execSyncRequest();
    auto list = request.initArgv(argv.size());
    for (size_t i = 0; i < argv.size(); ++i)
      list.set(i, argv[i]);
    auto envList = request.initEnv(env.size());
    for (size_t i = 0; i < env.size(); ++i)
      envList.set(i, env[i]);
    request.setTimeoutSeconds(timeoutSeconds);
    request.setTty(tty);
    auto response = await(request.send());
    auto result = response.getResult();
    auto out = result.getStdout();
    auto err = result.getStderr();
    return {result.getExitCode(),
            std::string(reinterpret_cast<const char*>(out.begin()), out.size()),
            std::string(reinterpret_cast<const char*>(err.begin()), err.size()),
            result.getStdoutTruncated(), result.getStderrTruncated()};
  }

  static std::string exitDir() { return root_ + "/exits"; }

  struct Connection {
    kj::Own<kj::AsyncIoStream> stream;
    kj::Own<capnp::TwoPartyClient> client;
  };

  static inline std::string skipReason_;
  static inline std::string root_;
  static inline nlohmann::json baseConfig_;

  std::unique_ptr<kj::AsyncIoContext> io_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Launched> launched_;
};

// ---------------------------------------------------------------------------------------------
// Lifecycle and exit codes

TEST_F(ConmonTest, ExitCodeZeroAndRecordAfterMonitorEnds) {
  auto l = launch(testId(), {.args = {"sh", "-c", "echo hello; echo oops >&2"}});
  auto client = connect(l);
  auto info = await(client.infoRequest().send());
  EXPECT_EQ(std::string(info.getInfo().getName().cStr()), "crio-conmon");
  EXPECT_EQ(info.getInfo().getPid(), static_cast<uint32_t>(l.pid));

  createAndStart(client);
  ExitState exit = waitExit(client);
  EXPECT_EQ(exit.status, Status::STOPPED);
  EXPECT_EQ(exit.exitCode, 0);
  EXPECT_EQ(exit.reason, "Completed");
  EXPECT_FALSE(exit.oomKilled);
  EXPECT_LE(exit.createdAt, exit.startedAt);
  EXPECT_LE(exit.startedAt, exit.finishedAt);

  auto entries = readLog(l.log);
  EXPECT_EQ(reassemble(entries, Stream::STDOUT), "hello\n");
  EXPECT_EQ(reassemble(entries, Stream::STDERR), "oops\n");

  // The monitor keeps serving state() after the exit, until delete.
  auto state = await(client.stateRequest().send());
  EXPECT_EQ(state.getState().getStatus(), Status::STOPPED);
  remove(client, l);

  auto record = readExitRecord(exitDir(), l.id);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->exitCode, 0);
  EXPECT_EQ(record->reason, "Completed");
  EXPECT_EQ(record->finishedAt, exit.finishedAt);
  EXPECT_EQ(record->startedAt, exit.startedAt);
}

TEST_F(ConmonTest, ExitCodeOne) {
  auto l = launch(testId(), {.args = {"sh", "-c", "exit 1"}});
  auto client = connect(l);
  createAndStart(client);
  ExitState exit = waitExit(client);
  EXPECT_EQ(exit.exitCode, 1);
  EXPECT_EQ(exit.reason, "Error");
  remove(client, l);
  EXPECT_EQ(readExitRecord(exitDir(), l.id)->exitCode, 1);
}

TEST_F(ConmonTest, KillNineIs137) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  auto request = client.killRequest();
  request.setSignal(SIGKILL);
  EXPECT_TRUE(await(request.send()).getDelivered());
  ExitState exit = waitExit(client);
  EXPECT_EQ(exit.exitCode, 137);
  EXPECT_EQ(exit.reason, "Error");

  auto again = client.killRequest();
  again.setSignal(SIGKILL);
  EXPECT_FALSE(await(again.send()).getDelivered());
  remove(client, l);
}

TEST_F(ConmonTest, StartTwiceIsFailedPrecondition) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  Error error = failure([&]() { await(client.startRequest().send()); });
  EXPECT_EQ(error.category(), ErrorCategory::FAILED_PRECONDITION) << error.what();
  Error running = failure([&]() { await(client.deleteRequest().send()); });
  EXPECT_EQ(running.category(), ErrorCategory::FAILED_PRECONDITION) << running.what();

  auto stop = client.stopRequest();
  stop.setTimeoutSeconds(0);
  await(stop.send());
  remove(client, l);
}

TEST_F(ConmonTest, StopEscalatesToSigkill) {
  auto l = launch(testId(), {.args = {"sh", "-c", "trap '' TERM; sleep 100"}});
  auto client = connect(l);
  createAndStart(client);

  auto begin = Clock::now();
  auto request = client.stopRequest();
  request.setTimeoutSeconds(2);
  auto state = await(request.send()).getState();
  auto elapsed = Clock::now() - begin;
  EXPECT_EQ(state.getStatus(), Status::STOPPED);
  EXPECT_EQ(state.getExitCode(), 137);
  EXPECT_GE(elapsed, std::chrono::seconds(2));
  EXPECT_LT(elapsed, std::chrono::seconds(8));

  // Idempotent: a second stop returns the same exit at once.
  auto second = client.stopRequest();
  second.setTimeoutSeconds(10);
  begin = Clock::now();
  EXPECT_EQ(await(second.send()).getState().getExitCode(), 137);
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(1));
  remove(client, l);
}

TEST_F(ConmonTest, StopWithSignalTheContainerHandles) {
  auto l = launch(testId(), {.args = {"sh", "-c",
                                      "trap 'exit 42' TERM; echo trapped; "
                                      "while true; do sleep 0.1; done"}});
  auto client = connect(l);
  createAndStart(client);
  // As the init process, the shell ignores SIGTERM until its trap is set.
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (readFile(l.log).find("trapped") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  auto begin = Clock::now();
  auto request = client.stopRequest();
  request.setTimeoutSeconds(30);
  auto state = await(request.send()).getState();
  EXPECT_EQ(state.getExitCode(), 42);
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(5));
  remove(client, l);
}

TEST_F(ConmonTest, DeleteOfCreatedContainerKillsIt) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  auto created = await(client.waitCreatedRequest().send());
  pid_t pid = created.getState().getPid();
  EXPECT_TRUE(processAlive(pid));
  remove(client, l);
  EXPECT_FALSE(processAlive(pid));
  auto record = readExitRecord(exitDir(), l.id);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->exitCode, 137);
  EXPECT_EQ(record->startedAt, 0);
}

TEST_F(ConmonTest, CreateFailureIsReported) {
  auto l = launch(testId(), {.args = {"true"}, .edit = [](nlohmann::json& config) {
                               config["root"]["path"] = "/nonexistent/rootfs";
                             }});
  auto client = connect(l);
  Error error = failure([&]() { await(client.waitCreatedRequest().send()); });
  EXPECT_EQ(error.category(), ErrorCategory::INTERNAL);
  EXPECT_NE(std::string(error.what()).find("runtime create failed"), std::string::npos)
      << error.what();

  auto state = await(client.stateRequest().send()).getState();
  EXPECT_EQ(state.getStatus(), Status::STOPPED);
  EXPECT_EQ(std::string(state.getReason().cStr()), "CreateFailed");
  EXPECT_NE(std::string(state.getMessage().cStr()).find("nonexistent"), std::string::npos)
      << state.getMessage().cStr();
  auto record = readExitRecord(exitDir(), l.id);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->reason, "CreateFailed");
  EXPECT_EQ(record->exitCode, -1);
  remove(client, l);
}

// ---------------------------------------------------------------------------------------------
// CRI log

TEST_F(ConmonTest, LogKeepsPartialLines) {
  auto l =
      launch(testId(), {.args = {"sh", "-c",
                                 "printf 'first\\nsecond without newline'; sleep 0.5; "
                                 "head -c 102400 /dev/zero | tr '\\000' x; echo; printf tail"}});
  auto client = connect(l);
  createAndStart(client);
  waitExit(client);

  auto entries = readLog(l.log);
  std::string expected = "first\nsecond without newline" + std::string(102400, 'x') + "\ntail";
  EXPECT_EQ(reassemble(entries, Stream::STDOUT), expected);

  // "second without newline" waited past the flush delay: a P entry of its own.
  bool fragmentAlone = false;
  size_t longPartials = 0;
  for (const auto& entry : entries) {
    if (entry.partial && entry.content == "second without newline") fragmentAlone = true;
    if (entry.partial && entry.content.size() == MAX_ENTRY_CONTENT) ++longPartials;
  }
  EXPECT_TRUE(fragmentAlone);
  EXPECT_GE(longPartials, 5u);
  ASSERT_FALSE(entries.empty());
  EXPECT_TRUE(entries.back().partial);
  EXPECT_EQ(entries.back().content, "tail");
  // RFC 3339 in UTC with nanoseconds.
  EXPECT_EQ(entries.front().timestamp.size(), 30u) << entries.front().timestamp;
  EXPECT_EQ(entries.front().timestamp.back(), 'Z');
  remove(client, l);
}

TEST_F(ConmonTest, TenMegabytesArriveWhole) {
  const std::string pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  auto l = launch(testId(), {.args = {"sh", "-c", "yes " + pattern + " | head -c 10000000"}});
  auto client = connect(l);
  await(client.waitCreatedRequest().send());
  auto begin = Clock::now();
  await(client.startRequest().send());
  ExitState exit = waitExit(client);
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  EXPECT_EQ(exit.exitCode, 0);

  std::string expected;
  std::string line = pattern + "\n";
  while (expected.size() < 10000000)
    expected += line;
  expected.resize(10000000);
  std::string got = reassemble(readLog(l.log), Stream::STDOUT);
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "content differs";
  std::cout << "10 MB of 63-byte lines: start to recorded exit " << seconds << " s, "
            << 10.0 / seconds << " MB/s; log file " << fs::file_size(l.log) << " bytes\n";
  RecordProperty("ten_mb_lines_seconds", std::to_string(seconds));
  remove(client, l);
}

TEST_F(ConmonTest, RandomBase64ArrivesWhole) {
  auto l = launch(testId(), {.args = {"sh", "-c", "head -c 10000000 /dev/urandom | base64"}});
  auto client = connect(l);
  await(client.waitCreatedRequest().send());
  auto begin = Clock::now();
  await(client.startRequest().send());
  EXPECT_EQ(waitExit(client).exitCode, 0);
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();

  // base64 turns 10,000,000 bytes into 13,333,336 characters, in lines of 76 plus newlines.
  size_t characters = (10000000 + 2) / 3 * 4;
  size_t expected = characters + (characters + 75) / 76;
  std::string got = reassemble(readLog(l.log), Stream::STDOUT);
  EXPECT_EQ(got.size(), expected);
  std::cout << "10 MB base64: start to recorded exit " << seconds << " s\n";
  remove(client, l);
}

TEST_F(ConmonTest, LogSizeLimitTruncates) {
  auto l = launch(testId(), {.args = {"sh", "-c", "seq 1 20000"}, .logSizeMax = 65536});
  auto client = connect(l);
  createAndStart(client);
  waitExit(client);
  EXPECT_LE(fs::file_size(l.log), 65536u);
  std::string text = reassemble(readLog(l.log), Stream::STDOUT);
  EXPECT_NE(text.find("\n20000\n"), std::string::npos);
  EXPECT_EQ(text.find("\n1\n"), std::string::npos);
  remove(client, l);
}

TEST_F(ConmonTest, ReopenLogFollowsRename) {
  auto l = launch(testId(), {.args = {"sh", "-c", "echo one; sleep 1.5; echo two"}});
  auto client = connect(l);
  createAndStart(client);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (readFile(l.log).find("one") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fs::rename(l.log, l.log + ".1");
  await(client.reopenLogRequest().send());
  waitExit(client);
  EXPECT_EQ(reassemble(readLog(l.log + ".1"), Stream::STDOUT), "one\n");
  EXPECT_EQ(reassemble(readLog(l.log), Stream::STDOUT), "two\n");
  remove(client, l);
}

// ---------------------------------------------------------------------------------------------
// Terminal and stdin

TEST_F(ConmonTest, TerminalContainer) {
  auto l = launch(testId(), {.args = {"sh", "-c", "tty; echo done >&2"}, .tty = true});
  auto client = connect(l);
  createAndStart(client);
  EXPECT_EQ(waitExit(client).exitCode, 0);
  // A terminal merges stderr into its output and ends lines with CR LF.
  std::string out = reassemble(readLog(l.log), Stream::STDOUT);
  EXPECT_NE(out.find("/dev/pts/"), std::string::npos) << out;
  EXPECT_NE(out.find("done\r\n"), std::string::npos) << out;
  remove(client, l);
}

TEST_F(ConmonTest, OpenStdinIsHeldOpen) {
  auto l = launch(testId(), {.args = {"sh", "-c", "read line; echo eof"}, .openStdin = true});
  auto client = connect(l);
  createAndStart(client);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(await(client.stateRequest().send()).getState().getStatus(), Status::RUNNING);
  auto stop = client.stopRequest();
  stop.setTimeoutSeconds(0);
  EXPECT_EQ(await(stop.send()).getState().getExitCode(), 137);
  remove(client, l);
}

// ---------------------------------------------------------------------------------------------
// ExecSync

TEST_F(ConmonTest, ExecSyncOutputAndExitCode) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);

  auto result = exec(client, {"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(result.exitCode, 3);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");

  auto env = exec(client, {"sh", "-c", "echo $GREETING"}, 0, {"GREETING=hi there"});
  EXPECT_EQ(env.out, "hi there\n");

  // An argument that looks like an option reaches the command unchanged.
  auto dashes = exec(client, {"echo", "--help", "-n"});
  EXPECT_EQ(dashes.out, "--help -n\n");

  auto tty = exec(client, {"tty"}, 0, {}, true);
  EXPECT_EQ(tty.exitCode, 0) << tty.err;
  EXPECT_NE(tty.out.find("/dev/pts/"), std::string::npos) << tty.out;

  auto stopped = client.stopRequest();
  stopped.setTimeoutSeconds(0);
  await(stopped.send());
  Error error = failure([&]() { exec(client, {"true"}); });
  EXPECT_EQ(error.category(), ErrorCategory::FAILED_PRECONDITION);
  remove(client, l);
}

TEST_F(ConmonTest, ExecSyncTimeoutKillsTheCommand) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  auto begin = Clock::now();
  Error error = failure([&]() { exec(client, {"sleep", "30"}, 1); });
  EXPECT_EQ(error.category(), ErrorCategory::DEADLINE_EXCEEDED) << error.what();
  EXPECT_LT(Clock::now() - begin, std::chrono::seconds(5));
  // No sleep 30 is left in the container.
  auto ps = exec(client, {"sh", "-c", "ps -o args | grep -c '^sleep 30' || true"});
  EXPECT_EQ(ps.out, "0\n");
  auto stop = client.stopRequest();
  stop.setTimeoutSeconds(0);
  await(stop.send());
  remove(client, l);
}

TEST_F(ConmonTest, ExecSyncReturnsWhileChildHoldsStdout) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  auto begin = Clock::now();
  auto result = exec(client, {"sh", "-c", "sleep 30 & echo started"}, 60);
  auto elapsed = Clock::now() - begin;
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_EQ(result.out, "started\n");
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  auto stop = client.stopRequest();
  stop.setTimeoutSeconds(0);
  await(stop.send());
  remove(client, l);
}

TEST_F(ConmonTest, ExecSyncOutputIsCapped) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  auto result = exec(client, {"sh", "-c", "head -c 20000000 /dev/zero; echo done >&2"});
  EXPECT_EQ(result.exitCode, 0);
  EXPECT_EQ(result.out.size(), 16u * 1024 * 1024);
  EXPECT_TRUE(result.outTruncated);
  EXPECT_EQ(result.err, "done\n");
  EXPECT_FALSE(result.errTruncated);
  auto stop = client.stopRequest();
  stop.setTimeoutSeconds(0);
  await(stop.send());
  remove(client, l);
}

// ---------------------------------------------------------------------------------------------
// Independence from the client and from the monitor

TEST_F(ConmonTest, ContainerOutlivesClientDisconnect) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  pid_t pid = await(client.stateRequest().send()).getState().getPid();
  disconnectAll();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(processAlive(pid));

  auto again = connect(l);
  auto state = await(again.stateRequest().send()).getState();
  EXPECT_EQ(state.getStatus(), Status::RUNNING);
  EXPECT_EQ(state.getPid(), pid);
  auto stop = again.stopRequest();
  stop.setTimeoutSeconds(0);
  EXPECT_EQ(await(stop.send()).getState().getExitCode(), 137);
  remove(again, l);
}

TEST_F(ConmonTest, WaitExitHeldAcrossAnotherClient) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto watcher = connect(l);
  auto controller = connect(l);
  createAndStart(controller);
  auto exited = watcher.waitExitRequest().send();
  auto request = controller.killRequest();
  request.setSignal(SIGKILL);
  await(request.send());
  auto response = await(kj::mv(exited));
  EXPECT_EQ(response.getState().getExitCode(), 137);
  remove(controller, l);
}

TEST_F(ConmonTest, MonitorSigkillLeavesContainerRunning) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  pid_t pid = await(client.stateRequest().send()).getState().getPid();
  disconnectAll();

  kill(l.pid, SIGKILL);
  EXPECT_EQ(waitForExit(l.pid, std::chrono::seconds(5)), 128 + SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(processAlive(pid));
  EXPECT_EQ(runProgram({RUNC, "--root", l.runtimeRoot, "kill", l.id, "KILL"}), 0);
}

TEST_F(ConmonTest, MonitorSigtermLeavesContainerRunning) {
  auto l = launch(testId(), {.args = {"sleep", "100"}});
  auto client = connect(l);
  createAndStart(client);
  pid_t pid = await(client.stateRequest().send()).getState().getPid();
  disconnectAll();

  kill(l.pid, SIGTERM);
  EXPECT_EQ(waitForExit(l.pid, std::chrono::seconds(5)), 0);
  EXPECT_TRUE(processAlive(pid));
  EXPECT_FALSE(fs::exists(l.socket));
  EXPECT_EQ(runProgram({RUNC, "--root", l.runtimeRoot, "kill", l.id, "KILL"}), 0);
}

// ---------------------------------------------------------------------------------------------
// OOM

TEST_F(ConmonTest, OomKillIsReported) {
  if (access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) != 0 &&
      access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0) {
    GTEST_SKIP() << "no memory cgroup controller";
  }
  std::string id = testId();
  auto l = launch(id, {.args = {"sh", "-c", "exec dd if=/dev/zero of=/dev/null bs=32M count=1"},
                       .edit = [id](nlohmann::json& config) {
                         config["linux"]["cgroupsPath"] =
                             std::string("/") + CGROUP_PARENT + "/" + id;
                         config["linux"]["resources"]["memory"]["limit"] = 8 << 20;
                       }});
  auto client = connect(l);
  createAndStart(client);
  ExitState exit = waitExit(client);
  EXPECT_EQ(exit.exitCode, 137);
  EXPECT_TRUE(exit.oomKilled);
  EXPECT_EQ(exit.reason, "OOMKilled");
  remove(client, l);
  auto record = readExitRecord(exitDir(), l.id);
  ASSERT_TRUE(record.has_value());
  EXPECT_TRUE(record->oomKilled);
  EXPECT_EQ(record->reason, "OOMKilled");
}

// ---------------------------------------------------------------------------------------------
// crun

TEST_F(ConmonTest, CrunLifecycle) {
  if (access(CRUN, X_OK) != 0) GTEST_SKIP() << "needs " << CRUN;
  auto l = launch(testId(), {.args = {"sh", "-c", "echo from crun; exit 5"}, .runtime = CRUN});
  auto client = connect(l);
  try {
    await(client.waitCreatedRequest().send());
  } catch (const kj::Exception& e) {
    std::string message = e.getDescription().cStr();
    if (message.find("cgroups in hybrid mode not supported") != std::string::npos) {
      await(client.deleteRequest().send());
      GTEST_SKIP() << "crun refuses this host's cgroup layout (v1 controllers with a v2 "
                      "mount): "
                   << message;
    }
    FAIL() << message;
  }
  await(client.startRequest().send());
  EXPECT_EQ(waitExit(client).exitCode, 5);
  EXPECT_EQ(reassemble(readLog(l.log), Stream::STDOUT), "from crun\n");
  remove(client, l);
}

// ---------------------------------------------------------------------------------------------
// Measurements: printed, and bounded loosely so that a regression shows.

// A field of /proc/PID/smaps_rollup, in KiB; -1 when absent.
int64_t smapsRollupKib(pid_t pid, const std::string& field) {
  std::istringstream in(readFile("/proc/" + std::to_string(pid) + "/smaps_rollup"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

TEST_F(ConmonTest, MeasureLogThroughput) {
  const std::string pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  auto measure = [&](const std::string& suffix, const std::string& redirect, bool discard) {
    std::vector<double> times;
    for (int i = 0; i < 3; ++i) {
      auto l = launch(testId(suffix + std::to_string(i)),
                      {.args = {"sh", "-c", "yes " + pattern + " | head -c 10000000" + redirect},
                       .discardLog = discard});
      auto client = connect(l);
      await(client.waitCreatedRequest().send());
      auto begin = Clock::now();
      await(client.startRequest().send());
      EXPECT_EQ(waitExit(client).exitCode, 0);
      times.push_back(std::chrono::duration<double>(Clock::now() - begin).count());
      remove(client, l);
    }
    std::sort(times.begin(), times.end());
    return times[1];
  };
  double inside = measure("-null", " > /dev/null", false);
  double discarded = measure("-discard", "", true);
  double logged = measure("-log", "", false);
  std::cout << "10 MB of 63-byte lines, start to recorded exit, median of 3: written to "
            << "/dev/null in the container " << inside << " s; through the monitor, log "
            << "discarded " << discarded << " s; into the CRI log " << logged << " s ("
            << 10.0 / logged << " MB/s)\n";
  RecordProperty("ten_mb_inside_seconds", std::to_string(inside));
  RecordProperty("ten_mb_discarded_seconds", std::to_string(discarded));
  RecordProperty("ten_mb_logged_seconds", std::to_string(logged));
}

TEST_F(ConmonTest, MeasureSpawnTimeAndMemory) {
  constexpr int ROUNDS = 5;
  std::vector<double> monitorMs, runcMs;
  std::vector<int64_t> pss, rss;
  for (int i = 0; i < ROUNDS; ++i) {
    auto begin = Clock::now();
    auto l = launch(testId("-m" + std::to_string(i)), {.args = {"sleep", "100"}});
    auto client = connect(l);
    await(client.waitCreatedRequest().send());
    monitorMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
    await(client.startRequest().send());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pss.push_back(smapsRollupKib(l.pid, "Pss"));
    rss.push_back(smapsRollupKib(l.pid, "Rss"));
    auto stop = client.stopRequest();
    stop.setTimeoutSeconds(0);
    await(stop.send());
    remove(client, l);

    // The same create with runc alone.
    std::string id = testId("-r" + std::to_string(i));
    std::string bundle = root_ + "/" + id;
    fs::create_directories(bundle);
    nlohmann::json config = baseConfig_;
    config["process"]["args"] = {"sleep", "100"};
    std::ofstream(bundle + "/config.json") << config.dump(2);
    std::string runcRoot = root_ + "/runc-root";
    begin = Clock::now();
    EXPECT_EQ(runProgram({RUNC, "--root", runcRoot, "create", "--bundle", bundle, "--pid-file",
                          bundle + "/pid", id}),
              0);
    runcMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
    runProgram({RUNC, "--root", runcRoot, "delete", "--force", id});
  }
  std::sort(monitorMs.begin(), monitorMs.end());
  std::sort(runcMs.begin(), runcMs.end());
  std::sort(pss.begin(), pss.end());
  std::sort(rss.begin(), rss.end());
  std::cout << "spawn to created, median of " << ROUNDS << ": crio-conmon " << monitorMs[ROUNDS / 2]
            << " ms, bare runc create " << runcMs[ROUNDS / 2] << " ms\n"
            << "idle crio-conmon PSS, median: " << pss[ROUNDS / 2] << " KiB (min " << pss.front()
            << ", max " << pss.back() << "), RSS " << rss[ROUNDS / 2] << " KiB\n";
  RecordProperty("spawn_to_created_ms", std::to_string(monitorMs[ROUNDS / 2]));
  RecordProperty("runc_create_ms", std::to_string(runcMs[ROUNDS / 2]));
  RecordProperty("idle_pss_kib", std::to_string(pss[ROUNDS / 2]));
  EXPECT_GT(pss[ROUNDS / 2], 0);
  EXPECT_LT(pss[ROUNDS / 2], 16 * 1024);
}

}  // namespace
}  // namespace crio::conmon
