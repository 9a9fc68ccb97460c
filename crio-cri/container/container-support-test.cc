#include "crio-cri/container/container-support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "crio-cri/oci/test-support.h"

namespace crio::cri {
namespace {

bool hasArg(const MonitorCommand& command, const std::string& arg) {
  return std::find(command.args.begin(), command.args.end(), arg) != command.args.end();
}

Container runcContainer() {
  Container c;
  c.id = "abc";
  c.runtimeHandler = "runc";
  c.bundleDir = "/run/crio/containers/abc";
  c.monitorSocket = "/run/crio/monitors/abc.sock";
  c.exitDir = "/run/crio/exits";
  c.logPath = "/var/log/pods/p/c/0.log";
  return c;
}

TEST(MonitorCommand, SystemdManagerAddsSystemdCgroupFlag) {
  Config config = Config::defaults(Paths{});
  RuntimeHandler handler;
  handler.runtimePath = "/usr/sbin/runc";
  handler.runtimeRoot = "/run/runc";

  config.cgroupManager = "systemd";
  MonitorCommand systemd = monitorCommand(config, runcContainer(), &handler);
  EXPECT_TRUE(hasArg(systemd, "--runtime-arg=--systemd-cgroup"));
  EXPECT_TRUE(hasArg(systemd, "/usr/sbin/runc"));
  EXPECT_TRUE(hasArg(systemd, "/run/runc"));

  config.cgroupManager = "cgroupfs";
  MonitorCommand cgroupfs = monitorCommand(config, runcContainer(), &handler);
  EXPECT_FALSE(hasArg(cgroupfs, "--runtime-arg=--systemd-cgroup"));
}

TEST(ContainerLogPath, StaysInsideLogDirectory) {
  EXPECT_EQ(containerLogPath("/var/log/pods/p", "c/0.log"), "/var/log/pods/p/c/0.log");
  EXPECT_EQ(containerLogPath("", "c/0.log"), "");
  EXPECT_EQ(containerLogPath("/var/log/pods/p", ""), "");
  EXPECT_EQ(containerLogPath("/var/log/pods/p", "c/..0.log"), "/var/log/pods/p/c/..0.log");
  for (const char* hostile : {"../../../etc/evil.log", "/etc/evil.log", "c/../../x.log"}) {
    EXPECT_CRIO_ERROR(containerLogPath("/var/log/pods/p", hostile), ErrorCategory::INVALID_ARGUMENT,
                      "must be a path relative to the pod's");
  }
  for (const char* folder : {".", "c/", "c/."}) {
    EXPECT_CRIO_ERROR(containerLogPath("/var/log/pods/p", folder), ErrorCategory::INVALID_ARGUMENT,
                      "must name a file");
  }
  EXPECT_CRIO_ERROR(containerLogPath("logs", "c/0.log"), ErrorCategory::INVALID_ARGUMENT,
                    "log_directory \"logs\" is not an absolute path");
}

TEST(StopSignal, RequestImageThenSigterm) {
  runtime::v1::ContainerConfig config;
  EXPECT_EQ(stopSignalFor(config, ""), SIGTERM);
  EXPECT_EQ(stopSignalFor(config, "SIGQUIT"), SIGQUIT);
  EXPECT_EQ(stopSignalFor(config, "USR1"), SIGUSR1);
  EXPECT_EQ(stopSignalFor(config, "9"), SIGKILL);
  config.set_stop_signal(runtime::v1::SIGNAL_SIGINT);
  EXPECT_EQ(stopSignalFor(config, "SIGQUIT"), SIGINT);
  EXPECT_EQ(stopSignalFor(config, "not-a-signal"), SIGINT);
  config.set_stop_signal(static_cast<runtime::v1::Signal>(99));
  EXPECT_CRIO_ERROR(stopSignalFor(config, ""), ErrorCategory::INVALID_ARGUMENT,
                    "stop_signal 99 (not a value");
  config.clear_stop_signal();
  EXPECT_EQ(stopSignalFor(config, "not-a-signal"), SIGTERM);
}

}  // namespace
}  // namespace crio::cri
