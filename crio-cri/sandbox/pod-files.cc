#include "crio-cri/sandbox/pod-files.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace crio::cri {

namespace {

constexpr size_t POD_ID_HOSTNAME_LENGTH = 12;

// Writes `text` to a temporary name beside `path` and renames it, so a container never binds a
// half-written file.
void writeWholeFile(const std::string& path, const std::string& text) {
  std::string staging = path + ".tmp";
  {
    std::ofstream out(staging, std::ios::trunc);
    out << text;
    out.close();
    if (!out) failSyscall("write", staging);
  }
  if (chmod(staging.c_str(), 0644) != 0) failSyscall("chmod", staging);
  if (rename(staging.c_str(), path.c_str()) != 0) failSyscall("rename", staging);
}

// A resolv.conf entry must be one token, because whitespace would change the meaning of the line.
void checkResolvEntry(const std::string& kind, const std::string& entry) {
  if (entry.empty()) fail(ErrorCategory::INVALID_ARGUMENT, "DNSConfig has an empty " + kind);
  for (char c : entry) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0') {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "DNSConfig " + kind + " \"" + entry + "\" contains whitespace");
    }
  }
}

}  // namespace

void writeHostnameFile(const std::string& path, const std::string& hostname) {
  writeWholeFile(path, hostname + "\n");
}

void writeResolvConf(const std::string& path, const runtime::v1::DNSConfig* dns) {
  bool hasEntries =
      dns && (dns->servers_size() > 0 || dns->searches_size() > 0 || dns->options_size() > 0);
  if (!hasEntries) {
    std::ifstream in(HOST_RESOLV_CONF);
    std::stringstream text;
    if (in) text << in.rdbuf();
    writeWholeFile(path, text.str());
    return;
  }

  std::string text;
  for (const auto& server : dns->servers()) {
    checkResolvEntry("server", server);
    text += "nameserver " + server + "\n";
  }
  if (dns->searches_size() > 0) {
    text += "search";
    for (const auto& search : dns->searches()) {
      checkResolvEntry("search domain", search);
      text += " " + search;
    }
    text += "\n";
  }
  if (dns->options_size() > 0) {
    text += "options";
    for (const auto& option : dns->options()) {
      checkResolvEntry("option", option);
      text += " " + option;
    }
    text += "\n";
  }
  writeWholeFile(path, text);
}

void writeHostsFile(const std::string& path, const std::string& hostname,
                    const std::vector<std::string>& ips) {
  std::string text =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (const auto& ip : ips)
    text += ip + "\t" + hostname + "\n";
  writeWholeFile(path, text);
}

void mountPodShm(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) fail(ErrorCategory::INTERNAL, "create " + path + ": " + ec.message());
  std::string options = "mode=1777,size=" + std::to_string(POD_SHM_SIZE_BYTES);
  if (mount("shm", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.c_str()) != 0) {
    failSyscall("mount tmpfs on", path);
  }
}

void unmountPodShm(const std::string& path) {
  // EINVAL: `path` is not a mount point, so the tmpfs is already gone.
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    failSyscall("unmount", path);
  }
}

std::string podHostname(const runtime::v1::PodSandboxConfig& config, const std::string& podId) {
  if (!config.hostname().empty()) return config.hostname();
  if (config.linux().security_context().namespace_options().network() == runtime::v1::NODE) {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0) failSyscall("gethostname");
    return name;
  }
  return podId.substr(0, POD_ID_HOSTNAME_LENGTH);
}

}  // namespace crio::cri
