// The built-in RuntimeDefault seccomp profile.
//
// Policy: an allow list. A system call not listed fails with EPERM (SCMP_ACT_ERRNO), so a program
// that probes for a call gets an ordinary permission error rather than being killed. The list
// covers what ordinary programs use (file and socket I/O, memory, processes, threads, signals,
// timers, System V and POSIX IPC). Left out are calls that reach kernel state shared with the
// host or that have been a common path to kernel exploits:
//   - keyrings (add_key, keyctl, request_key): not namespaced;
//   - kexec_load, kexec_file_load, swapon, swapoff, userfaultfd, the io_uring calls (their work
//     items are not filtered by seccomp), nfsservctl, and obsolete calls (uselib, ustat, sysfs,
//     _sysctl, vm86, create_module, get_kernel_syms, query_module);
//   - calls that need a capability the container has not been granted. Each capability group of
//     seccomp-profile.cc is allowed only when the container's set contains that capability, so
//     that mount, say, is rejected by the filter and not only by the kernel's capability check.
// Argument filters:
//   - clone with any namespace flag (CLONE_NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET,
//     NEWCGROUP) needs CAP_SYS_ADMIN, and so does unshare, as in CRI-O's modified default;
//   - clone3 without CAP_SYS_ADMIN fails with ENOSYS, because its flags live in memory that seccomp
//     cannot read; the C library then falls back to clone, which the filter can check;
//   - personality only with the values programs use (PER_LINUX, PER_LINUX32, UNAME26 and their
//     combination, and 0xffffffff to query);
//   - socket with any family but AF_VSOCK, which would reach the hypervisor host of a VM node;
//   - ptrace needs no capability on Linux 4.8 and later (earlier kernels let a traced process
//     bypass seccomp, so there it needs CAP_SYS_PTRACE).
// The argument filters read the first argument, as on x86 and arm; s390 passes clone's flags in
// the second argument and is not covered.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crio::cri::oci {

// The container and node properties a seccomp profile is evaluated against.
struct SeccompContext {
  std::vector<std::string> capabilities;  // the container's set, "CAP_..." names
  std::string machine;                    // uname(2) machine of the node: "x86_64", "aarch64"
  int kernelMajor = 0;
  int kernelMinor = 0;

  bool hasCapability(const std::string& name) const;
  bool kernelAtLeast(int major, int minor) const;
};

// The seccomp architectures (SCMP_ARCH_...) a filter for `machine` covers: the native one and
// those its processes can also run (x86_64: X86_64, X86, X32; aarch64: AARCH64, ARM). Empty for
// an unknown machine, which makes runc filter the native architecture only.
std::vector<std::string> seccompArchitectures(const std::string& machine);

// The built-in profile for `context`, as an OCI linux.seccomp object.
nlohmann::json defaultSeccompProfile(const SeccompContext& context);

}  // namespace crio::cri::oci
