// crio-pod-init: pid 1 of a pod's shared PID namespace. startPodPidHolder (pod-pid-holder.h)
// prepares the process (cgroups, an empty root, the pod's ids, every signal blocked) and then
// executes this program, so that nothing of crio-cri's memory or environment stays readable
// through /proc/1 by the pod's containers. It reports READY on POD_INIT_REPORT_FD and then reaps
// the orphans reparented to it until SIGKILL ends it, which also ends every process left in the
// namespace.
//
// It is linked statically: its root is an empty tmpfs, where no shared library can be found.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/pod-init-report.h"

int main() {
  // Blocked already by the holder; blocked again in case the program is started some other way.
  // Signals sent from the parent namespace, other than SIGKILL and SIGSTOP, stay pending.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);

  // An exec makes the process dumpable again. A container of the pod running as the same user
  // must not ptrace pid 1 of its namespace, so the flag is cleared once more.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  crio::HolderRecord ready{crio::HolderEvent::READY, 0, 0, 0};
  ssize_t ignored = write(crio::POD_INIT_REPORT_FD, &ready, sizeof(ready));
  (void)ignored;
  close(crio::POD_INIT_REPORT_FD);

  sigset_t childSignal;
  sigemptyset(&childSignal);
  sigaddset(&childSignal, SIGCHLD);
  while (true) {
    siginfo_t info;
    sigwaitinfo(&childSignal, &info);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}
