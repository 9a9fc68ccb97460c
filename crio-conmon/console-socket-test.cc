#include "crio-conmon/console-socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>

namespace crio::conmon {
namespace {

// Does what the runtime does: connect and send `fd` with its name as payload.
void sendTerminal(const std::string& path, int fd) {
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  char name[] = "/dev/pts/test";
  struct iovec iov = {name, sizeof name};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ASSERT_GT(sendmsg(sock, &msg, 0), 0);
  close(sock);
}

class ConsoleSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/crio-console-test-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
};

TEST_F(ConsoleSocketTest, ReceivesThePtyMaster) {
  std::string path = dir_ + "/console.sock";
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(slave, 0);
  {
    ConsoleSocket console(io_->unixEventPort, path);
    auto received = console.receive();
    sendTerminal(path, master);
    close(master);
    kj::AutoCloseFd fd = received.wait(io_->waitScope);

    ASSERT_EQ(write(slave, "hi\n", 3), 3);
    char buf[16] = {};
    ssize_t n = -1;
    for (int i = 0; i < 100 && n < 0; ++i) {
      n = read(fd.get(), buf, sizeof buf);
      if (n < 0) usleep(10000);
    }
    EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "hi\r\n");
    EXPECT_NE(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0);
  }
  close(slave);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(ConsoleSocketTest, ClosingWithoutAFdIsAnError) {
  std::string path = dir_ + "/console.sock";
  ConsoleSocket console(io_->unixEventPort, path);
  auto received = console.receive();
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(sock);
  EXPECT_ANY_THROW(received.wait(io_->waitScope));
}

TEST_F(ConsoleSocketTest, TooLongPathIsRejected) {
  EXPECT_ANY_THROW(ConsoleSocket(io_->unixEventPort, dir_ + "/" + std::string(120, 'x')));
}

}  // namespace
}  // namespace crio::conmon
