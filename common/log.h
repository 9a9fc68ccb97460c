// Structured logging for every daemon of the suite.
//
// A line is a message plus key=value fields. On a terminal or a plain pipe it is written to stderr
// as logfmt: `time=... level=info msg="Started container" container=ab12`. When the process runs
// under systemd with its stderr connected to the journal (JOURNAL_STREAM matches), each line goes
// to the journal with the fields as upper-case journal fields (CONTAINER=ab12) and the message as
// MESSAGE, so `journalctl CONTAINER=ab12` finds every line about one container.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <string_view>

namespace crio::log {

enum class Level { TRACE, DEBUG, INFO, WARN, ERROR, FATAL };

// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "fatal"; nullopt-like false.
bool parseLevel(std::string_view text, Level& level);
std::string_view levelName(Level level);

// Sets the process-wide threshold and where lines go. `identifier` names the daemon
// (SYSLOG_IDENTIFIER in the journal, `daemon=` on stderr).
void setup(std::string_view identifier, Level threshold);
void setLevel(Level threshold);
Level level();
bool enabled(Level level);

struct Field {
  std::string_view key;
  std::string value;

  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename Int>
  requires std::is_arithmetic_v<Int> Field(std::string_view k, Int v)
      : key(k), value(std::to_string(v)) {}
};

void write(Level level, std::string_view message, std::initializer_list<Field> fields);

inline void trace(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::TRACE)) write(Level::TRACE, m, f);
}
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::DEBUG)) write(Level::DEBUG, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::INFO)) write(Level::INFO, m, f);
}
inline void warn(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::WARN)) write(Level::WARN, m, f);
}
inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
  if (enabled(Level::ERROR)) write(Level::ERROR, m, f);
}

// Lets a repeated message through at most once per interval; the next line that passes reports
// how many were suppressed. One instance per call site, e.g. a static member of a reconnect loop.
class RateLimit {
 public:
  explicit RateLimit(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // True when a line may be written now; `suppressed` receives the count held back since.
  bool allow(unsigned& suppressed);

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  unsigned held_ = 0;
};

}  // namespace crio::log
