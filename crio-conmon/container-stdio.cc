#include "crio-conmon/container-stdio.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"
#include "crio-conmon/clock.h"

namespace crio::conmon {

namespace {

void makePipe(kj::AutoCloseFd& readEnd, kj::AutoCloseFd& writeEnd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) failSyscall("pipe2");
  readEnd = kj::AutoCloseFd(fds[0]);
  writeEnd = kj::AutoCloseFd(fds[1]);
}

}  // namespace

ContainerStdio::ContainerStdio(bool openStdin) {
  if (openStdin) makePipe(stdinRead_, stdinWrite_);
  makePipe(stdoutRead_, stdoutWrite_);
  makePipe(stderrRead_, stderrWrite_);
}

ContainerStdio::~ContainerStdio() = default;

void ContainerStdio::closeRuntimeEnds() {
  stdinRead_ = nullptr;
  stdoutWrite_ = nullptr;
  stderrWrite_ = nullptr;
}

std::string ContainerStdio::readRuntimeOutput(size_t limit) {
  std::string out;
  for (kj::AutoCloseFd* fd : {&stderrRead_, &stdoutRead_}) {
    if (fd->get() < 0) continue;
    int flags = fcntl(fd->get(), F_GETFL);
    fcntl(fd->get(), F_SETFL, flags | O_NONBLOCK);
    char buf[4096];
    ssize_t n;
    while (out.size() < limit && (n = read(fd->get(), buf, sizeof buf)) > 0) {
      out.append(buf, std::min(static_cast<size_t>(n), limit - out.size()));
    }
  }
  return out;
}

void ContainerStdio::startLogging(kj::UnixEventPort& port, kj::Timer& timer, ContainerLog& log,
                                  kj::Maybe<kj::AutoCloseFd> ptyMaster) {
  timer_ = &timer;
  log_ = &log;
  auto add = [&](kj::AutoCloseFd fd, Stream stream) {
    auto reader = kj::heap<FdReader>(
        port, timer, kj::mv(fd),
        [this, stream](std::string_view chunk) { log_->write(stream, chunk, realtimeNanos()); },
        [this, stream]() { afterBurst(stream); });
    channels_.add(Channel{kj::mv(reader), stream});
  };
  KJ_IF_MAYBE (master, ptyMaster) {
    add(kj::mv(*master), Stream::STDOUT);
  }
  add(kj::mv(stdoutRead_), Stream::STDOUT);
  add(kj::mv(stderrRead_), Stream::STDERR);
}

void ContainerStdio::afterBurst(Stream stream) {
  log_->flush();
  int index = static_cast<int>(stream);
  if (!log_->hasPartial(stream) || flushScheduled_[index]) return;
  flushScheduled_[index] = true;
  partialFlush_[index] = timer_->afterDelay(PARTIAL_FLUSH_DELAY)
                             .then([this, stream, index]() {
                               flushScheduled_[index] = false;
                               log_->flushPartial(stream, realtimeNanos());
                               log_->flush();
                             })
                             .eagerlyEvaluate(nullptr);
}

kj::Promise<void> ContainerStdio::drain(kj::Duration quiet, kj::Duration limit) {
  kj::Vector<kj::Promise<void>> drains;
  for (auto& channel : channels_) {
    drains.add(channel.reader->drain(quiet, limit));
  }
  return kj::joinPromises(drains.releaseAsArray()).then([this]() {
    if (log_ == nullptr) return;
    for (Stream stream : {Stream::STDOUT, Stream::STDERR}) {
      partialFlush_[static_cast<int>(stream)] = nullptr;
      flushScheduled_[static_cast<int>(stream)] = false;
      log_->flushPartial(stream, realtimeNanos());
    }
    log_->sync();
  });
}

}  // namespace crio::conmon
