#include "crio-cri/oci/devices.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <filesystem>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using runtime::v1::Device;
using testing::TempDir;

class OciDevices : public ::testing::Test {
 protected:
  void SetUp() override { request_.devices = &devices_; }

  Device& add(const std::string& hostPath, const std::string& containerPath,
              const std::string& permissions) {
    Device* d = devices_.Add();
    d->set_host_path(hostPath);
    d->set_container_path(containerPath);
    d->set_permissions(permissions);
    return *d;
  }

  // Makes a character device node (needs CAP_MKNOD, which the tests have as root).
  void makeNode(const std::string& path, int major, int minor) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    ASSERT_EQ(mknod(path.c_str(), S_IFCHR | 0620, makedev(major, minor)), 0) << path;
  }

  static const nlohmann::json* device(const DevicesResult& result, const std::string& path) {
    for (const auto& d : result.devices) {
      if (d["path"] == path) return &d;
    }
    return nullptr;
  }

  google::protobuf::RepeatedPtrField<Device> devices_;
  DevicesRequest request_;
  TempDir dir_;
};

TEST_F(OciDevices, DefaultRulesDenyThenAllowStandardNodes) {
  DevicesResult result = buildDevices(request_);
  EXPECT_TRUE(result.devices.empty());
  ASSERT_FALSE(result.cgroupRules.empty());
  EXPECT_EQ(result.cgroupRules[0], (nlohmann::json{{"allow", false}, {"access", "rwm"}}));
  bool nullAllowed = false;
  for (const auto& rule : result.cgroupRules) {
    if (rule.value("major", -1) == 1 && rule.value("minor", -1) == 3) {
      nullAllowed = rule["allow"] == true && rule["access"] == "rwm";
    }
  }
  EXPECT_TRUE(nullAllowed);
}

TEST_F(OciDevices, DeviceFromDevNull) {
  add("/dev/null", "/dev/mynull", "rw");
  DevicesResult result = buildDevices(request_);
  const nlohmann::json* d = device(result, "/dev/mynull");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ((*d)["type"], "c");
  EXPECT_EQ((*d)["major"], 1);
  EXPECT_EQ((*d)["minor"], 3);
  EXPECT_EQ((*d)["fileMode"], 0666);
  EXPECT_EQ((*d)["uid"], 0);
  EXPECT_EQ(result.cgroupRules.back(),
            (nlohmann::json{
                {"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rw"}}));
}

TEST_F(OciDevices, EmptyContainerPathAndPermissionsDefault) {
  add("/dev/zero", "", "");
  DevicesResult result = buildDevices(request_);
  ASSERT_NE(device(result, "/dev/zero"), nullptr);
  EXPECT_EQ(result.cgroupRules.back()["access"], "rwm");
}

TEST_F(OciDevices, FolderAddsEveryNode) {
  makeNode(dir_.path() + "/gpu/card0", 226, 0);
  makeNode(dir_.path() + "/gpu/render/renderD128", 226, 128);
  dir_.write("gpu/readme", "not a device");
  add(dir_.path() + "/gpu", "/dev/dri", "rw");
  DevicesResult result = buildDevices(request_);
  ASSERT_EQ(result.devices.size(), 2u);
  ASSERT_NE(device(result, "/dev/dri/card0"), nullptr);
  EXPECT_EQ((*device(result, "/dev/dri/render/renderD128"))["minor"], 128);
}

TEST_F(OciDevices, InvalidDevicesAreNamed) {
  add("/dev/null", "/dev/x", "rwx");
  EXPECT_CRIO_ERROR(buildDevices(request_), ErrorCategory::INVALID_ARGUMENT,
                    "devices[0].permissions \"rwx\"");
  devices_.Clear();
  add("dev/null", "/dev/x", "rw");
  EXPECT_CRIO_ERROR(buildDevices(request_), ErrorCategory::INVALID_ARGUMENT,
                    "devices[0].host_path \"dev/null\" is not an absolute path");
  devices_.Clear();
  add("/dev/null", "/dev/../x", "rw");
  EXPECT_CRIO_ERROR(buildDevices(request_), ErrorCategory::INVALID_ARGUMENT,
                    "devices[0].container_path");
  devices_.Clear();
  add(dir_.write("file", "x"), "/dev/x", "rw");
  EXPECT_CRIO_ERROR(buildDevices(request_), ErrorCategory::INVALID_ARGUMENT,
                    "is not a device node or a folder");
  devices_.Clear();
  add("/dev/does-not-exist", "/dev/x", "rw");
  EXPECT_CRIO_ERROR(buildDevices(request_), ErrorCategory::NOT_FOUND, "devices[0].host_path");
}

TEST_F(OciDevices, AdditionalDevicesFromConfig) {
  request_.additionalDevices = {"/dev/null:/dev/extra:r", "/dev/zero"};
  DevicesResult result = buildDevices(request_);
  ASSERT_NE(device(result, "/dev/extra"), nullptr);
  ASSERT_NE(device(result, "/dev/zero"), nullptr);

  request_.additionalDevices = {"null"};
  EXPECT_CRIO_ERROR(buildDevices(request_), ErrorCategory::INVALID_ARGUMENT,
                    "additional_devices entry \"null\"");
}

TEST_F(OciDevices, PrivilegedTakesHostDevicesAndAllowsAll) {
  makeNode(dir_.path() + "/dev/sda", 8, 0);
  makeNode(dir_.path() + "/dev/pts/0", 136, 0);
  makeNode(dir_.path() + "/dev/console", 5, 1);
  std::filesystem::create_symlink("sda", dir_.path() + "/dev/disk0");
  request_.privileged = true;
  request_.hostDevices = dir_.path() + "/dev";
  DevicesResult result = buildDevices(request_);
  EXPECT_NE(device(result, "/dev/sda"), nullptr);
  EXPECT_EQ(device(result, "/dev/pts/0"), nullptr);
  EXPECT_EQ(device(result, "/dev/console"), nullptr);
  EXPECT_EQ(device(result, "/dev/disk0"), nullptr);
  EXPECT_EQ(result.cgroupRules, nlohmann::json::parse(R"([{"allow": true, "access": "rwm"}])"));

  request_.privilegedWithoutHostDevices = true;
  result = buildDevices(request_);
  EXPECT_TRUE(result.devices.empty());
  EXPECT_EQ(result.cgroupRules[0]["allow"], false);
}

}  // namespace
}  // namespace crio::cri::oci
