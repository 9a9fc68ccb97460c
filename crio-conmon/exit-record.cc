#include "crio-conmon/exit-record.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "common/daemon.h"
#include "common/error.h"

namespace crio::conmon {

namespace {

void writeAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) failSyscall("write", path);
    done += static_cast<size_t>(n);
  }
}

void syncDirectory(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) failSyscall("open", dir);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) failSyscall("fsync", dir, err);
}

}  // namespace

std::string exitRecordPath(const std::string& dir, const std::string& id) {
  return dir + "/" + id;
}

void writeExitRecord(const std::string& dir, const ExitRecord& record) {
  std::string message = record.message.substr(0, MAX_MESSAGE);
  nlohmann::json json = {
      {"version", EXIT_RECORD_VERSION},
      {"id", record.id},
      {"pid", record.pid},
      {"exitCode", record.exitCode},
      {"oomKilled", record.oomKilled},
      {"reason", record.reason},
      // Runtime output may hold invalid UTF-8; it is replaced rather than failing the dump.
      {"message", message},
      {"createdAt", record.createdAt},
      {"startedAt", record.startedAt},
      {"finishedAt", record.finishedAt},
  };
  std::string text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  makeDirectories(dir, 0700);
  std::string temporary = dir + "/." + record.id + ".tmp";
  std::string final = exitRecordPath(dir, record.id);
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) failSyscall("open", temporary);
  try {
    writeAll(fd, text, temporary);
    if (fsync(fd) != 0) failSyscall("fsync", temporary);
  } catch (...) {
    close(fd);
    unlink(temporary.c_str());
    throw;
  }
  close(fd);
  if (rename(temporary.c_str(), final.c_str()) != 0) {
    int err = errno;
    unlink(temporary.c_str());
    failSyscall("rename to", final, err);
  }
  syncDirectory(dir);
}

std::optional<ExitRecord> readExitRecord(const std::string& dir, const std::string& id) {
  std::string path = exitRecordPath(dir, id);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    failSyscall("open", path);
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 && text.size() <= MAX_EXIT_RECORD_SIZE) {
    text.append(buf, static_cast<size_t>(n));
  }
  int err = errno;
  close(fd);
  if (n < 0) failSyscall("read", path, err);
  if (text.size() > MAX_EXIT_RECORD_SIZE) {
    fail(ErrorCategory::INVALID_ARGUMENT, "exit record " + path + " is larger than " +
                                              std::to_string(MAX_EXIT_RECORD_SIZE) + " bytes");
  }

  try {
    auto json = nlohmann::json::parse(text);
    int version = json.at("version").get<int>();
    if (version > EXIT_RECORD_VERSION) {
      fail(ErrorCategory::INVALID_ARGUMENT, "version " + std::to_string(version) +
                                                " is newer than this reader's " +
                                                std::to_string(EXIT_RECORD_VERSION));
    }
    ExitRecord record;
    record.id = json.at("id").get<std::string>();
    record.pid = json.value("pid", 0);
    record.exitCode = json.at("exitCode").get<int32_t>();
    record.oomKilled = json.value("oomKilled", false);
    record.reason = json.value("reason", "");
    record.message = json.value("message", "");
    record.createdAt = json.value("createdAt", int64_t{0});
    record.startedAt = json.value("startedAt", int64_t{0});
    record.finishedAt = json.at("finishedAt").get<int64_t>();
    return record;
  } catch (const Error& e) {
    throw e.withContext("exit record " + path);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorCategory::INVALID_ARGUMENT, "exit record " + path + ": " + e.what());
  }
}

}  // namespace crio::conmon
