#include "ipc/unix-socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace crio::ipc {
namespace {

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-socket-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(UnixSocketTest, ConnectsAndSeesThePeer) {
  std::string path = dir_ + "/s.sock";
  int listener = listenUnixSocket(path, 0600, "test");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  int client = connectUnixSocket(path, {getuid()});
  PeerCredentials peer = peerCredentials(client);
  EXPECT_EQ(peer.uid, getuid());
  EXPECT_EQ(peer.pid, getpid());
  close(client);
  close(listener);
}

TEST_F(UnixSocketTest, StaleSocketReplaced) {
  std::string path = dir_ + "/s.sock";
  close(listenUnixSocket(path, 0600, "test"));
  int again = listenUnixSocket(path, 0600, "test");
  EXPECT_GE(again, 0);
  close(again);

  std::string file = dir_ + "/plain";
  std::ofstream(file) << "data";
  EXPECT_THROW(listenUnixSocket(file, 0600, "test"), Error);
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST_F(UnixSocketTest, LiveSocketIsNotTakenOver) {
  std::string path = dir_ + "/s.sock";
  int first = listenUnixSocket(path, 0600, "test");
  try {
    listenUnixSocket(path, 0600, "test");
    FAIL() << "a second listener replaced a live socket";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::ALREADY_EXISTS);
  }
  int client = connectUnixSocket(path, {getuid()});
  EXPECT_GE(client, 0);
  close(client);
  close(first);
}

TEST_F(UnixSocketTest, WorldWritableFolderIsRejected) {
  std::string folder = dir_ + "/open";
  std::filesystem::create_directory(folder);
  chmod(folder.c_str(), 01777);
  try {
    listenUnixSocket(folder + "/s.sock", 0600, "test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
    EXPECT_NE(std::string(e.what()).find("writable by every user"), std::string::npos);
  }
}

TEST_F(UnixSocketTest, ReplacedSocketIsNotRemoved) {
  std::string path = dir_ + "/s.sock";
  int mine = listenUnixSocket(path, 0600, "test");
  // Another process replaces the file. The old inode stays alive through a second link, so the
  // replacement cannot reuse its number.
  ASSERT_EQ(link(path.c_str(), (dir_ + "/kept").c_str()), 0);
  std::filesystem::remove(path);
  int replacement = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(replacement, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  removeOwnSocket(path);
  EXPECT_TRUE(std::filesystem::exists(path));
  close(replacement);
  close(mine);
}

TEST_F(UnixSocketTest, RelativePathIsRejected) {
  EXPECT_THROW(listenUnixSocket("relative.sock", 0600, "test"), Error);
}

TEST_F(UnixSocketTest, NothingListeningIsUnavailable) {
  try {
    connectUnixSocket(dir_ + "/absent.sock", {getuid()});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::UNAVAILABLE);
  }
}

TEST_F(UnixSocketTest, SocketOfAnotherOwnerIsRefused) {
  std::string path = dir_ + "/s.sock";
  int listener = listenUnixSocket(path, 0600, "test");
  try {
    connectUnixSocket(path, {getuid() + 12345});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::PERMISSION_DENIED);
  }
  close(listener);
}

TEST_F(UnixSocketTest, WorldWritableSocketIsRefused) {
  std::string path = dir_ + "/s.sock";
  int listener = listenUnixSocket(path, 0666, "test");
  EXPECT_THROW(connectUnixSocket(path, {getuid()}), Error);
  close(listener);
}

TEST_F(UnixSocketTest, OverlongPathIsAClearError) {
  std::string path = dir_ + "/" + std::string(200, 'x');
  try {
    listenUnixSocket(path, 0600, "test");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("longer than"), std::string::npos);
  }
}

}  // namespace
}  // namespace crio::ipc
