// The one thread of crio-cri that owns every Cap'n Proto connection.
//
// gRPC handler threads never touch a capability directly. They hand a function to run(), which
// executes it on this thread's KJ event loop. The function may return a promise, and run() blocks
// the caller until that promise settles, then returns its value or rethrows its kj::Exception
// (crio-cri/peer-call.h converts that to crio::Error).
#pragma once

#include <kj/async-io.h>
#include <kj/async-unix.h>
#include <kj/thread.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "common/error.h"

namespace crio::ipc {

class LoopThread {
 public:
  // Starts the thread and returns once its event loop runs.
  LoopThread();
  ~LoopThread();

  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  // Runs `fn` on the loop thread and waits for its result; see the file comment.
  template <typename Fn>
  auto run(Fn&& fn) {
    return executor_->executeSync(kj::fwd<Fn>(fn));
  }

  // Only valid on the loop thread (inside run()).
  kj::AsyncIoContext& io() { return *io_; }
  kj::TaskSet& tasks() { return *tasks_; }

 private:
  class ErrorHandler : public kj::TaskSet::ErrorHandler {
   public:
    void taskFailed(kj::Exception&& exception) override;
  };

  void main();

  std::mutex mutex_;
  std::condition_variable started_;
  const kj::Executor* executor_ = nullptr;
  kj::AsyncIoContext* io_ = nullptr;
  kj::TaskSet* tasks_ = nullptr;
  kj::Own<kj::CrossThreadPromiseFulfiller<void>> stop_;
  ErrorHandler errorHandler_;
  kj::Own<kj::Thread> thread_;
};

}  // namespace crio::ipc
