// The container's stdio, kept open by the monitor and copied into the CRI log.
//
// Without a terminal the runtime gets pipes as its stdio and hands them on to the container's
// process (runc and crun do so for a non-terminal process): the write ends of stdout and stderr,
// and the read end of stdin when stdin is open (else /dev/null). The monitor keeps the other
// ends; it holds stdin's write end so that the container does not see end of file on stdin.
// With a terminal the runtime sends the pty master through --console-socket, and the terminal's
// output is logged as stdout (a terminal merges stderr into it). The runtime still gets the two
// pipes as its own stdout and stderr, so its error messages can be read, and anything written
// there later is logged too rather than failing with EPIPE.
//
// A line fragment without a newline is written as a P entry once PARTIAL_FLUSH_DELAY passed
// without its newline.
#pragma once

#include <kj/async-unix.h>
#include <kj/io.h>
#include <kj/time.h>

#include <string>

#include "crio-conmon/container-log.h"
#include "crio-conmon/fd-reader.h"

namespace crio::conmon {

constexpr auto PARTIAL_FLUSH_DELAY = 100 * kj::MILLISECONDS;

class ContainerStdio {
 public:
  // Creates the pipes. Throws crio::Error.
  ContainerStdio(bool openStdin);
  ~ContainerStdio();

  ContainerStdio(const ContainerStdio&) = delete;
  ContainerStdio& operator=(const ContainerStdio&) = delete;

  // The runtime's stdio for `create`; -1 means /dev/null.
  int runtimeStdin() const { return stdinRead_.get() >= 0 ? stdinRead_.get() : -1; }
  int runtimeStdout() const { return stdoutWrite_.get(); }
  int runtimeStderr() const { return stderrWrite_.get(); }

  // Closes the ends the runtime got, once it runs. Then only the container has them open, so the
  // monitor sees end of file when the container's processes are gone.
  void closeRuntimeEnds();

  // Reads what the runtime wrote so far without waiting, for the error message of a failed
  // create; at most `limit` bytes.
  std::string readRuntimeOutput(size_t limit);

  // Starts copying output into `log`: the pipes, and the pty master when there is one.
  void startLogging(kj::UnixEventPort& port, kj::Timer& timer, ContainerLog& log,
                    kj::Maybe<kj::AutoCloseFd> ptyMaster);

  // Reads the rest of the output (see FdReader::drain) and writes any waiting fragment.
  kj::Promise<void> drain(kj::Duration quiet, kj::Duration limit);

 private:
  struct Channel {
    kj::Own<FdReader> reader;
    Stream stream;
  };

  void afterBurst(Stream stream);

  kj::Timer* timer_ = nullptr;
  ContainerLog* log_ = nullptr;
  kj::AutoCloseFd stdinRead_, stdinWrite_;
  kj::AutoCloseFd stdoutRead_, stdoutWrite_;
  kj::AutoCloseFd stderrRead_, stderrWrite_;
  kj::Vector<Channel> channels_;
  bool flushScheduled_[2] = {false, false};
  kj::Promise<void> partialFlush_[2] = {nullptr, nullptr};
};

}  // namespace crio::conmon
