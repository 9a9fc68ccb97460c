// Receiving the pty master of a terminal container or exec from the OCI runtime.
//
// Protocol of `--console-socket PATH` (runc and crun): the runtime creates the pty, connects to
// the unix stream socket at PATH, and sends one message. The message's SCM_RIGHTS control data
// carries the master fd, and its payload is the pty's name. The monitor accepts one connection
// from its own uid, keeps the first fd received and closes any other.
#pragma once

#include <kj/async-unix.h>
#include <kj/io.h>

#include <string>

namespace crio::conmon {

class ConsoleSocket {
 public:
  // Listens at `path` (mode 0600). Throws crio::Error; INVALID_ARGUMENT when `path` does not fit
  // in a socket address.
  ConsoleSocket(kj::UnixEventPort& port, std::string path);
  // Removes the socket file.
  ~ConsoleSocket();

  ConsoleSocket(const ConsoleSocket&) = delete;
  ConsoleSocket& operator=(const ConsoleSocket&) = delete;

  const std::string& path() const { return path_; }

  // Resolves with the pty master (non-blocking, close-on-exec) once the runtime sent it.
  kj::Promise<kj::AutoCloseFd> receive();

 private:
  kj::Promise<kj::AutoCloseFd> acceptOne();
  kj::Promise<kj::AutoCloseFd> receiveFrom();

  kj::UnixEventPort& port_;
  std::string path_;
  kj::AutoCloseFd listener_;
  kj::Own<kj::UnixEventPort::FdObserver> listenObserver_;
  kj::AutoCloseFd connection_;
  kj::Own<kj::UnixEventPort::FdObserver> connectionObserver_;
};

}  // namespace crio::conmon
