#include "crio-cri/oci/seccomp-profile.h"

#include <algorithm>
#include <span>
#include <string_view>

namespace crio::cri::oci {

namespace {

using Calls = std::span<const std::string_view>;

// ---------------------------------------------------------------------------------------------
// Calls every container may make, by theme. A name the local libseccomp does not know is skipped
// by runc, so names of newer kernels can be listed.

// clang-format off
constexpr std::string_view FILE_DATA_CALLS[] = {
    "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev",
    "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice",
    "copy_file_range", "fadvise64", "fadvise64_64", "readahead", "fallocate", "truncate",
    "truncate64", "ftruncate", "ftruncate64", "fsync", "fdatasync", "sync", "syncfs",
    "sync_file_range", "flock", "open", "openat", "openat2", "creat", "close", "close_range", "dup",
    "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "name_to_handle_at", "io_setup", "io_destroy",
    "io_submit", "io_cancel", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
};

constexpr std::string_view FILE_METADATA_CALLS[] = {
    "access", "faccessat", "faccessat2", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64",
    "fstatat64", "newfstatat", "statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "chmod",
    "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat",
    "lchown", "lchown32", "utime", "utimes", "utimensat", "utimensat_time64", "futimesat", "umask",
    "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr", "listxattr",
    "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
};

constexpr std::string_view DIRECTORY_CALLS[] = {
    "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "rename",
    "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat",
    "readlink", "readlinkat", "getdents", "getdents64",
};

constexpr std::string_view EVENT_AND_FUTEX_CALLS[] = {
    "select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd", "signalfd4", "timerfd_create",
    "timerfd_settime", "timerfd_settime64", "timerfd_gettime", "timerfd_gettime64", "inotify_init",
    "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark", "pipe", "pipe2",
    "futex", "futex_time64", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue",
};

constexpr std::string_view MEMORY_CALLS[] = {
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mlock",
    "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier", "memfd_create",
    "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect", "map_shadow_stack", "cachestat",
};

constexpr std::string_view PROCESS_CALLS[] = {
    "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
    "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid", "setsid",
    "getpriority", "setpriority", "sched_yield", "sched_getaffinity", "sched_setaffinity",
    "sched_getattr", "sched_setattr", "sched_getparam", "sched_setparam", "sched_getscheduler",
    "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "getrlimit", "setrlimit", "ugetrlimit",
    "prlimit64", "getrusage", "times", "prctl", "set_tid_address", "set_robust_list",
    "get_robust_list", "rseq", "restart_syscall", "getcpu", "ioprio_get", "ioprio_set", "capget",
    "capset", "seccomp", "pidfd_open", "pidfd_send_signal", "process_mrelease",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "get_thread_area",
    "set_thread_area", "uname", "sysinfo", "getrandom",
};

constexpr std::string_view IDENTITY_CALLS[] = {
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
    "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32", "setuid",
    "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32",
    "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid", "setfsuid32", "setfsgid",
    "setfsgid32", "setgroups", "setgroups32",
};

constexpr std::string_view SIGNAL_AND_TIME_CALLS[] = {
    "kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "sigaltstack", "sigreturn", "sigprocmask", "pause", "alarm",
    "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "clock_nanosleep",
    "clock_nanosleep_time64", "nanosleep", "gettimeofday", "time", "getitimer", "setitimer",
    "timer_create", "timer_delete", "timer_settime", "timer_settime64", "timer_gettime",
    "timer_gettime64", "timer_getoverrun", "adjtimex", "clock_adjtime", "clock_adjtime64",
};

constexpr std::string_view SOCKET_AND_IPC_CALLS[] = {
    "socketpair", "socketcall", "bind", "connect", "listen", "accept", "accept4", "getsockname",
    "getpeername", "getsockopt", "setsockopt", "shutdown", "send", "sendto", "sendmsg", "sendmmsg",
    "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "ipc", "msgget", "msgsnd",
    "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semtimedop_time64", "semctl", "shmget",
    "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64",
    "mq_timedreceive", "mq_timedreceive_time64", "mq_notify", "mq_getsetattr",
};

constexpr std::string_view X86_CALLS[] = {
    "arch_prctl", "modify_ldt",
};
constexpr std::string_view ARM_CALLS[] = {
    "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
    "set_tls",
};

// ---------------------------------------------------------------------------------------------
// Calls allowed only with a capability: the kernel checks that capability for them, and the
// filter keeps a container without it from reaching the kernel code at all.

constexpr std::string_view SYS_ADMIN_CALLS[] = {
    "mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "pivot_root", "unshare", "setns", "clone", "clone3", "sethostname",
    "setdomainname", "quotactl", "quotactl_fd", "fanotify_init", "lookup_dcookie", "bpf",
    "perf_event_open", "syslog",
};
constexpr std::string_view SYS_BOOT_CALLS[] = {
    "reboot",
};
constexpr std::string_view SYS_CHROOT_CALLS[] = {
    "chroot",
};
constexpr std::string_view SYS_MODULE_CALLS[] = {
    "init_module", "finit_module", "delete_module",
};
constexpr std::string_view SYS_PACCT_CALLS[] = {
    "acct",
};
constexpr std::string_view SYS_PTRACE_CALLS[] = {
    "ptrace", "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev",
};
constexpr std::string_view SYS_RAWIO_CALLS[] = {
    "iopl", "ioperm",
};
constexpr std::string_view SYS_TIME_CALLS[] = {
    "settimeofday", "stime", "clock_settime", "clock_settime64",
};
constexpr std::string_view SYS_TTY_CONFIG_CALLS[] = {
    "vhangup",
};
constexpr std::string_view SYS_NICE_CALLS[] = {
    "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "mbind", "migrate_pages",
    "move_pages",
};
constexpr std::string_view SYSLOG_CALLS[] = {
    "syslog",
};
constexpr std::string_view BPF_CALLS[] = {
    "bpf",
};
constexpr std::string_view PERFMON_CALLS[] = {
    "perf_event_open",
};
constexpr std::string_view DAC_READ_SEARCH_CALLS[] = {
    "open_by_handle_at",
};
// clang-format on

struct CapabilityGroup {
  const char* capability;
  Calls calls;
};

constexpr CapabilityGroup CAPABILITY_GROUPS[] = {
    {"CAP_SYS_ADMIN", SYS_ADMIN_CALLS},
    {"CAP_SYS_BOOT", SYS_BOOT_CALLS},
    {"CAP_SYS_CHROOT", SYS_CHROOT_CALLS},
    {"CAP_SYS_MODULE", SYS_MODULE_CALLS},
    {"CAP_SYS_PACCT", SYS_PACCT_CALLS},
    {"CAP_SYS_PTRACE", SYS_PTRACE_CALLS},
    {"CAP_SYS_RAWIO", SYS_RAWIO_CALLS},
    {"CAP_SYS_TIME", SYS_TIME_CALLS},
    {"CAP_SYS_TTY_CONFIG", SYS_TTY_CONFIG_CALLS},
    {"CAP_SYS_NICE", SYS_NICE_CALLS},
    {"CAP_SYSLOG", SYSLOG_CALLS},
    {"CAP_BPF", BPF_CALLS},
    {"CAP_PERFMON", PERFMON_CALLS},
    {"CAP_DAC_READ_SEARCH", DAC_READ_SEARCH_CALLS},
};

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
// CLONE_NEWNET (linux/sched.h).
constexpr uint64_t CLONE_NAMESPACE_FLAGS =
    0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
constexpr uint64_t AF_VSOCK_FAMILY = 40;
constexpr int ENOSYS_ERRNO = 38;
constexpr int EPERM_ERRNO = 1;

// personality(2) values programs pass: PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32,
// and 0xffffffff, which only queries.
constexpr uint64_t PERSONALITY_VALUES[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

void appendCalls(nlohmann::json& names, Calls calls) {
  for (std::string_view call : calls) {
    if (std::find(names.begin(), names.end(), call) == names.end()) names.push_back(call);
  }
}

nlohmann::json argument(int index, uint64_t value, const char* op, uint64_t valueTwo = 0) {
  return {{"index", index}, {"value", value}, {"valueTwo", valueTwo}, {"op", op}};
}

}  // namespace

bool SeccompContext::hasCapability(const std::string& name) const {
  return std::find(capabilities.begin(), capabilities.end(), name) != capabilities.end();
}

bool SeccompContext::kernelAtLeast(int major, int minor) const {
  return kernelMajor > major || (kernelMajor == major && kernelMinor >= minor);
}

std::vector<std::string> seccompArchitectures(const std::string& machine) {
  if (machine == "x86_64") return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  if (machine == "aarch64") return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
  if (machine == "i686" || machine == "i386") return {"SCMP_ARCH_X86"};
  if (machine.rfind("arm", 0) == 0) return {"SCMP_ARCH_ARM"};
  if (machine == "ppc64le") return {"SCMP_ARCH_PPC64LE"};
  if (machine == "s390x") return {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"};
  if (machine == "riscv64") return {"SCMP_ARCH_RISCV64"};
  return {};
}

nlohmann::json defaultSeccompProfile(const SeccompContext& context) {
  nlohmann::json allowed = nlohmann::json::array();
  for (Calls calls :
       {Calls(FILE_DATA_CALLS), Calls(FILE_METADATA_CALLS), Calls(DIRECTORY_CALLS),
        Calls(EVENT_AND_FUTEX_CALLS), Calls(MEMORY_CALLS), Calls(PROCESS_CALLS),
        Calls(IDENTITY_CALLS), Calls(SIGNAL_AND_TIME_CALLS), Calls(SOCKET_AND_IPC_CALLS)}) {
    appendCalls(allowed, calls);
  }
  if (context.machine == "x86_64" || context.machine == "i686" || context.machine == "i386") {
    appendCalls(allowed, X86_CALLS);
  }
  if (context.machine == "aarch64" || context.machine.rfind("arm", 0) == 0) {
    appendCalls(allowed, ARM_CALLS);
  }
  if (context.kernelAtLeast(4, 8)) allowed.push_back("ptrace");
  for (const auto& group : CAPABILITY_GROUPS) {
    if (context.hasCapability(group.capability)) appendCalls(allowed, group.calls);
  }

  nlohmann::json rules = nlohmann::json::array();
  rules.push_back({{"names", allowed}, {"action", "SCMP_ACT_ALLOW"}});

  for (uint64_t value : PERSONALITY_VALUES) {
    rules.push_back({{"names", {"personality"}},
                     {"action", "SCMP_ACT_ALLOW"},
                     {"args", {argument(0, value, "SCMP_CMP_EQ")}}});
  }
  rules.push_back({{"names", {"socket"}},
                   {"action", "SCMP_ACT_ALLOW"},
                   {"args", {argument(0, AF_VSOCK_FAMILY, "SCMP_CMP_NE")}}});

  if (!context.hasCapability("CAP_SYS_ADMIN")) {
    // Allowed when (flags & CLONE_NAMESPACE_FLAGS) == 0.
    rules.push_back({{"names", {"clone"}},
                     {"action", "SCMP_ACT_ALLOW"},
                     {"args", {argument(0, CLONE_NAMESPACE_FLAGS, "SCMP_CMP_MASKED_EQ", 0)}}});
    rules.push_back(
        {{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS_ERRNO}});
  }

  return {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", EPERM_ERRNO},
      {"architectures", seccompArchitectures(context.machine)},
      {"syscalls", rules},
  };
}

}  // namespace crio::cri::oci
