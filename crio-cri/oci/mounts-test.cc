#include "crio-cri/oci/mounts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "crio-cri/oci/test-support.h"

namespace crio::cri::oci {
namespace {

using runtime::v1::Mount;
using testing::TempDir;

class OciMounts : public ::testing::Test {
 protected:
  void SetUp() override {
    hostDir_ = dir_.mkdir("host");
    request_.mounts = &mounts_;
    request_.mountInfoPath = dir_.write("mountinfo",
                                        "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
                                        "40 27 0:40 / " +
                                            dir_.path() +
                                            "/shared rw shared:5 - tmpfs tmpfs rw\n"
                                            "41 27 0:41 / " +
                                            dir_.path() + "/slave rw master:5 - tmpfs tmpfs rw\n");
    dir_.mkdir("shared");
    dir_.mkdir("slave");
  }

  Mount& add(const std::string& containerPath, const std::string& hostPath) {
    Mount* m = mounts_.Add();
    m->set_container_path(containerPath);
    m->set_host_path(hostPath);
    return *m;
  }

  const nlohmann::json* find(const nlohmann::json& mounts, const std::string& destination) {
    for (const auto& m : mounts) {
      if (m["destination"] == destination) return &m;
    }
    return nullptr;
  }

  static bool hasOption(const nlohmann::json& m, const std::string& option) {
    const auto& options = m["options"];
    return std::find(options.begin(), options.end(), option) != options.end();
  }

  TempDir dir_;
  std::string hostDir_;
  google::protobuf::RepeatedPtrField<Mount> mounts_;
  MountsRequest request_;
};

TEST_F(OciMounts, StandardSet) {
  MountsResult result = buildMounts(request_);
  std::vector<std::string> destinations;
  for (const auto& m : result.mounts)
    destinations.push_back(m["destination"]);
  EXPECT_EQ(destinations, (std::vector<std::string>{"/proc", "/dev", "/sys", "/dev/pts",
                                                    "/dev/mqueue", "/dev/shm", "/sys/fs/cgroup"}));
  EXPECT_TRUE(hasOption(*find(result.mounts, "/sys"), "ro"));
  EXPECT_TRUE(hasOption(*find(result.mounts, "/sys/fs/cgroup"), "ro"));
  EXPECT_EQ((*find(result.mounts, "/dev/shm"))["type"], "tmpfs");
  EXPECT_TRUE(hasOption(*find(result.mounts, "/dev/shm"), "size=65536k"));
  EXPECT_EQ(result.rootfsPropagation, "");
}

TEST_F(OciMounts, PrivilegedSysIsWritable) {
  request_.privileged = true;
  MountsResult result = buildMounts(request_);
  EXPECT_TRUE(hasOption(*find(result.mounts, "/sys"), "rw"));
  EXPECT_TRUE(hasOption(*find(result.mounts, "/sys/fs/cgroup"), "rw"));
}

TEST_F(OciMounts, PodFilesFollowReadOnlyRoot) {
  request_.podFiles = {"/run/pod/resolv.conf", "/run/pod/hostname", "/run/pod/hosts",
                       "/run/pod/shm"};
  request_.readonlyRootfs = true;
  MountsResult result = buildMounts(request_);
  const nlohmann::json* resolv = find(result.mounts, "/etc/resolv.conf");
  ASSERT_NE(resolv, nullptr);
  EXPECT_EQ((*resolv)["source"], "/run/pod/resolv.conf");
  EXPECT_TRUE(hasOption(*resolv, "ro"));
  EXPECT_TRUE(hasOption(*resolv, "noexec"));
  ASSERT_NE(find(result.mounts, "/etc/hostname"), nullptr);
  ASSERT_NE(find(result.mounts, "/etc/hosts"), nullptr);
  const nlohmann::json* shm = find(result.mounts, "/dev/shm");
  EXPECT_EQ((*shm)["type"], "bind");
  EXPECT_EQ((*shm)["source"], "/run/pod/shm");
}

TEST_F(OciMounts, RequestMountReplacesPodHosts) {
  request_.podFiles.hosts = "/run/pod/hosts";
  std::string kubeletHosts = dir_.write("etc-hosts", "127.0.0.1 localhost\n");
  add("/etc/hosts", kubeletHosts);
  MountsResult result = buildMounts(request_);
  int count = 0;
  for (const auto& m : result.mounts)
    count += m["destination"] == "/etc/hosts";
  EXPECT_EQ(count, 1);
  EXPECT_EQ((*find(result.mounts, "/etc/hosts"))["source"], kubeletHosts);
}

TEST_F(OciMounts, ReadOnlyConfigAddsTmpfs) {
  request_.readOnlyTmpfs = true;
  MountsResult result = buildMounts(request_);
  for (const char* destination : {"/run", "/tmp", "/var/tmp"}) {
    const nlohmann::json* m = find(result.mounts, destination);
    ASSERT_NE(m, nullptr) << destination;
    EXPECT_EQ((*m)["type"], "tmpfs");
  }
}

TEST_F(OciMounts, BindMountOptionsAndPropagation) {
  Mount& data = add("/data", hostDir_);
  data.set_readonly(true);
  data.add_mount_options("noexec");
  Mount& slave = add("/slave", dir_.path() + "/slave/sub");
  slave.set_propagation(runtime::v1::PROPAGATION_HOST_TO_CONTAINER);

  MountsResult result = buildMounts(request_);
  const nlohmann::json* m = find(result.mounts, "/data");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ((*m)["type"], "bind");
  EXPECT_EQ((*m)["source"], hostDir_);
  EXPECT_EQ((*m)["options"], nlohmann::json({"rbind", "rprivate", "ro", "noexec"}));
  EXPECT_EQ((*find(result.mounts, "/slave"))["options"], nlohmann::json({"rbind", "rslave", "rw"}));
  EXPECT_EQ(result.rootfsPropagation, "rslave");
}

TEST_F(OciMounts, BidirectionalNeedsSharedMount) {
  add("/shared", dir_.path() + "/shared").set_propagation(runtime::v1::PROPAGATION_BIDIRECTIONAL);
  EXPECT_EQ(buildMounts(request_).rootfsPropagation, "rshared");

  mounts_.Clear();
  add("/slave", dir_.path() + "/slave").set_propagation(runtime::v1::PROPAGATION_BIDIRECTIONAL);
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::FAILED_PRECONDITION,
                    "which is not shared as the requested propagation needs");
}

TEST_F(OciMounts, HostToContainerNeedsSharedOrSlave) {
  add("/private", hostDir_).set_propagation(runtime::v1::PROPAGATION_HOST_TO_CONTAINER);
  EXPECT_CRIO_ERROR(
      buildMounts(request_), ErrorCategory::FAILED_PRECONDITION,
      "mounts[0]: " + hostDir_ + " is on the mount /, which is not shared or a slave");
}

TEST_F(OciMounts, MissingHostPathIsCreated) {
  std::string missing = dir_.path() + "/new/folder";
  add("/new", missing);
  buildMounts(request_);
  struct stat st {};
  ASSERT_EQ(stat(missing.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(OciMounts, HostPathLinksAreResolved) {
  std::string link = dir_.path() + "/link";
  std::filesystem::create_symlink(hostDir_, link);
  add("/data", link);
  EXPECT_EQ((*find(buildMounts(request_).mounts, "/data"))["source"], hostDir_);
}

TEST_F(OciMounts, ParentsSortBeforeChildren) {
  add("/a/b/c", hostDir_);
  add("/a", hostDir_);
  add("/a/b", hostDir_);
  MountsResult result = buildMounts(request_);
  std::vector<std::string> order;
  for (const auto& m : result.mounts) {
    std::string destination = m["destination"];
    if (destination.rfind("/a", 0) == 0) order.push_back(destination);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"/a", "/a/b", "/a/b/c"}));
}

struct InvalidMountCase {
  const char* name;
  const char* containerPath;
  const char* hostPath;
  const char* fragment;
};

TEST_F(OciMounts, InvalidPathsNameTheField) {
  const InvalidMountCase cases[] = {
      {"relative", "data", "/tmp", "mounts[0].container_path \"data\" is not an absolute path"},
      {"dot dot", "/data/../etc", "/tmp", "mounts[0].container_path \"/data/../etc\" contains"},
      {"root", "/", "/tmp", "mounts[0].container_path must not be \"/\""},
      {"relative host", "/data", "tmp", "mounts[0].host_path \"tmp\" is not an absolute path"},
      {"empty host", "/data", "", "mounts[0].host_path is empty"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    mounts_.Clear();
    add(c.containerPath, c.hostPath);
    EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::INVALID_ARGUMENT, c.fragment);
  }
}

TEST_F(OciMounts, DuplicateDestinationIsRejected) {
  add("/data", hostDir_);
  add("/data/", hostDir_);
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::INVALID_ARGUMENT,
                    "mounts[1].container_path \"/data\" is also the destination of mounts[0]");
}

TEST_F(OciMounts, UnknownMountOptionIsRejected) {
  add("/data", hostDir_).add_mount_options("remount");
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::INVALID_ARGUMENT,
                    "mounts[0].mount_options: \"remount\" is not an allowed option");
}

TEST_F(OciMounts, RecursiveReadOnly) {
  Mount& m = add("/data", hostDir_);
  m.set_recursive_read_only(true);
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::INVALID_ARGUMENT, "needs readonly");
  m.set_readonly(true);
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::UNIMPLEMENTED,
                    "recursive read-only mounts are not supported");
}

TEST_F(OciMounts, ImageAndIdmappedMountsAreUnimplemented) {
  add("/data", hostDir_).mutable_image()->set_image("busybox");
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::UNIMPLEMENTED, "image volumes");
  mounts_.Clear();
  add("/data", hostDir_).add_uidmappings()->set_length(1);
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::UNIMPLEMENTED, "idmapped");
}

TEST_F(OciMounts, TooManyMountsAreRejected) {
  for (size_t i = 0; i <= MAX_REQUEST_MOUNTS; i++)
    add("/m" + std::to_string(i), hostDir_);
  EXPECT_CRIO_ERROR(buildMounts(request_), ErrorCategory::INVALID_ARGUMENT,
                    "more than the bound of 1024");
}

TEST_F(OciMounts, ImageVolumesMkdir) {
  std::string root = dir_.mkdir("rootfs");
  RootfsDirectory rootfs(root);
  request_.rootfs = &rootfs;
  request_.imageVolumes = {"/var/lib/data", "/cache"};
  request_.uid = 1000;
  request_.gid = 1000;
  add("/cache", hostDir_);
  MountsResult result = buildMounts(request_);

  struct stat st {};
  ASSERT_EQ(stat((root + "/var/lib/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_FALSE(std::filesystem::exists(root + "/cache"));
  EXPECT_EQ(find(result.mounts, "/var/lib/data"), nullptr);
}

TEST_F(OciMounts, ImageVolumesBindAndIgnore) {
  request_.imageVolumes = {"/data"};
  request_.imageVolumesMode = "bind";
  request_.containerDir = dir_.mkdir("container");
  MountsResult result = buildMounts(request_);
  const nlohmann::json* volume = find(result.mounts, "/data");
  ASSERT_NE(volume, nullptr);
  std::string source = (*volume)["source"];
  EXPECT_TRUE(std::filesystem::is_directory(source));
  EXPECT_EQ(source.rfind(request_.containerDir, 0), 0u);

  request_.imageVolumesMode = "ignore";
  EXPECT_EQ(find(buildMounts(request_).mounts, "/data"), nullptr);
}

}  // namespace
}  // namespace crio::cri::oci
