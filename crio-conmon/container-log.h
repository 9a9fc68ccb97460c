// The container's log file in the CRI format that the kubelet reads.
//
// Format: one entry per line,
//   TIMESTAMP SP STREAM SP TAG SP CONTENT LF
// TIMESTAMP  RFC 3339 in UTC with nine fractional digits: 2016-10-06T00:17:09.669794202Z
//            (the kubelet parses it as Go's time.RFC3339Nano).
// STREAM     "stdout" or "stderr".
// TAG        "F" when CONTENT ends a line of the container's output: that line's newline is the
//            entry's LF. "P" when the line goes on in a later entry of the same stream: the LF
//            only ends the entry and is not part of the output.
// CONTENT    the container's bytes as written, without their newline; may be empty.
// So the container's output is the concatenation of every CONTENT, plus a newline after each F.
//
// A line is split into P entries when it is longer than MAX_ENTRY_CONTENT, when no newline
// follows within the caller's flush delay (a shell prompt), and when the stream ends. Output that
// ends without a newline therefore ends with a P entry and no F, as conmon and containerd write
// it. The kubelet returns that content without adding a newline.
//
// Size limit: before an entry would make the file larger than `maxSize` bytes, the log is
// truncated: a new empty file is created at PATH.tmp and renamed over PATH, and the entry starts
// it. A reader holding the old file keeps what it had. One entry larger than `maxSize` is still
// written whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crio::conmon {

// Bound on the content of one entry (a longer line becomes several P entries).
constexpr size_t MAX_ENTRY_CONTENT = 16 * 1024;
// Entries are collected up to this many bytes before a write(2).
constexpr size_t WRITE_BUFFER_SIZE = 64 * 1024;
// Smallest accepted size limit: a limit below this would truncate on nearly every entry.
constexpr int64_t MIN_LOG_SIZE_MAX = 8192;

enum class Stream { STDOUT = 0, STDERR = 1 };

std::string_view streamName(Stream stream);

// "2016-10-06T00:17:09.669794202Z" for a time in nanoseconds since the Unix epoch.
std::string formatTimestamp(int64_t nanos);

class ContainerLog {
 public:
  // Opens (creating, mode 0600) or appends to `path`; "" discards all output. `maxSize` <= 0
  // means no limit. Throws crio::Error when the file cannot be opened.
  ContainerLog(std::string path, int64_t maxSize);
  ~ContainerLog();

  ContainerLog(const ContainerLog&) = delete;
  ContainerLog& operator=(const ContainerLog&) = delete;

  // Takes bytes the container wrote. Every complete line becomes an F entry; the bytes after the
  // last newline wait for more (flushPartial()), unless they exceed MAX_ENTRY_CONTENT.
  void write(Stream stream, std::string_view data, int64_t nowNanos);

  // Writes the bytes waiting on `stream` as a P entry.
  void flushPartial(Stream stream, int64_t nowNanos);
  bool hasPartial(Stream stream) const;

  // Writes the collected entries to the file.
  void flush();
  // flush() and fsync.
  void sync();

  // Closes the file and opens `path` again, creating it if the kubelet renamed it away.
  void reopen();

  const std::string& path() const { return path_; }
  // Bytes of output taken and lost because writing to the file failed.
  uint64_t droppedBytes() const { return dropped_; }

 private:
  void appendEntry(Stream stream, char tag, std::string_view content, int64_t nowNanos);
  void openFile();
  void truncateFile();
  const std::string& timestampPrefix(int64_t nanos);

  std::string path_;
  int64_t maxSize_;
  int fd_ = -1;
  int64_t fileSize_ = 0;  // bytes in the file, not counting `out_`
  std::string out_;
  std::string partial_[2];
  uint64_t dropped_ = 0;
  int64_t prefixSecond_ = -1;
  std::string prefix_;
};

// One parsed entry; nullopt when `line` (without its LF) is not in the format above.
struct LogEntry {
  std::string timestamp;
  Stream stream;
  bool partial;
  std::string content;
};
std::optional<LogEntry> parseLogEntry(std::string_view line);

}  // namespace crio::conmon
