#include "imaged-test-support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "crio-imaged/digest.h"
#include "ipc/errors.h"
#include "ipc/unix-socket.h"

namespace crio::imaged::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void makeDirs(const std::string& path) {
  fs::create_directories(path);
  for (fs::path p = path; !p.empty() && p != "/" && p.string().rfind("/tmp/", 0) == 0;
       p = p.parent_path()) {
    chmod(p.c_str(), 0755);
  }
}

void writeFile(const std::string& path, const std::string& content, mode_t mode) {
  makeDirs(fs::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path);
  }
  chmod(path.c_str(), mode);
}

namespace {

// Turns argv into the array execvp wants; the strings must outlive the call.
std::vector<char*> cArgs(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& arg : argv)
    out.push_back(const_cast<char*>(arg.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

CommandResult runCommand(const std::vector<std::string>& argv, const std::string& input,
                         std::chrono::seconds timeout) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  auto args = cArgs(argv);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  std::thread writer([fd = in[1], input]() {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = write(fd, input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    close(fd);
  });

  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (true) {
    pollfd pfd{out[0], POLLIN, 0};
    if (poll(&pfd, 1, 100) > 0) {
      ssize_t n = read(out[0], buffer, sizeof(buffer));
      if (n <= 0) break;
      result.output.append(buffer, static_cast<size_t>(n));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      result.output += "\n(timed out)";
      break;
    }
  }
  close(out[0]);
  writer.join();
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && result.output.find("(timed out)") == std::string::npos) {
    result.status = WEXITSTATUS(status);
  }
  return result;
}

std::string checkCommand(const std::vector<std::string>& argv, const std::string& input) {
  CommandResult result = runCommand(argv, input);
  if (result.status != 0) {
    std::string line;
    for (const auto& arg : argv)
      line += arg + " ";
    throw std::runtime_error("command failed (" + std::to_string(result.status) + "): " + line +
                             "\n" + result.output);
  }
  return result.output;
}

Process::Process(const std::vector<std::string>& argv, const std::string& logFile) {
  auto args = cArgs(argv);
  int log = open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) throw std::runtime_error("cannot open " + logFile);
  pid_ = fork();
  if (pid_ == 0) {
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(log, 1);
    dup2(log, 2);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(log);
}

Process::~Process() {
  stop();
}

bool Process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

void Process::stop() {
  if (!running()) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (!running()) return;
    std::this_thread::sleep_for(50ms);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

bool waitForPort(int port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

std::string waitForFile(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(path)) return readFile(path);
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("timed out waiting for " + path);
}

std::string pythonInterpreter() {
  return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

std::string scriptPath(const std::string& name) {
  return std::string(CRIO_TEST_SOURCE_DIR) + "/" + name;
}

std::string buildDir() {
  return CRIO_BUILD_DIR;
}

namespace {

std::vector<nlohmann::json> readJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(readFile(path));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace

DockerRegistry::DockerRegistry(const std::string& dir, const RegistryConfig& config) {
  int port = freePort();
  host_ = "127.0.0.1:" + std::to_string(port);
  std::string yaml = "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n";
  yaml += "storage:\n  filesystem:\n    rootdirectory: " + config.storage + "\n";
  yaml += "  delete:\n    enabled: true\n";
  yaml += "http:\n  addr: " + host_ + "\n";
  if (!config.tlsCert.empty()) {
    yaml += "  tls:\n    certificate: " + config.tlsCert + "\n    key: " + config.tlsKey + "\n";
    if (!config.clientCa.empty()) yaml += "    clientcas:\n      - " + config.clientCa + "\n";
  }
  if (!config.htpasswd.empty()) {
    yaml += "auth:\n  htpasswd:\n    realm: test-realm\n    path: " + config.htpasswd + "\n";
  } else if (!config.tokenRealm.empty()) {
    yaml += "auth:\n  token:\n    realm: " + config.tokenRealm + "\n    service: " + TOKEN_SERVICE +
            "\n    issuer: " + TOKEN_ISSUER + "\n    rootcertbundle: " + config.tokenCert + "\n";
  }
  std::string configPath = dir + "/registry-" + std::to_string(port) + ".yml";
  writeFile(configPath, yaml);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/docker-registry", "serve", configPath},
      dir + "/registry-" + std::to_string(port) + ".log");
  if (!waitForPort(port, 10s)) {
    throw std::runtime_error("docker-registry did not listen on " + host_ + ":\n" +
                             readFile(dir + "/registry-" + std::to_string(port) + ".log"));
  }
}

FakeRegistry::FakeRegistry(const std::string& dir, const nlohmann::json& spec) : dir_(dir) {
  writeFile(dir + "/fake-spec.json", spec.dump());
  process_ = std::make_unique<Process>(
      std::vector<std::string>{pythonInterpreter(), scriptPath("imaged-fake-registry.py"), "--spec",
                               dir + "/fake-spec.json", "--port-file", dir + "/fake-port", "--log",
                               dir + "/fake-requests.log"},
      dir + "/fake-registry.log");
  host_ = "127.0.0.1:" + waitForFile(dir + "/fake-port", 10s);
}

std::vector<nlohmann::json> FakeRegistry::requests() const {
  return readJsonLines(dir_ + "/fake-requests.log");
}

TokenServer::TokenServer(const std::string& dir) : dir_(dir), cert_(dir + "/token.crt") {
  checkCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                dir + "/token.key", "-out", cert_, "-days", "1", "-subj", "/CN=test token signer"});
  process_ = std::make_unique<Process>(
      std::vector<std::string>{pythonInterpreter(), scriptPath("imaged-token-server.py"), "--key",
                               dir + "/token.key", "--cert", cert_, "--issuer", TOKEN_ISSUER,
                               "--user", "alice:secret", "--refresh-token", "refresh-alice:alice",
                               "--port-file", dir + "/token-port", "--log",
                               dir + "/token-requests.log"},
      dir + "/token-server.log");
  port_ = std::stoi(waitForFile(dir + "/token-port", 10s));
}

std::vector<nlohmann::json> TokenServer::requests() const {
  return readJsonLines(dir_ + "/token-requests.log");
}

Imaged::Imaged(const std::string& dir, const ImagedConfig& config)
    : root_(dir + "/imaged-root"),
      socket_(root_ + "/run/imaged.sock"),
      logFile_(dir + "/imaged.log") {
  std::string conf = "[crio.image]\ninsecure_registries = [";
  for (size_t i = 0; i < config.insecureRegistries.size(); ++i) {
    conf += (i > 0 ? ", \"" : "\"") + config.insecureRegistries[i] + "\"";
  }
  conf += "]\npull_progress_timeout = \"" + config.progressTimeout + "\"\n";
  writeFile(root_ + "/etc/crio/crio.conf", conf);
  // Pulls fail without a policy, as in containers/image.
  writeFile(root_ + "/etc/containers/policy.json",
            R"({"default": [{"type": "insecureAcceptAnything"}]})");
  makeDirs(certsDir());
  process_ = std::make_unique<Process>(
      std::vector<std::string>{buildDir() + "/crio-imaged/crio-imaged", "--root", root_, "--listen",
                               socket_, "--log-level", "debug"},
      logFile_);
  // The socket file appears at bind(), before listen(): wait until a connection succeeds.
  std::vector<uid_t> allowed = {0};
  if (struct passwd* nobody = getpwnam("nobody")) allowed.push_back(nobody->pw_uid);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (true) {
    try {
      close(ipc::connectUnixSocket(socket_, allowed));
      return;
    } catch (const Error&) {
      if (std::chrono::steady_clock::now() > deadline || !process_->running()) {
        throw std::runtime_error("crio-imaged did not start:\n" + readFile(logFile_));
      }
    }
    std::this_thread::sleep_for(20ms);
  }
}

ImagedClient::ImagedClient(const std::string& socket)
    : io_(kj::heap<kj::AsyncIoContext>(kj::setupAsyncIo())) {
  std::vector<uid_t> allowed = {0};
  if (struct passwd* nobody = getpwnam("nobody")) allowed.push_back(nobody->pw_uid);
  int fd = ipc::connectUnixSocket(socket, allowed);
  stream_ =
      io_->lowLevelProvider->wrapUnixSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  client_ = kj::heap<capnp::TwoPartyClient>(*stream_, 4);
  imaged_ = kj::heap<schema::Imaged::Client>(client_->bootstrap().castAs<schema::Imaged>());
}

ImagedClient::~ImagedClient() {
  imaged_ = nullptr;
  client_ = nullptr;
  stream_ = nullptr;
}

template <typename T>
T ImagedClient::wait(kj::Promise<T>&& promise) {
  try {
    return promise.wait(io_->waitScope);
  } catch (const kj::Exception& e) {
    throw ipc::fromKjException(e, "crio-imaged");
  }
}

schema::Pull::Client ImagedClient::resolve(const std::string& reference,
                                           const Credentials& credentials) {
  auto request = imaged_->resolveRequest();
  request.setReference(reference);
  auto given = request.initCredentials();
  given.setUsername(credentials.username);
  given.setPassword(credentials.password);
  given.setAuth(credentials.auth);
  given.setIdentityToken(credentials.identityToken);
  given.setRegistryToken(credentials.registryToken);
  auto response = wait(request.send());
  return response.getPull();
}

ImageView ImagedClient::image(schema::Pull::Client& pull) {
  auto response = wait(pull.imageRequest().send());
  auto image = response.getImage();
  ImageView view;
  view.name = image.getName();
  view.repoDigest = image.getRepoDigest();
  view.manifestDigest = image.getManifestDigest();
  view.manifestMediaType = image.getManifestMediaType();
  auto manifest = image.getManifest();
  view.manifest.assign(reinterpret_cast<const char*>(manifest.begin()), manifest.size());
  view.configDigest = image.getConfigDigest();
  auto config = image.getConfig();
  view.config.assign(reinterpret_cast<const char*>(config.begin()), config.size());
  for (auto layer : image.getLayers()) {
    view.layers.push_back(
        {layer.getDigest(), layer.getSize(), layer.getMediaType(), layer.getDiffId()});
  }
  return view;
}

kj::Promise<kj::AutoCloseFd> ImagedClient::fetchPromise(schema::Pull::Client& pull,
                                                        const std::string& digest) {
  auto request = pull.fetchBlobRequest();
  request.setDigest(digest);
  return request.send().then([](capnp::Response<schema::Pull::FetchBlobResults>&& response) {
    auto file = response.getFile();
    // The descriptor belongs to the response message: duplicate it before that is dropped.
    return file.getFd()
        .then([](kj::Maybe<int> fd) -> kj::AutoCloseFd {
          KJ_IF_MAYBE (value, fd) {
            return kj::AutoCloseFd(fcntl(*value, F_DUPFD_CLOEXEC, 0));
          }
          KJ_FAIL_REQUIRE("the FileHandle came without a descriptor");
        })
        .attach(kj::mv(response), kj::mv(file));
  });
}

kj::AutoCloseFd ImagedClient::fetch(schema::Pull::Client& pull, const std::string& digest) {
  return wait(fetchPromise(pull, digest));
}

std::vector<kj::AutoCloseFd> ImagedClient::fetchAll(schema::Pull::Client& pull,
                                                    const std::vector<std::string>& digests) {
  std::vector<schema::Pull::Client> pulls;
  for (size_t i = 0; i < digests.size(); ++i)
    pulls.emplace_back(pull);
  return fetchEach(pulls, digests);
}

std::vector<kj::AutoCloseFd> ImagedClient::fetchEach(std::vector<schema::Pull::Client>& pulls,
                                                     const std::vector<std::string>& digests) {
  kj::Vector<kj::Promise<kj::AutoCloseFd>> promises;
  for (size_t i = 0; i < digests.size(); ++i)
    promises.add(fetchPromise(pulls[i], digests[i]));
  auto all = wait(kj::joinPromises(promises.releaseAsArray()));
  std::vector<kj::AutoCloseFd> out;
  for (auto& fd : all)
    out.push_back(kj::mv(fd));
  return out;
}

std::vector<std::string> ImagedClient::candidates(const std::string& reference) {
  auto request = imaged_->candidatesRequest();
  request.setReference(reference);
  auto response = wait(request.send());
  std::vector<std::string> names;
  for (auto name : response.getNames())
    names.push_back(name);
  return names;
}

ipc::DaemonInfo ImagedClient::info() {
  auto response = wait(imaged_->infoRequest().send());
  return ipc::readDaemonInfo(response.getInfo());
}

std::string sha256OfFd(int fd) {
  Sha256 hasher;
  std::vector<char> buffer(1 << 20);
  off_t offset = 0;
  ssize_t n;
  while ((n = pread(fd, buffer.data(), buffer.size(), offset)) > 0) {
    hasher.update(buffer.data(), static_cast<size_t>(n));
    offset += n;
  }
  return hasher.digest().text();
}

uint64_t sizeOfFd(int fd) {
  struct stat info {};
  fstat(fd, &info);
  return static_cast<uint64_t>(info.st_size);
}

}  // namespace crio::imaged::test
