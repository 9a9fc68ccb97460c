// Socket activation without systemd as PID 1: systemd-socket-activate creates the listening
// socket, starts the daemon on the first connection and passes the socket the way systemd does.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "tests/integration/suite.h"

namespace crio::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* ACTIVATOR = "/usr/bin/systemd-socket-activate";

TEST(SocketActivationTest, StoredStartsOnFirstConnection) {
  if (access(ACTIVATOR, X_OK) != 0) GTEST_SKIP() << ACTIVATOR << " is not installed";
  Suite suite;
  std::string socket = suite.root() + "/run/crio/stored.sock";
  std::filesystem::create_directories(suite.root() + "/run/crio");
  Process activator("activator",
                    {ACTIVATOR, "-l", socket, "--fdname=stored", daemonBinary("crio-stored"),
                     "--root", suite.root()},
                    suite.root() + "/logs/activator.log");
  ASSERT_TRUE(Suite::waitForSocket(socket, 5s)) << activator.log();

  suite.startImaged();
  suite.startCri();
  runtime::v1::RuntimeCondition condition;
  EXPECT_TRUE(suite.waitRuntimeReady(true, 5s, &condition)) << condition.message();
  EXPECT_NE(activator.log().find("serving"), std::string::npos) << activator.log();

  // The daemon leaves a socket it did not create in place.
  EXPECT_NE(activator.stop(SIGTERM, 5s), -1);
  EXPECT_TRUE(std::filesystem::exists(socket));
}

}  // namespace
}  // namespace crio::testing
