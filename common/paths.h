// Built-in locations of everything the suite reads and writes, relative to a root prefix.
//
// `--root DIR` moves every default below DIR (DIR/run/crio, DIR/var/lib/crio, DIR/etc/crio, ...),
// so several suites can run side by side and tests can use throwaway roots. Locations of programs
// (the OCI runtimes, CNI plugins) are not moved: they are what the host has installed.
// A value set explicitly in a configuration file or by a flag is taken as written.
#pragma once

#include <string>

namespace crio {

class Paths {
 public:
  Paths() = default;
  explicit Paths(std::string root) : root_(std::move(root)) {}

  // The prefix, "" for the real root.
  const std::string& root() const { return root_; }

  // Prefixes an absolute path with the root: under("/run/crio") = "DIR/run/crio".
  std::string under(const std::string& absolute) const { return root_ + absolute; }

  std::string configFile() const { return under("/etc/crio/crio.conf"); }
  std::string configDir() const { return under("/etc/crio/crio.conf.d"); }
  std::string runDir() const { return under("/run/crio"); }
  std::string criSocket() const { return under("/run/crio/crio.sock"); }
  // In a folder of its own, owned by crio-imaged's unprivileged user, so that it can remove its
  // socket at exit.
  std::string imagedSocket() const { return under("/run/crio/imaged/imaged.sock"); }
  std::string storedSocket() const { return under("/run/crio/stored.sock"); }
  std::string criStateDir() const { return under("/var/lib/crio/cri"); }
  std::string storageDir() const { return under("/var/lib/crio/storage"); }
  std::string imagedCacheDir() const { return under("/var/cache/crio/imaged"); }
  std::string logDir() const { return under("/var/log/crio/pods"); }

 private:
  std::string root_;
};

}  // namespace crio
