#include "crio-cri/oci/process-user.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "common/error.h"

namespace crio::cri::oci {

namespace {

// Largest valid id: (uid_t)-1 means "no change" to setuid(2) and cannot be an id.
constexpr int64_t MAX_ID = 4294967294;

std::vector<std::string_view> splitFields(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t end = line.find(separator, start);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, end - start));
    start = end + 1;
  }
}

std::optional<uint32_t> parseId(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > MAX_ID) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

// Calls fn(line) for each line that is neither empty, a comment nor a NIS entry.
template <typename Fn>
void forEachEntryLine(std::string_view text, Fn&& fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == '+' || line[0] == '-') continue;
    fn(line);
  }
}

uint32_t checkedId(int64_t value, std::string_view field) {
  if (value < 0 || value > MAX_ID) {
    fail(ErrorCategory::INVALID_ARGUMENT, std::string(field) + " " + std::to_string(value) +
                                              " is out of range 0.." + std::to_string(MAX_ID));
  }
  return static_cast<uint32_t>(value);
}

// The image's account files, read once per resolution; a missing file reads as empty.
struct AccountFiles {
  std::vector<PasswdEntry> passwd;
  std::vector<GroupEntry> groups;

  explicit AccountFiles(const RootfsFiles& rootfs) {
    if (auto text = rootfs.readFile("/etc/passwd", MAX_ACCOUNT_FILE_BYTES)) {
      passwd = parsePasswd(*text);
    }
    if (auto text = rootfs.readFile("/etc/group", MAX_ACCOUNT_FILE_BYTES)) {
      groups = parseGroup(*text);
    }
  }

  const PasswdEntry* userByName(std::string_view name) const {
    for (const auto& entry : passwd) {
      if (entry.name == name) return &entry;
    }
    return nullptr;
  }
  const PasswdEntry* userById(uint32_t uid) const {
    for (const auto& entry : passwd) {
      if (entry.uid == uid) return &entry;
    }
    return nullptr;
  }
  const GroupEntry* groupByName(std::string_view name) const {
    for (const auto& entry : groups) {
      if (entry.name == name) return &entry;
    }
    return nullptr;
  }
};

struct ResolvedUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string name;  // "" when the uid has no /etc/passwd entry
};

ResolvedUser userFromEntry(const PasswdEntry* entry, uint32_t uid) {
  if (entry == nullptr) return {uid, 0, ""};
  return {entry->uid, entry->gid, entry->name};
}

ResolvedUser resolveUserName(const AccountFiles& files, std::string_view name,
                             std::string_view field) {
  const PasswdEntry* entry = files.userByName(name);
  if (entry == nullptr) {
    fail(ErrorCategory::INVALID_ARGUMENT, std::string(field) + ": user \"" + std::string(name) +
                                              "\" is not in the image's /etc/passwd");
  }
  return userFromEntry(entry, entry->uid);
}

// Resolves the user part of an image's User: a uid or a name.
ResolvedUser resolveImageUserPart(const AccountFiles& files, std::string_view part) {
  if (auto uid = parseId(part)) return userFromEntry(files.userById(*uid), *uid);
  return resolveUserName(files, part, "image config User");
}

uint32_t resolveImageGroupPart(const AccountFiles& files, std::string_view part) {
  if (auto gid = parseId(part)) return *gid;
  const GroupEntry* entry = files.groupByName(part);
  if (entry == nullptr) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "image config User: group \"" + std::string(part) + "\" is not in the image's /etc/group");
  }
  return entry->gid;
}

// A list of gids without repeats, in first-added order.
class GidList {
 public:
  void add(uint32_t gid) {
    if (seen_.insert(gid).second) gids_.push_back(gid);
  }
  std::vector<uint32_t> take() { return std::move(gids_); }

 private:
  std::vector<uint32_t> gids_;
  std::unordered_set<uint32_t> seen_;
};

}  // namespace

std::vector<PasswdEntry> parsePasswd(std::string_view text) {
  std::vector<PasswdEntry> entries;
  forEachEntryLine(text, [&](std::string_view line) {
    auto fields = splitFields(line, ':');
    if (fields.size() < 4 || fields[0].empty()) return;
    auto uid = parseId(fields[2]);
    auto gid = parseId(fields[3]);
    if (!uid || !gid) return;
    PasswdEntry entry{std::string(fields[0]), *uid, *gid, ""};
    if (fields.size() > 5) entry.home = std::string(fields[5]);
    entries.push_back(std::move(entry));
  });
  return entries;
}

std::vector<GroupEntry> parseGroup(std::string_view text) {
  std::vector<GroupEntry> entries;
  forEachEntryLine(text, [&](std::string_view line) {
    auto fields = splitFields(line, ':');
    if (fields.size() < 3 || fields[0].empty()) return;
    auto gid = parseId(fields[2]);
    if (!gid) return;
    GroupEntry entry{std::string(fields[0]), *gid, {}};
    if (fields.size() > 3 && !fields[3].empty()) {
      for (std::string_view member : splitFields(fields[3], ',')) {
        if (!member.empty()) entry.members.emplace_back(member);
      }
    }
    entries.push_back(std::move(entry));
  });
  return entries;
}

ProcessUser resolveProcessUser(const UserRequest& request, const RootfsFiles& rootfs) {
  // As the kubelet validates it: a group alone would leave the user to the image, which is
  // rarely what the pod's author meant.
  if (request.runAsGroup && !request.runAsUser && request.runAsUsername.empty()) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "security_context.run_as_group is set without run_as_user or run_as_username: set "
         "one of them too");
  }
  AccountFiles files(rootfs);

  ResolvedUser user;
  if (request.runAsUser) {
    uint32_t uid = checkedId(*request.runAsUser, "security_context.run_as_user");
    user = userFromEntry(files.userById(uid), uid);
  } else if (!request.runAsUsername.empty()) {
    user = resolveUserName(files, request.runAsUsername, "security_context.run_as_username");
  } else {
    std::string_view spec = request.imageUser;
    size_t colon = spec.find(':');
    std::string_view userPart = spec.substr(0, colon);
    user = userPart.empty() ? userFromEntry(files.userById(0), 0)
                            : resolveImageUserPart(files, userPart);
    if (colon != std::string_view::npos) {
      user.gid = resolveImageGroupPart(files, spec.substr(colon + 1));
    }
  }
  if (request.runAsGroup) {
    user.gid = checkedId(*request.runAsGroup, "security_context.run_as_group");
  }

  if (request.supplementalGroups.size() > MAX_ADDITIONAL_GIDS) {
    fail(ErrorCategory::INVALID_ARGUMENT, "security_context.supplemental_groups has " +
                                              std::to_string(request.supplementalGroups.size()) +
                                              " entries, more than the bound of " +
                                              std::to_string(MAX_ADDITIONAL_GIDS));
  }

  GidList gids;
  gids.add(user.gid);
  if (!request.strictSupplementalGroups && !user.name.empty()) {
    for (const auto& group : files.groups) {
      if (std::find(group.members.begin(), group.members.end(), user.name) != group.members.end()) {
        gids.add(group.gid);
      }
    }
  }
  for (int64_t gid : request.supplementalGroups) {
    gids.add(checkedId(gid, "security_context.supplemental_groups"));
  }

  ProcessUser result{user.uid, user.gid, gids.take()};
  if (result.additionalGids.size() > MAX_ADDITIONAL_GIDS) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "the process would have " + std::to_string(result.additionalGids.size()) +
             " additional gids, more than the bound of " + std::to_string(MAX_ADDITIONAL_GIDS));
  }
  return result;
}

}  // namespace crio::cri::oci
