// A seccomp filter each daemon installs on itself (libseccomp).
//
// The filter is an allow list: a base set every daemon of the suite uses (files, memory, threads,
// signals, timers, polling, unix sockets) plus the groups a role requests. Any other system call
// fails with EPERM rather than killing the process, so a missed call shows up as an error in the
// log; clone3 fails with ENOSYS so that glibc falls back to clone. socket() is allowed only for
// the address families of the role: crio-stored gets AF_UNIX alone and so can open no network
// connection even if its code is subverted.
#pragma once

#include <string>
#include <vector>

namespace crio {

enum class SyscallGroup {
  NETWORK,      // AF_INET, AF_INET6 and AF_NETLINK sockets (resolver, registry client)
  SPAWN,        // execve and friends: the process starts other programs
  MOUNT,        // mount, umount2, pivot_root, move_mount...
  NAMESPACES,   // setns, unshare, sethostname and setdomainname (for a new UTS namespace)
  FILE_OWNERS,  // chown family, mknod, setxattr family: keeping owners and device nodes of files
  PROCESS_IDS,  // setuid/setgid family (for children started under another identity)
  TRACE,        // ptrace and process_vm_readv: never granted now, listed so the intent is explicit
};

struct SeccompProfile {
  std::string role;  // the daemon's name, for messages
  std::vector<SyscallGroup> groups;
};

// Installs the filter on the calling thread and every thread it creates afterwards; threads that
// already exist are synchronised too (SECCOMP_FILTER_FLAG_TSYNC). Throws on failure.
void installSeccompFilter(const SeccompProfile& profile);

// "2" (filter), "0" (none), as /proc/self/status reports Seccomp.
std::string seccompMode();

}  // namespace crio
