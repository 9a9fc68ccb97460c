#include "crio-cri/oci/mount-info.h"

#include <fstream>

#include "common/error.h"
#include "crio-cri/oci/container-path.h"

namespace crio::cri::oci {

namespace {

std::vector<std::string_view> splitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (start < line.size()) {
    size_t end = line.find(' ', start);
    if (end == std::string_view::npos) end = line.size();
    if (end > start) fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
  return fields;
}

// Decodes the kernel's octal escapes of space, tab, newline and backslash.
std::string unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      std::string_view digits = text.substr(i + 1, 3);
      bool octal = digits.size() == 3 && digits.find_first_not_of("01234567") == std::string::npos;
      if (octal) {
        out +=
            static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

bool hasPrefix(const std::vector<std::string>& fields, std::string_view prefix) {
  for (const auto& field : fields) {
    if (field.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

}  // namespace

bool MountInfoEntry::isShared() const {
  return hasPrefix(optional, "shared:");
}
bool MountInfoEntry::isSlave() const {
  return hasPrefix(optional, "master:");
}

std::vector<MountInfoEntry> parseMountInfo(std::string_view text) {
  std::vector<MountInfoEntry> entries;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::vector<std::string_view> fields = splitSpaces(text.substr(start, end - start));
    start = end + 1;

    if (fields.size() < 7) continue;
    MountInfoEntry entry;
    entry.root = unescape(fields[3]);
    entry.mountPoint = unescape(fields[4]);
    size_t i = 6;
    for (; i < fields.size() && fields[i] != "-"; i++)
      entry.optional.emplace_back(fields[i]);
    if (i + 1 >= fields.size()) continue;  // no separator or type: not a mountinfo line
    entry.fsType = fields[i + 1];
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<MountInfoEntry> readMountInfo(const std::string& path) {
  std::ifstream file(path);
  if (!file) failSyscall("open mount table", path);
  std::string text;
  char buffer[65536];
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(file.gcount()));
    if (text.size() > MAX_MOUNTINFO_BYTES) {
      fail(ErrorCategory::RESOURCE_EXHAUSTED, "mount table " + path + " is larger than " +
                                                  std::to_string(MAX_MOUNTINFO_BYTES) + " bytes");
    }
  }
  return parseMountInfo(text);
}

const MountInfoEntry* findContainingMount(const std::vector<MountInfoEntry>& mounts,
                                          const std::string& path) {
  const MountInfoEntry* best = nullptr;
  for (const auto& entry : mounts) {
    if (!isPathWithin(path, entry.mountPoint)) continue;
    if (best == nullptr || entry.mountPoint.size() >= best->mountPoint.size()) best = &entry;
  }
  return best;
}

}  // namespace crio::cri::oci
