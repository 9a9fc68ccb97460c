#include "crio-conmon/options.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/error.h"

namespace crio::conmon {
namespace {

MonitorOptions parse(std::vector<std::string> args) {
  CLI::App app;
  MonitorOptions options;
  addMonitorFlags(app, options);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  validateMonitorOptions(options);
  return options;
}

std::vector<std::string> required() {
  return {"--container-id", "abc",      "--bundle", "/b",         "--runtime",
          "/usr/sbin/runc", "--socket", "/s",       "--exit-dir", "/run/exits"};
}

ErrorCategory categoryOf(std::vector<std::string> args) {
  try {
    parse(std::move(args));
  } catch (const Error& e) {
    return e.category();
  } catch (const CLI::ParseError&) {
    return ErrorCategory::INVALID_ARGUMENT;
  }
  return ErrorCategory::INTERNAL;
}

TEST(MonitorOptionsTest, DefaultsAreFilledIn) {
  auto options = parse(required());
  EXPECT_EQ(options.containerPidFile, "/b/pidfile");
  EXPECT_EQ(options.logSizeMax, -1);
  EXPECT_EQ(options.createTimeoutSeconds, DEFAULT_CREATE_TIMEOUT_SECONDS);
  EXPECT_FALSE(options.tty);
  EXPECT_FALSE(options.openStdin);
  EXPECT_EQ(options.readyFd, -1);
}

TEST(MonitorOptionsTest, RuntimeArgsMayLookLikeOptions) {
  auto args = required();
  args.insert(args.end(), {"--runtime-arg=--systemd-cgroup", "--runtime-arg=--debug", "--tty"});
  auto options = parse(args);
  EXPECT_EQ(options.runtimeArgs, (std::vector<std::string>{"--systemd-cgroup", "--debug"}));
  EXPECT_TRUE(options.tty);
}

TEST(MonitorOptionsTest, ContainerIdIsAFileName) {
  for (const char* id : {"../x", "a/b", ".hidden", "", "a b"}) {
    auto args = required();
    args[1] = id;
    EXPECT_EQ(categoryOf(args), ErrorCategory::INVALID_ARGUMENT) << id;
  }
  auto args = required();
  args[1] = "k8s_ctr-1.2_x";
  EXPECT_EQ(parse(args).containerId, "k8s_ctr-1.2_x");
}

TEST(MonitorOptionsTest, PathsMustBeAbsolute) {
  auto args = required();
  args[3] = "relative/bundle";
  EXPECT_EQ(categoryOf(args), ErrorCategory::INVALID_ARGUMENT);
  args = required();
  args.insert(args.end(), {"--log-path", "ctr.log"});
  EXPECT_EQ(categoryOf(args), ErrorCategory::INVALID_ARGUMENT);
}

TEST(MonitorOptionsTest, LogSizeMaxBounds) {
  for (const char* value : {"100", "8191", "-2"}) {
    auto args = required();
    args.insert(args.end(), {"--log-size-max", value});
    EXPECT_EQ(categoryOf(args), ErrorCategory::INVALID_ARGUMENT) << value;
  }
  for (const char* value : {"-1", "0", "8192", "104857600"}) {
    auto args = required();
    args.insert(args.end(), {"--log-size-max", value});
    EXPECT_NO_THROW(parse(args)) << value;
  }
}

TEST(MonitorOptionsTest, MissingRequiredFlagIsRejected) {
  auto args = required();
  args.resize(args.size() - 2);  // no --exit-dir
  EXPECT_EQ(categoryOf(args), ErrorCategory::INVALID_ARGUMENT);
}

TEST(MonitorOptionsTest, CleanupNeedsOnlyIdAndRuntime) {
  auto options = parse({"--cleanup", "--container-id", "abc", "--runtime", "/usr/sbin/runc",
                        "--runtime-root", "/run/runc"});
  EXPECT_TRUE(options.cleanup);
  EXPECT_EQ(options.runtimeRoot, "/run/runc");
  EXPECT_EQ(categoryOf({"--cleanup", "--container-id", "abc"}), ErrorCategory::INVALID_ARGUMENT);
  EXPECT_EQ(categoryOf({"--cleanup", "--runtime", "/usr/sbin/runc"}),
            ErrorCategory::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace crio::conmon
