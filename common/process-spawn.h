// Running a program to completion from a multi-threaded daemon: the bytes for its stdin, its
// stdout and stderr captured up to a bound, and a deadline after which it is killed.
//
// The child is started with posix_spawn (vfork semantics, so no page tables are copied and no
// code of the daemon runs in the child between fork and exec). It gets a process group of its
// own, an empty signal mask, default dispositions for the signals daemons block or ignore, and no
// file descriptors but 0, 1 and 2. A timeout or an oversized stdout kills the whole group with
// SIGKILL, which also stops whatever the program started (a CNI plugin runs its IPAM plugin and
// iptables as children).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace crio {

struct ProcessRequest {
  std::string path;               // absolute path of the executable
  std::vector<std::string> argv;  // argv[0] included; empty means {path}
  std::vector<std::string> env;   // the complete environment, "KEY=VALUE" each
  std::string stdinData;          // written to the child's stdin, which is then closed
  size_t maxStdoutBytes = 1 << 20;
  size_t maxStderrBytes = 64 << 10;  // stderr beyond this is read and dropped
  std::chrono::milliseconds timeout{60000};
};

struct ProcessResult {
  int exitCode = -1;  // valid when signal == 0 and the child exited
  int signal = 0;     // the signal that ended the child, 0 when it exited
  bool timedOut = false;
  bool stdoutExceeded = false;  // stdout passed maxStdoutBytes, and a running child was killed
  bool stderrTruncated = false;
  std::string stdoutData;
  std::string stderrData;
  std::chrono::microseconds elapsed{0};

  bool succeeded() const { return signal == 0 && exitCode == 0 && !timedOut && !stdoutExceeded; }
  // "exit status 1", "killed by signal 9", "timed out after 60000 ms".
  std::string describeEnd(const ProcessRequest& request) const;
};

// Runs request.path and waits for it. Throws crio::Error when the program cannot be started:
// NOT_FOUND for a missing file, PERMISSION_DENIED when it is not executable. Every outcome after
// the start, including a timeout, is reported in the result instead. The child is reaped with
// waitpid(pid), so no other thread of the process may reap with waitpid(-1).
ProcessResult runProcess(const ProcessRequest& request);

// The calling process's environment without the variables whose names start with `dropPrefix`
// ("" keeps all), as "KEY=VALUE" strings.
std::vector<std::string> currentEnvironment(const std::string& dropPrefix = "");

}  // namespace crio
