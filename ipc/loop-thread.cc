#include "ipc/loop-thread.h"

#include "common/log.h"

namespace crio::ipc {

void LoopThread::ErrorHandler::taskFailed(kj::Exception&& exception) {
  log::error("background task failed", {{"error", exception.getDescription().cStr()}});
}

LoopThread::LoopThread() {
  thread_ = kj::heap<kj::Thread>([this]() { main(); });
  std::unique_lock<std::mutex> lock(mutex_);
  started_.wait(lock, [this]() { return executor_ != nullptr; });
}

LoopThread::~LoopThread() {
  stop_->fulfill();
  thread_ = nullptr;  // joins
}

void LoopThread::main() {
  auto io = kj::setupAsyncIo();
  kj::TaskSet tasks(errorHandler_);
  auto paf = kj::newPromiseAndCrossThreadFulfiller<void>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    io_ = &io;
    tasks_ = &tasks;
    stop_ = kj::mv(paf.fulfiller);
    executor_ = &kj::getCurrentThreadExecutor();
  }
  started_.notify_all();
  paf.promise.wait(io.waitScope);
}

}  // namespace crio::ipc
