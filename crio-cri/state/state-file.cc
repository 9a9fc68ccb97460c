#include "crio-cri/state/state-file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/error.h"
#include "common/log.h"

namespace crio::cri {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view TEMP_SUFFIX = ".tmp";

void fsyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) failSyscall("open", dir);
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  if (rc != 0) failSyscall("fsync", dir, saved);
}

}  // namespace

void writeStateFile(const std::string& path, const nlohmann::json& record) {
  std::string text = record.dump();
  std::string temp = path + std::string(TEMP_SUFFIX);
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) failSyscall("create", temp);
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      failSyscall("write", temp, saved);
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    int saved = errno;
    close(fd);
    failSyscall("fsync", temp, saved);
  }
  close(fd);
  if (rename(temp.c_str(), path.c_str()) != 0) failSyscall("rename", temp);
  fsyncDir(fs::path(path).parent_path().string());
}

nlohmann::json readStateFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) failSyscall("open", path);
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      failSyscall("read", path, saved);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > MAX_STATE_FILE_BYTES) {
      close(fd);
      fail(ErrorCategory::RESOURCE_EXHAUSTED, path + " is larger than 4 MiB");
    }
  }
  close(fd);
  auto record = nlohmann::json::parse(text, nullptr, false);
  if (record.is_discarded() || !record.is_object()) {
    fail(ErrorCategory::INTERNAL, path + " is not a valid state record");
  }
  return record;
}

void removeStateFile(const std::string& path) {
  if (unlink(path.c_str()) != 0 && errno != ENOENT) failSyscall("remove", path);
}

std::vector<std::string> listStateFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string path = entry.path().string();
    if (path.size() > TEMP_SUFFIX.size() &&
        path.compare(path.size() - TEMP_SUFFIX.size(), TEMP_SUFFIX.size(), TEMP_SUFFIX) == 0) {
      log::info("removing an interrupted state write", {{"file", path}});
      unlink(path.c_str());
      continue;
    }
    if (entry.path().extension() == ".json") files.push_back(path);
  }
  return files;
}

}  // namespace crio::cri
