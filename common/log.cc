#include "common/log.h"

#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <vector>

namespace crio::log {

namespace {

struct State {
  std::atomic<int> threshold{static_cast<int>(Level::INFO)};
  std::string identifier = "crio";
  bool journal = false;
  std::mutex writeLock;
};

State& state() {
  static State s;
  return s;
}

// JOURNAL_STREAM is "DEV:INODE" of the stream systemd connected to stderr; it only counts when
// stderr is still that stream (a child may have redirected it).
bool stderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st;
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

int syslogPriority(Level level) {
  switch (level) {
    case Level::TRACE:
    case Level::DEBUG:
      return LOG_DEBUG;
    case Level::INFO:
      return LOG_INFO;
    case Level::WARN:
      return LOG_WARNING;
    case Level::ERROR:
      return LOG_ERR;
    case Level::FATAL:
      return LOG_CRIT;
  }
  return LOG_INFO;
}

bool needsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

void appendValue(std::string& out, std::string_view value) {
  if (!needsQuotes(value)) {
    out += value;
    return;
  }
  out += '"';
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string timestamp() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06ldZ", ts.tv_nsec / 1000);
  return buf;
}

void writeJournal(Level level, std::string_view message, std::initializer_list<Field> fields) {
  std::vector<std::string> entries;
  entries.reserve(fields.size() + 3);
  entries.push_back("MESSAGE=" + std::string(message));
  entries.push_back("PRIORITY=" + std::to_string(syslogPriority(level)));
  entries.push_back("SYSLOG_IDENTIFIER=" + state().identifier);
  for (const auto& field : fields) {
    std::string name;
    for (char c : field.key) {
      name += std::isalnum(static_cast<unsigned char>(c))
                  ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                  : '_';
    }
    // Journal field names may not start with an underscore or a digit.
    if (name.empty() || name[0] == '_' || std::isdigit(static_cast<unsigned char>(name[0]))) {
      name = "F" + name;
    }
    entries.push_back(name + "=" + field.value);
  }
  std::vector<struct iovec> iov;
  iov.reserve(entries.size());
  for (auto& entry : entries)
    iov.push_back({entry.data(), entry.size()});
  sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace

bool parseLevel(std::string_view text, Level& level) {
  static constexpr std::pair<std::string_view, Level> NAMES[] = {
      {"trace", Level::TRACE}, {"debug", Level::DEBUG},  {"info", Level::INFO},
      {"warn", Level::WARN},   {"warning", Level::WARN}, {"error", Level::ERROR},
      {"fatal", Level::FATAL}, {"panic", Level::FATAL},
  };
  for (const auto& [name, value] : NAMES) {
    if (name == text) {
      level = value;
      return true;
    }
  }
  return false;
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::TRACE:
      return "trace";
    case Level::DEBUG:
      return "debug";
    case Level::INFO:
      return "info";
    case Level::WARN:
      return "warn";
    case Level::ERROR:
      return "error";
    case Level::FATAL:
      return "fatal";
  }
  return "info";
}

void setup(std::string_view identifier, Level threshold) {
  auto& s = state();
  s.identifier = identifier;
  s.journal = stderrIsJournal();
  s.threshold = static_cast<int>(threshold);
}

void setLevel(Level threshold) {
  state().threshold = static_cast<int>(threshold);
}

Level level() {
  return static_cast<Level>(state().threshold.load());
}

bool enabled(Level level) {
  return static_cast<int>(level) >= state().threshold.load();
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  auto& s = state();
  if (s.journal) {
    writeJournal(level, message, fields);
    return;
  }
  std::string line;
  line.reserve(128);
  line += "time=";
  line += timestamp();
  line += " level=";
  line += levelName(level);
  line += " daemon=";
  line += s.identifier;
  line += " msg=";
  appendValue(line, message);
  for (const auto& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    appendValue(line, field.value);
  }
  line += '\n';
  std::lock_guard<std::mutex> guard(s.writeLock);
  ::write(STDERR_FILENO, line.data(), line.size());
}

bool RateLimit::allow(unsigned& suppressed) {
  auto now = std::chrono::steady_clock::now();
  if (last_.time_since_epoch().count() != 0 && now - last_ < interval_) {
    ++held_;
    return false;
  }
  last_ = now;
  suppressed = held_;
  held_ = 0;
  return true;
}

}  // namespace crio::log
