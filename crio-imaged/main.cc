// crio-imaged: talks to registries for the suite. Runs as an unprivileged user with no
// capabilities; the only place it can write is its download cache. registries.conf, policy.json
// and the auth files are read before the switch to that user and on SIGHUP (pull-settings.h).
#include <curl/curl.h>
#include <kj/async-io.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "common/daemon.h"
#include "common/error.h"
#include "common/log.h"
#include "crio-imaged/blob-cache.h"
#include "crio-imaged/http-client.h"
#include "crio-imaged/image-resolver.h"
#include "crio-imaged/imaged-server.h"
#include "crio-imaged/platform.h"
#include "crio-imaged/pull-settings.h"
#include "crio-imaged/token-cache.h"
#include "ipc/daemon-info.h"
#include "ipc/serve.h"
#include "ipc/server.h"
#include "ipc/unix-socket.h"

namespace crio::imaged {
namespace {

constexpr const char* NAME = "crio-imaged";

// Gives a folder to the daemon's user so that it can work there after the switch. Only a folder
// this start created, or one the user already owns, is handed over: chown of a folder that
// exists for another purpose (/tmp, /run/crio) would give it away.
void handOver(const std::string& path, bool createdNow, const struct passwd& user) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) failSyscall("stat", path);
  if (!createdNow && st.st_uid != user.pw_uid) {
    fail(ErrorCategory::FAILED_PRECONDITION,
         "folder " + path + " exists and belongs to uid " + std::to_string(st.st_uid) +
             "; crio-imaged gives its socket folder and its cache folder to user " + user.pw_name +
             ", so each must be a folder of its own");
  }
  if (chown(path.c_str(), user.pw_uid, user.pw_gid) != 0) failSyscall("chown", path);
  if (chmod(path.c_str(), 0700) != 0) failSyscall("chmod", path);
}

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

int run(int argc, char** argv) {
  CLI::App app{"crio-imaged: registry client of the crio suite"};
  DaemonFlags flags;
  addCommonFlags(app, flags);
  std::string socketPath, cacheDir, user;
  app.add_option("--listen", socketPath, "Socket to serve on ([crio.suite] imaged_socket)");
  app.add_option("--cache-dir", cacheDir, "Download cache ([crio.suite] cache_dir)");
  app.add_option("--user", user, "Unprivileged user to run as ([crio.suite] imaged_user)");
  CLI11_PARSE(app, argc, argv);

  log::setup(NAME, log::Level::INFO);
  LoadedConfig loaded = loadDaemonConfig(flags);
  Config& config = loaded.config;
  if (!socketPath.empty()) config.imagedSocket = socketPath;
  if (!cacheDir.empty()) config.cacheDir = cacheDir;
  if (!user.empty()) config.imagedUser = user;
  if (flags.printConfig) {
    std::cout << renderConfig(config);
    return 0;
  }

  ipc::captureDaemonSignals();
  bool root = geteuid() == 0;
  std::string socketDir = config.imagedSocket.substr(0, config.imagedSocket.rfind('/'));
  bool cacheCreated = !exists(config.cacheDir);
  bool socketDirCreated = !exists(socketDir);
  // Parents stay traversable so that the daemon's user can reach the cache it is given.
  makeDirectories(config.cacheDir.substr(0, config.cacheDir.rfind('/')), 0755);
  makeDirectories(config.cacheDir, 0700);
  makeDirectories(socketDir, 0755);
  bool activated = false;
  int listenFd = ipc::listenUnixSocket(config.imagedSocket, 0600, "imaged", &activated);

  // Read while still root, because auth files may be readable by root alone (pull-settings.h).
  PullSettingsHolder settings(config, flags.paths());

  RolePrivileges role;
  role.syscalls = {SyscallGroup::NETWORK};
  if (root) {
    struct passwd* pw = getpwnam(config.imagedUser.c_str());
    if (pw == nullptr) {
      fail(ErrorCategory::INVALID_ARGUMENT, "user \"" + config.imagedUser +
                                                "\" does not exist; create it or set [crio.suite] "
                                                "imaged_user");
    }
    handOver(config.cacheDir, cacheCreated, *pw);
    if (!activated) {
      handOver(socketDir, socketDirCreated, *pw);
      if (chown(config.imagedSocket.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        failSyscall("chown", config.imagedSocket);
      }
    }
    role.user = config.imagedUser;
  }
  enterRole(NAME, role, config.selfSeccomp && !flags.noSeccomp);
  for (const std::string& dir : {config.cacheDir, socketDir}) {
    if (access(dir.c_str(), W_OK | X_OK) != 0) {
      failSyscall("after switching to user " + config.imagedUser + ", access", dir);
    }
  }

  auto io = kj::setupAsyncIo();
  auto info = ipc::currentDaemonInfo(NAME, config.selfSeccomp && !flags.noSeccomp);
  std::vector<uid_t> allowed(config.allowedPeerUids.begin(), config.allowedPeerUids.end());

  // Declared before the cache: downloads still in the cache's task set at exit cancel their
  // transfers through the client.
  HttpClient http;
  TokenCache tokens;
  BlobCache cache(config.cacheDir);
  cache.prepare();
  RegistryContext registries{http, tokens, io.provider->getTimer(), config.certsDir,
                             config.pullProgressTimeout};
  Platform platform = hostPlatform();
  ImageResolver resolver(registries, settings, cache, platform);

  ipc::Server server(*io.lowLevelProvider, io.unixEventPort, listenFd,
                     kj::heap<ImagedServer>(info, resolver, settings, cache), allowed,
                     config.imagedSocket);
  log::info("serving", {{"socket", config.imagedSocket},
                        {"cache", config.cacheDir},
                        {"platform", platform.text()},
                        {"curl", curl_version_info(CURLVERSION_NOW)->version},
                        {"pull_progress_timeout", formatDuration(config.pullProgressTimeout)}});
  ipc::serveUntilTerminated(io, server, "Serving on " + config.imagedSocket, [&]() {
    try {
      settings.reload(loadDaemonConfig(flags).config);
    } catch (const std::exception& e) {
      log::error("configuration not reloaded", {{"error", e.what()}});
      return;
    }
    log::info("configuration reloaded");
  });
  if (!activated) ipc::removeOwnSocket(config.imagedSocket);
  return 0;
}

}  // namespace
}  // namespace crio::imaged

int main(int argc, char** argv) {
  try {
    return crio::imaged::run(argc, argv);
  } catch (const std::exception& e) {
    crio::ipc::removeOwnSockets();
    crio::log::write(crio::log::Level::FATAL, "crio-imaged cannot start", {{"error", e.what()}});
    return 1;
  }
}
