#include "crio-conmon/container-log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "common/log.h"
#include "crio-conmon/container-field.h"

namespace crio::conmon {

namespace {

constexpr int64_t NANOS_PER_SECOND = 1000000000;

int openAppend(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) failSyscall("open log", path);
  return fd;
}

}  // namespace

std::string_view streamName(Stream stream) {
  return stream == Stream::STDOUT ? "stdout" : "stderr";
}

std::string formatTimestamp(int64_t nanos) {
  time_t seconds = static_cast<time_t>(nanos / NANOS_PER_SECOND);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  char buf[48];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ",
                static_cast<long long>(nanos % NANOS_PER_SECOND));
  return buf;
}

ContainerLog::ContainerLog(std::string path, int64_t maxSize)
    : path_(std::move(path)), maxSize_(maxSize) {
  out_.reserve(WRITE_BUFFER_SIZE + MAX_ENTRY_CONTENT + 64);
  if (!path_.empty()) openFile();
}

ContainerLog::~ContainerLog() {
  flush();
  if (fd_ >= 0) close(fd_);
}

void ContainerLog::openFile() {
  fd_ = openAppend(path_);
  struct stat st;
  fileSize_ = fstat(fd_, &st) == 0 ? st.st_size : 0;
}

void ContainerLog::write(Stream stream, std::string_view data, int64_t nowNanos) {
  std::string& pending = partial_[static_cast<int>(stream)];
  while (!data.empty()) {
    size_t newline = data.find('\n');
    bool complete = newline != std::string_view::npos;
    std::string_view piece = complete ? data.substr(0, newline) : data;
    data.remove_prefix(complete ? newline + 1 : data.size());

    // A line that began in an earlier read is joined with its continuation first.
    std::string joined;
    if (!pending.empty()) {
      joined = std::move(pending);
      pending.clear();
      joined.append(piece);
      piece = joined;
    }
    while (piece.size() > MAX_ENTRY_CONTENT) {
      appendEntry(stream, 'P', piece.substr(0, MAX_ENTRY_CONTENT), nowNanos);
      piece.remove_prefix(MAX_ENTRY_CONTENT);
    }
    if (complete) {
      appendEntry(stream, 'F', piece, nowNanos);
    } else {
      pending.assign(piece.data(), piece.size());
    }
  }
}

void ContainerLog::flushPartial(Stream stream, int64_t nowNanos) {
  std::string& pending = partial_[static_cast<int>(stream)];
  if (pending.empty()) return;
  std::string content = std::move(pending);
  pending.clear();
  appendEntry(stream, 'P', content, nowNanos);
}

bool ContainerLog::hasPartial(Stream stream) const {
  return !partial_[static_cast<int>(stream)].empty();
}

const std::string& ContainerLog::timestampPrefix(int64_t nanos) {
  int64_t second = nanos / NANOS_PER_SECOND;
  if (second != prefixSecond_) {
    std::string full = formatTimestamp(nanos);
    prefix_ = full.substr(0, full.size() - 11);  // drops the ".nnnnnnnnnZ"
    prefixSecond_ = second;
  }
  return prefix_;
}

void ContainerLog::appendEntry(Stream stream, char tag, std::string_view content,
                               int64_t nowNanos) {
  // ".nnnnnnnnnZ stdout F " is 21 bytes; the prefix is 19.
  size_t size = 19 + 21 + content.size() + 1;
  if (maxSize_ > 0) {
    int64_t used = fileSize_ + static_cast<int64_t>(out_.size());
    if (used > 0 && used + static_cast<int64_t>(size) > maxSize_) {
      flush();
      truncateFile();
    }
  }

  out_ += timestampPrefix(nowNanos);
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%09lldZ ",
                static_cast<long long>(nowNanos % NANOS_PER_SECOND));
  out_ += fraction;
  out_ += streamName(stream);
  out_ += ' ';
  out_ += tag;
  out_ += ' ';
  out_ += content;
  out_ += '\n';
  if (out_.size() >= WRITE_BUFFER_SIZE) flush();
}

void ContainerLog::flush() {
  if (out_.empty()) return;
  if (fd_ < 0) {
    out_.clear();
    return;
  }
  size_t done = 0;
  while (done < out_.size()) {
    ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      static log::RateLimit limit(std::chrono::seconds(10));
      unsigned suppressed = 0;
      if (limit.allow(suppressed)) {
        log::error("writing the container log failed; output is lost",
                   {containerField(),
                    {"path", path_},
                    {"error", strerror(err)},
                    {"suppressed", suppressed}});
      }
      dropped_ += out_.size() - done;
      break;
    }
    done += static_cast<size_t>(n);
  }
  fileSize_ += static_cast<int64_t>(done);
  out_.clear();
}

void ContainerLog::sync() {
  flush();
  if (fd_ >= 0 && fsync(fd_) != 0) {
    log::warn("fsync of the container log failed",
              {containerField(), {"path", path_}, {"error", strerror(errno)}});
  }
}

void ContainerLog::truncateFile() {
  std::string temporary = path_ + ".tmp";
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0 && rename(temporary.c_str(), path_.c_str()) == 0) {
    close(fd_);
    fd_ = fd;
    fileSize_ = 0;
    return;
  }
  int err = errno;
  if (fd >= 0) {
    close(fd);
    unlink(temporary.c_str());
  }
  // Without a new file, the old one is emptied in place, so that the limit still holds.
  log::warn("replacing the container log failed; truncating it in place",
            {containerField(), {"path", path_}, {"error", strerror(err)}});
  if (ftruncate(fd_, 0) == 0) fileSize_ = 0;
}

void ContainerLog::reopen() {
  flush();
  if (path_.empty()) return;
  int fd = openAppend(path_);
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  struct stat st;
  fileSize_ = fstat(fd_, &st) == 0 ? st.st_size : 0;
}

std::optional<LogEntry> parseLogEntry(std::string_view line) {
  size_t first = line.find(' ');
  if (first == std::string_view::npos || first == 0) return std::nullopt;
  size_t second = line.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string_view stream = line.substr(first + 1, second - first - 1);
  if (stream != "stdout" && stream != "stderr") return std::nullopt;
  if (line.size() < second + 3 || line[second + 2] != ' ') return std::nullopt;
  char tag = line[second + 1];
  if (tag != 'P' && tag != 'F') return std::nullopt;

  LogEntry entry;
  entry.timestamp = line.substr(0, first);
  entry.stream = stream == "stdout" ? Stream::STDOUT : Stream::STDERR;
  entry.partial = tag == 'P';
  entry.content = line.substr(second + 3);
  return entry;
}

}  // namespace crio::conmon
