#include "crio-conmon/fd-reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "crio-conmon/container-field.h"

namespace crio::conmon {

namespace {

struct EndPair {
  kj::Own<kj::PromiseFulfiller<void>> fulfiller;
  kj::ForkedPromise<void> promise;
};

EndPair makeEndPair() {
  auto paf = kj::newPromiseAndFulfiller<void>();
  return {kj::mv(paf.fulfiller), paf.promise.fork()};
}

}  // namespace

FdReader::FdReader(kj::UnixEventPort& port, kj::Timer& timer, kj::AutoCloseFd fd, Sink sink,
                   std::function<void()> afterBurst)
    : timer_(timer),
      fd_(kj::mv(fd)),
      sink_(std::move(sink)),
      afterBurst_(std::move(afterBurst)),
      lastData_(timer.now()),
      endPromise_(nullptr) {
  auto pair = makeEndPair();
  endFulfiller_ = kj::mv(pair.fulfiller);
  endPromise_ = kj::mv(pair.promise);

  int flags = fcntl(fd_.get(), F_GETFL);
  fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK);
  observer_ = kj::heap<kj::UnixEventPort::FdObserver>(port, fd_.get(),
                                                      kj::UnixEventPort::FdObserver::OBSERVE_READ);
  // The first read waits for the loop, so that the sink never runs inside this constructor.
  loop_ = kj::evalLater([this]() { return readLoop(); }).eagerlyEvaluate([this](kj::Exception&& e) {
    log::warn("reading a stream failed", {containerField(), {"error", e.getDescription().cStr()}});
    finish();
  });
}

FdReader::~FdReader() = default;

kj::Promise<void> FdReader::whenEnded() {
  return endPromise_.addBranch();
}

size_t FdReader::readAvailable() {
  char buf[READ_CHUNK];
  size_t total = 0;
  while (!ended_ && total < READ_BURST) {
    ssize_t n = read(fd_.get(), buf, sizeof buf);
    if (n > 0) {
      total += static_cast<size_t>(n);
      lastData_ = timer_.now();
      sink_(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // 0 is the end of a pipe; EIO is the end of a pty master. Anything else ends it too.
    if (n < 0 && errno != EIO) {
      log::warn("read failed; the stream ends here",
                {containerField(), {"error", strerror(errno)}});
    }
    finish();
  }
  if (total > 0 && afterBurst_) afterBurst_();
  return total;
}

kj::Promise<void> FdReader::readLoop() {
  size_t read = readAvailable();
  if (ended_) return kj::READY_NOW;
  if (read >= READ_BURST) {
    // More may be waiting: the edge-triggered observer would not report it again.
    return kj::evalLater([this]() { return readLoop(); });
  }
  return observer_->whenBecomesReadable().then([this]() { return readLoop(); });
}

kj::Promise<void> FdReader::drain(kj::Duration quiet, kj::Duration limit) {
  kj::TimePoint deadline = timer_.now() + limit;
  while (!ended_ && readAvailable() >= READ_BURST) {
  }
  return drainStep(quiet, deadline);
}

kj::Promise<void> FdReader::drainStep(kj::Duration quiet, kj::TimePoint deadline) {
  if (ended_) return kj::READY_NOW;
  kj::TimePoint now = timer_.now();
  kj::TimePoint quietUntil = lastData_ + quiet;
  if (now >= deadline || now >= quietUntil) {
    stop();
    return kj::READY_NOW;
  }
  kj::TimePoint wake = quietUntil < deadline ? quietUntil : deadline;
  return whenEnded().exclusiveJoin(timer_.atTime(wake)).then([this, quiet, deadline]() {
    return drainStep(quiet, deadline);
  });
}

void FdReader::stop() {
  if (ended_) return;
  finish();
  // The loop may be waiting on the observer; both go before the fd they watch.
  loop_ = nullptr;
}

void FdReader::finish() {
  if (ended_) return;
  ended_ = true;
  observer_ = nullptr;
  fd_ = nullptr;
  endFulfiller_->fulfill();
}

}  // namespace crio::conmon
