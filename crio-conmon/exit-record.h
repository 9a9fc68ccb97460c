// The record of a container's exit that the monitor leaves at EXIT_DIR/ID, so that crio-cri
// learns of an exit that happened while it was down or disconnected.
//
// Format: one JSON object, for example
//   {"version":1,"id":"4f2a...","pid":8123,"exitCode":137,"oomKilled":true,"reason":"OOMKilled",
//    "message":"","createdAt":1700000000000000000,"startedAt":1700000000100000000,
//    "finishedAt":1700000005000000000}
// version     1; a reader rejects a record with a higher one.
// pid         the init process in the monitor's pid namespace (0 when create failed).
// exitCode    the exit status, 128+N after signal N, -1 when create failed.
// oomKilled   the OOM killer killed a process of the container's cgroup.
// reason      "Completed" (exit 0), "Error", "OOMKilled" or "CreateFailed".
// message     detail for the reason, at most MAX_MESSAGE bytes.
// *At         nanoseconds since the Unix epoch; 0 for an event that did not happen.
// Keys may be added; readers ignore keys they do not know.
//
// The record is written durably: EXIT_DIR/.ID.tmp is written and fsynced, renamed to EXIT_DIR/ID,
// and EXIT_DIR is fsynced. A reader sees no record or a whole one, also after a power loss.
// The monitor never removes it; crio-cri does when it removes the container.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace crio::conmon {

constexpr int EXIT_RECORD_VERSION = 1;
constexpr size_t MAX_MESSAGE = 4096;
// A larger file is rejected by the reader: a record is a few hundred bytes.
constexpr size_t MAX_EXIT_RECORD_SIZE = 64 * 1024;

struct ExitRecord {
  std::string id;
  int32_t pid = 0;
  int32_t exitCode = 0;
  bool oomKilled = false;
  std::string reason;
  std::string message;
  int64_t createdAt = 0;
  int64_t startedAt = 0;
  int64_t finishedAt = 0;
};

std::string exitRecordPath(const std::string& dir, const std::string& id);

// Writes the record as described above, creating `dir` (mode 0700) if needed. Throws crio::Error.
void writeExitRecord(const std::string& dir, const ExitRecord& record);

// Reads the record of container `id`; nullopt when there is none. Throws INVALID_ARGUMENT for a
// record that is malformed, too large or of a newer version.
std::optional<ExitRecord> readExitRecord(const std::string& dir, const std::string& id);

}  // namespace crio::conmon
