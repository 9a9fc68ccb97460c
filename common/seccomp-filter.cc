#include "common/seccomp-filter.h"

#include <seccomp.h>
#include <sys/socket.h>

#include <cerrno>
#include <fstream>
#include <memory>

#include "common/error.h"
#include "common/log.h"

namespace crio {

namespace {

// Calls every daemon makes: file and directory I/O, memory, threads and futexes, signals,
// clocks and timers, polling, unix sockets, process identity queries, randomness.
constexpr const char* BASE[] = {
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "open",
    "openat",
    "openat2",
    "close",
    "close_range",
    "creat",
    "lseek",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "fstatfs",
    "statfs",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents",
    "getdents64",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "truncate",
    "ftruncate",
    "fsync",
    "fdatasync",
    "syncfs",
    "sync_file_range",
    "fallocate",
    "flock",
    "fcntl",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "ioctl",
    "utimensat",
    "futimesat",
    "utime",
    "utimes",
    "umask",
    "getcwd",
    "chdir",
    "fchdir",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "llistxattr",
    "flistxattr",
    "copy_file_range",
    "sendfile",
    "splice",
    "tee",
    "memfd_create",
    "fadvise64",
    "readahead",
    "inotify_init",
    "inotify_init1",
    "inotify_add_watch",
    "inotify_rm_watch",
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    "msync",
    "mincore",
    "mlock",
    "munlock",
    "membarrier",
    "futex",
    "set_robust_list",
    "get_robust_list",
    "set_tid_address",
    "rseq",
    "clone",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "gettid",
    "getpid",
    "getppid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getresuid",
    "getresgid",
    "getpgrp",
    "getpgid",
    "getsid",
    "setsid",
    "setpgid",
    "prctl",
    "arch_prctl",
    "capget",
    "sched_yield",
    "sched_getaffinity",
    "sched_setaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "getpriority",
    "setpriority",
    "getrlimit",
    "setrlimit",
    "prlimit64",
    "getrusage",
    "sysinfo",
    "uname",
    "times",
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigpending",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "sigaltstack",
    "kill",
    "tgkill",
    "tkill",
    "signalfd",
    "signalfd4",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "time",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "alarm",
    "getitimer",
    "setitimer",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "eventfd",
    "eventfd2",
    "socketpair",
    "bind",
    "listen",
    "accept",
    "accept4",
    "connect",
    "getsockname",
    "getpeername",
    "getsockopt",
    "setsockopt",
    "sendto",
    "recvfrom",
    "sendmsg",
    "recvmsg",
    "sendmmsg",
    "recvmmsg",
    "shutdown",
    "getrandom",
    "restart_syscall",
    "get_mempolicy",
    "sched_getattr",
    "ioprio_get",
    "getcpu",
    "name_to_handle_at",
    "process_mrelease",
};

constexpr const char* SPAWN[] = {"execve", "execveat", "vfork", "fork"};
constexpr const char* MOUNT[] = {"mount",  "umount2",  "pivot_root", "move_mount", "open_tree",
                                 "fsopen", "fsconfig", "fsmount",    "fspick",     "mount_setattr"};
// sethostname and setdomainname change only the caller's UTS namespace: crio-cri names a pod's
// new UTS namespace from the child that created it (common/namespace-pinning.cc).
constexpr const char* NAMESPACES[] = {"setns", "unshare", "sethostname", "setdomainname"};
constexpr const char* FILE_OWNERS[] = {"chown",     "fchown",      "lchown",       "fchownat",
                                       "mknod",     "mknodat",     "setxattr",     "lsetxattr",
                                       "fsetxattr", "removexattr", "lremovexattr", "fremovexattr"};
constexpr const char* PROCESS_IDS[] = {"setuid",    "setgid",    "setreuid",  "setregid",
                                       "setresuid", "setresgid", "setgroups", "setfsuid",
                                       "setfsgid",  "capset"};

struct FilterDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

void allow(scmp_filter_ctx ctx, const char* name) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // not a call on this architecture
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
  if (rc != 0) failSyscall("seccomp_rule_add", name, -rc);
}

template <size_t N>
void allowAll(scmp_filter_ctx ctx, const char* const (&names)[N]) {
  for (const char* name : names)
    allow(ctx, name);
}

void allowSocketFamily(scmp_filter_ctx ctx, int family) {
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                            SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)));
  if (rc != 0) failSyscall("seccomp_rule_add", "socket", -rc);
}

}  // namespace

void installSeccompFilter(const SeccompProfile& profile) {
  std::unique_ptr<void, FilterDeleter> ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (!ctx) fail(ErrorCategory::INTERNAL, "seccomp_init failed");
  scmp_filter_ctx filter = ctx.get();

  int rc = seccomp_attr_set(filter, SCMP_FLTATR_CTL_TSYNC, 1);
  if (rc != 0) failSyscall("seccomp_attr_set TSYNC", "", -rc);

  allowAll(filter, BASE);
  rc = seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  if (rc != 0) failSyscall("seccomp_rule_add", "clone3", -rc);
  allowSocketFamily(filter, AF_UNIX);

  for (SyscallGroup group : profile.groups) {
    switch (group) {
      case SyscallGroup::NETWORK:
        allowSocketFamily(filter, AF_INET);
        allowSocketFamily(filter, AF_INET6);
        allowSocketFamily(filter, AF_NETLINK);
        break;
      case SyscallGroup::SPAWN:
        allowAll(filter, SPAWN);
        break;
      case SyscallGroup::MOUNT:
        allowAll(filter, MOUNT);
        break;
      case SyscallGroup::NAMESPACES:
        allowAll(filter, NAMESPACES);
        break;
      case SyscallGroup::FILE_OWNERS:
        allowAll(filter, FILE_OWNERS);
        break;
      case SyscallGroup::PROCESS_IDS:
        allowAll(filter, PROCESS_IDS);
        break;
      case SyscallGroup::TRACE:
        allow(filter, "ptrace");
        allow(filter, "process_vm_readv");
        break;
    }
  }

  rc = seccomp_load(filter);
  if (rc != 0) failSyscall("load seccomp filter for " + profile.role, "", -rc);
}

std::string seccompMode() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Seccomp:", 0) == 0) {
      auto pos = line.find_first_not_of(" \t", 8);
      return pos == std::string::npos ? "" : line.substr(pos);
    }
  }
  return "unknown";
}

}  // namespace crio
