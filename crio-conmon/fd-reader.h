// Reading a pipe or pty master on the event loop, handing each chunk to a sink as it arrives.
//
// Used for the container's stdout and stderr, and for the output of runtime commands and of exec.
// The reader reads until end of file. A pty master reports EIO once the last holder of the
// terminal closed it, which counts as the end. After the process that wrote exits, drain() reads
// what is left without waiting forever for an end that a leftover child can delay: processes the
// writer started may keep the fd open.
#pragma once

#include <kj/async-unix.h>
#include <kj/io.h>
#include <kj/time.h>

#include <functional>
#include <string_view>

namespace crio::conmon {

// One read(2) takes at most this many bytes (on the stack).
constexpr size_t READ_CHUNK = 64 * 1024;
// After this many bytes the reader yields to the event loop, so that one chatty stream cannot
// starve RPCs and the other stream.
constexpr size_t READ_BURST = 1024 * 1024;

class FdReader {
 public:
  using Sink = std::function<void(std::string_view chunk)>;

  // Takes `fd`, makes it non-blocking and starts reading. `afterBurst` (optional) runs each time
  // the reader has read everything available, before it waits again.
  FdReader(kj::UnixEventPort& port, kj::Timer& timer, kj::AutoCloseFd fd, Sink sink,
           std::function<void()> afterBurst = nullptr);
  ~FdReader();

  FdReader(const FdReader&) = delete;
  FdReader& operator=(const FdReader&) = delete;

  // Resolves at the end of the input, or when stop() was called.
  kj::Promise<void> whenEnded();
  bool ended() const { return ended_; }

  // Reads everything available now, then keeps reading until the end, until no data came for
  // `quiet`, or until `limit` passed, whichever is first; then stops.
  kj::Promise<void> drain(kj::Duration quiet, kj::Duration limit);

  // Stops reading and closes the fd. Not from inside the sink.
  void stop();

 private:
  kj::Promise<void> readLoop();
  // Reads until EAGAIN, the end, or READ_BURST bytes; returns the number of bytes read.
  size_t readAvailable();
  kj::Promise<void> drainStep(kj::Duration quiet, kj::TimePoint deadline);
  void finish();

  kj::Timer& timer_;
  kj::AutoCloseFd fd_;
  kj::Own<kj::UnixEventPort::FdObserver> observer_;
  Sink sink_;
  std::function<void()> afterBurst_;
  bool ended_ = false;
  kj::TimePoint lastData_;
  kj::Own<kj::PromiseFulfiller<void>> endFulfiller_;
  kj::ForkedPromise<void> endPromise_;
  kj::Promise<void> loop_ = nullptr;
};

}  // namespace crio::conmon
