#include "common/capabilities.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/error.h"

namespace crio {

int capabilityFromName(const std::string& name) {
  std::string lower;
  for (char c : name)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("cap_", 0) != 0) lower = "cap_" + lower;
  cap_value_t value;
  if (cap_from_name(lower.c_str(), &value) != 0) return -1;
  return value;
}

void dropCapabilitiesExcept(const CapabilityList& keep) {
  std::set<cap_value_t> kept;
  for (const auto& name : keep) {
    int value = capabilityFromName(name);
    if (value < 0) fail(ErrorCategory::INVALID_ARGUMENT, "unknown capability " + name);
    kept.insert(value);
  }

  // The bounding set first: dropping from it needs CAP_SETPCAP, which the next step removes.
  for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (kept.count(cap) != 0 || !CAP_IS_SUPPORTED(cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) <= 0) continue;
    if (cap_drop_bound(cap) != 0 && errno != EPERM) {
      failSyscall("drop capability from bounding set", cap_to_name(cap));
    }
  }

  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    failSyscall("clear ambient capabilities");
  }

  // Keep only what the process has: asking for a capability outside the permitted set fails,
  // and a machine whose bounding set lacks one (CAP_SYS_RESOURCE, say) must still start.
  cap_t current = cap_get_proc();
  if (current == nullptr) failSyscall("cap_get_proc");
  std::vector<cap_value_t> values;
  for (cap_value_t cap : kept) {
    cap_flag_value_t have = CAP_CLEAR;
    if (cap_get_flag(current, cap, CAP_PERMITTED, &have) == 0 && have == CAP_SET) {
      values.push_back(cap);
    }
  }
  cap_free(current);

  cap_t caps = cap_init();
  if (caps == nullptr) failSyscall("cap_init");
  int rc = 0;
  if (!values.empty()) {
    rc |=
        cap_set_flag(caps, CAP_PERMITTED, static_cast<int>(values.size()), values.data(), CAP_SET);
    rc |=
        cap_set_flag(caps, CAP_EFFECTIVE, static_cast<int>(values.size()), values.data(), CAP_SET);
  }
  if (rc == 0) rc = cap_set_proc(caps);
  int saved = errno;
  cap_free(caps);
  if (rc != 0) failSyscall("set process capabilities", "", saved);
}

void setNoNewPrivileges() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) failSyscall("set no_new_privs");
}

void switchToUser(const std::string& user) {
  uid_t uid;
  gid_t gid;
  std::string name = user;
  if (!user.empty() && std::all_of(user.begin(), user.end(), ::isdigit)) {
    uid = static_cast<uid_t>(std::stoul(user));
    struct passwd* pw = getpwuid(uid);
    gid = pw != nullptr ? pw->pw_gid : uid;
  } else {
    struct passwd* pw = getpwnam(user.c_str());
    if (pw == nullptr) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           "user \"" + user + "\" does not exist; create it or set [crio.suite] imaged_user");
    }
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  if (uid == 0) {
    fail(ErrorCategory::INVALID_ARGUMENT,
         "user \"" + user + "\" is root; an unprivileged user is required");
  }
  if (setgroups(0, nullptr) != 0) failSyscall("setgroups");
  if (setresgid(gid, gid, gid) != 0) failSyscall("setresgid", std::to_string(gid));
  if (setresuid(uid, uid, uid) != 0) failSyscall("setresuid", std::to_string(uid));
}

std::string effectiveCapabilities() {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return "unknown";
  std::string out;
  for (cap_value_t cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    cap_flag_value_t value = CAP_CLEAR;
    if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &value) == 0 && value == CAP_SET) {
      char* name = cap_to_name(cap);
      std::string upper;
      for (const char* p = name + 4; *p != 0; ++p) {
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
      }
      cap_free(name);
      if (!out.empty()) out += ",";
      out += upper;
    }
  }
  cap_free(caps);
  return out.empty() ? "none" : out;
}

}  // namespace crio
