#include "crio-conmon/child-reaper.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "crio-conmon/container-field.h"

namespace crio::conmon {

ChildReaper::ChildReaper(kj::UnixEventPort& port)
    : port_(port), loop_(signalLoop().eagerlyEvaluate([](kj::Exception&& e) {
        log::error("child reaper stopped",
                   {containerField(), {"error", e.getDescription().cStr()}});
      })) {}

kj::Promise<void> ChildReaper::signalLoop() {
  return port_.onSignal(SIGCHLD).then([this](siginfo_t) {
    reap();
    return signalLoop();
  });
}

kj::Promise<int> ChildReaper::onExit(pid_t pid) {
  if (waiters_.count(pid) != 0) {
    fail(ErrorCategory::INTERNAL, "process " + std::to_string(pid) + " already has a waiter");
  }
  int status = 0;
  pid_t result = waitpid(pid, &status, WNOHANG);
  if (result == pid) return status;

  if (result == 0) {
    // Alive: any kept status for this number belonged to an earlier process that had it.
    std::erase_if(unclaimed_, [pid](const auto& entry) { return entry.first == pid; });
    auto paf = kj::newPromiseAndFulfiller<int>();
    waiters_.emplace(pid, kj::mv(paf.fulfiller));
    return kj::mv(paf.promise);
  }

  for (auto it = unclaimed_.begin(); it != unclaimed_.end(); ++it) {
    if (it->first == pid) {
      status = it->second;
      unclaimed_.erase(it);
      return status;
    }
  }
  fail(ErrorCategory::NOT_FOUND,
       "process " + std::to_string(pid) + " is not a child of the monitor");
}

void ChildReaper::reap() {
  while (true) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return;

    auto it = waiters_.find(pid);
    if (it != waiters_.end()) {
      auto fulfiller = kj::mv(it->second);
      waiters_.erase(it);
      fulfiller->fulfill(kj::cp(status));
      continue;
    }
    log::debug("reaped an orphan",
               {containerField(), {"pid", pid}, {"exit_code", exitCodeFromStatus(status)}});
    if (unclaimed_.size() == MAX_UNCLAIMED) unclaimed_.pop_front();
    unclaimed_.emplace_back(pid, status);
  }
}

bool signalChild(pid_t pid, int signal) {
  if (pid <= 0) return false;
  siginfo_t info{};
  if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  // A non-zero si_pid means the child already exited and is a zombie, so no process is left to
  // receive the signal.
  if (info.si_pid != 0) return false;
  return kill(pid, signal) == 0;
}

int exitCodeFromStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

}  // namespace crio::conmon
