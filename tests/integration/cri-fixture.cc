#include "cri-fixture.h"

#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace crio::testing {

namespace test = crio::imaged::test;
using namespace std::chrono_literals;

TestRegistry::TestRegistry() {
  test::makeDirs(dir_ / "storage");
  registry_ =
      std::make_unique<test::DockerRegistry>(dir_.path(), test::RegistryConfig{dir_ / "storage"});
}

std::string TestRegistry::push(const std::string& name, const test::Image& image,
                               bool preserveDigests) {
  test::OciLayout layout(dir_ / ("layout-" + std::to_string(pushed_++)));
  layout.tag(name, image);
  layout.save();
  std::string reference = host() + "/test/" + name + ":1";
  std::vector<std::string> argv = {"skopeo", "copy", "--quiet", "--dest-tls-verify=false"};
  if (preserveDigests) argv.push_back("--preserve-digests");
  argv.push_back("oci:" + layout.dir() + ":" + name);
  argv.push_back("docker://" + reference);
  test::checkCommand(argv);
  return reference;
}

const std::string& TestRegistry::appImage() {
  if (!appImage_.empty()) return appImage_;
  test::Layer layer = test::makeLayer(
      {{"etc/passwd", APP_PASSWD}, {"etc/group", APP_GROUP}, {"work/marker", "in /work\n"}},
      test::Compression::GZIP, true);
  nlohmann::json process = {{"Entrypoint", {"/bin/sh", "-c"}},
                            {"Cmd", {"echo from-image-cmd; /bin/busybox sleep 1000"}},
                            {"Env", {"FROM_IMAGE=yes", "PATH=/bin"}},
                            {"WorkingDir", "/work"},
                            {"User", "app"}};
  appImage_ = push("app", test::makeImage({layer}, crio::imaged::hostPlatform(), process));
  return appImage_;
}

TestRegistry& testRegistry() {
  static TestRegistry instance;
  return instance;
}

bool onPath(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    if (access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void CriFixture::startSuite(const std::string& config) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (runc, overlay mounts)";
  for (const char* tool : {"runc", "skopeo", "docker-registry"}) {
    if (!onPath(tool)) GTEST_SKIP() << tool << " is not installed";
  }
  std::string text = "[crio.image]\ninsecure_registries = [\"" + testRegistry().host() + "\"]\n";
  suite_ = std::make_unique<Suite>(text + config);
  suite_->startAll();
  ASSERT_TRUE(suite_->waitRuntimeReady(true, 20s));
}

void CriFixture::TearDown() {
  if (!suite_) return;
  Process* cri = suite_->daemon("crio-cri");
  if (cri != nullptr && cri->running()) {
    runtime::v1::ListContainersRequest request;
    runtime::v1::ListContainersResponse response;
    if (suite_->runtime().ListContainers(rpcContext().get(), request, &response).ok()) {
      for (const auto& container : response.containers())
        remove(container.id());
    }
    for (auto it = pods_.begin(); it != pods_.end();) {
      std::string id = (it++)->first;
      removePod(id);
    }
  }
  suite_.reset();
}

std::string CriFixture::pull(const std::string& image) {
  runtime::v1::PullImageRequest request;
  request.mutable_image()->set_image(image);
  runtime::v1::PullImageResponse response;
  auto status = suite_->images().PullImage(rpcContext(60s).get(), request, &response);
  EXPECT_TRUE(status.ok()) << "pull " << image << ": " << status.error_message();
  return response.image_ref();
}

runtime::v1::PodSandboxConfig CriFixture::podConfig(const std::string& name, bool hostNetwork) {
  runtime::v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_namespace_("default");
  config.mutable_metadata()->set_uid("uid-" + name);
  config.set_hostname(name);
  config.set_log_directory(suite_->root() + "/pod-logs/" + name);
  auto* namespaces =
      config.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  namespaces->set_network(hostNetwork ? runtime::v1::NODE : runtime::v1::POD);
  namespaces->set_pid(runtime::v1::CONTAINER);
  return config;
}

grpc::Status CriFixture::tryRunPod(const runtime::v1::PodSandboxConfig& config,
                                   const std::string& handler, std::string* id) {
  runtime::v1::RunPodSandboxRequest request;
  *request.mutable_config() = config;
  request.set_runtime_handler(handler);
  runtime::v1::RunPodSandboxResponse response;
  auto status = suite_->runtime().RunPodSandbox(rpcContext(30s).get(), request, &response);
  *id = response.pod_sandbox_id();
  if (status.ok()) pods_[*id] = config;
  return status;
}

std::string CriFixture::runPod(const runtime::v1::PodSandboxConfig& config,
                               const std::string& handler) {
  std::string id;
  auto status = tryRunPod(config, handler, &id);
  EXPECT_TRUE(status.ok()) << "RunPodSandbox " << config.metadata().name() << ": "
                           << status.error_message();
  return status.ok() ? id : "";
}

runtime::v1::PodSandboxStatus CriFixture::podStatus(const std::string& podId) {
  runtime::v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(podId);
  runtime::v1::PodSandboxStatusResponse response;
  auto status = suite_->runtime().PodSandboxStatus(rpcContext().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

runtime::v1::ContainerConfig CriFixture::containerConfig(const std::string& name,
                                                         const std::string& image,
                                                         std::vector<std::string> command) {
  runtime::v1::ContainerConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_image()->set_image(image);
  for (auto& arg : command)
    config.add_command(arg);
  config.set_log_path(name + ".log");
  return config;
}

grpc::Status CriFixture::create(const std::string& podId,
                                const runtime::v1::ContainerConfig& config, std::string* id) {
  runtime::v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(podId);
  *request.mutable_config() = config;
  *request.mutable_sandbox_config() = pods_[podId];
  runtime::v1::CreateContainerResponse response;
  auto status = suite_->runtime().CreateContainer(rpcContext(60s).get(), request, &response);
  *id = response.container_id();
  return status;
}

grpc::Status CriFixture::start(const std::string& id) {
  runtime::v1::StartContainerRequest request;
  request.set_container_id(id);
  runtime::v1::StartContainerResponse response;
  return suite_->runtime().StartContainer(rpcContext(30s).get(), request, &response);
}

std::string CriFixture::createAndStart(const std::string& podId,
                                       const runtime::v1::ContainerConfig& config) {
  std::string id;
  auto status = create(podId, config, &id);
  EXPECT_TRUE(status.ok()) << "CreateContainer " << config.metadata().name() << ": "
                           << status.error_message();
  if (!status.ok()) return "";
  status = start(id);
  EXPECT_TRUE(status.ok()) << "StartContainer " << config.metadata().name() << ": "
                           << status.error_message();
  return id;
}

runtime::v1::ContainerStatus CriFixture::status(const std::string& id) {
  runtime::v1::ContainerStatusRequest request;
  request.set_container_id(id);
  runtime::v1::ContainerStatusResponse response;
  auto s = suite_->runtime().ContainerStatus(rpcContext().get(), request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response.status();
}

runtime::v1::ContainerStatus CriFixture::waitExited(const std::string& id,
                                                    std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto s = status(id);
    if (s.state() == runtime::v1::CONTAINER_EXITED || std::chrono::steady_clock::now() > deadline) {
      return s;
    }
    std::this_thread::sleep_for(100ms);
  }
}

grpc::Status CriFixture::stop(const std::string& id, int64_t timeoutSeconds) {
  runtime::v1::StopContainerRequest request;
  request.set_container_id(id);
  request.set_timeout(timeoutSeconds);
  runtime::v1::StopContainerResponse response;
  return suite_->runtime().StopContainer(rpcContext(60s).get(), request, &response);
}

grpc::Status CriFixture::remove(const std::string& id) {
  runtime::v1::RemoveContainerRequest request;
  request.set_container_id(id);
  runtime::v1::RemoveContainerResponse response;
  return suite_->runtime().RemoveContainer(rpcContext(60s).get(), request, &response);
}

grpc::Status CriFixture::removePod(const std::string& podId) {
  runtime::v1::RemovePodSandboxRequest request;
  request.set_pod_sandbox_id(podId);
  runtime::v1::RemovePodSandboxResponse response;
  auto status = suite_->runtime().RemovePodSandbox(rpcContext(60s).get(), request, &response);
  if (status.ok()) pods_.erase(podId);
  return status;
}

runtime::v1::ExecSyncResponse CriFixture::exec(const std::string& id, std::vector<std::string> cmd,
                                               int64_t timeoutSeconds, grpc::Status* outStatus) {
  runtime::v1::ExecSyncRequest request;
  request.set_container_id(id);
  for (auto& arg : cmd)
    request.add_cmd(arg);
  request.set_timeout(timeoutSeconds);
  runtime::v1::ExecSyncResponse response;
  auto s = suite_->runtime().ExecSync(rpcContext(60s).get(), request, &response);
  if (outStatus) {
    *outStatus = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  return response;
}

std::string CriFixture::logOutput(const runtime::v1::ContainerStatus& status) {
  std::istringstream in(readText(status.log_path()));
  std::regex line(R"((\S+) (stdout|stderr) (P|F) (.*))");
  std::string out;
  std::string text;
  while (std::getline(in, text)) {
    std::smatch m;
    if (!std::regex_match(text, m, line)) {
      ADD_FAILURE() << "not a CRI log line: " << text;
      continue;
    }
    out += m[4].str();
    if (m[3] == "F") out += "\n";
  }
  return out;
}

bool CriFixture::restartCri() {
  suite_->daemon("crio-cri")->kill9();
  suite_->forget("crio-cri");
  return startCri();
}

bool CriFixture::startCri() {
  suite_->startCri();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (suite_->waitRuntimeReady(true, 2s)) return true;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  return false;
}

}  // namespace crio::testing
