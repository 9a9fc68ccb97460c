// The in-memory index of pods or containers. Each object has its own mutex, so a slow operation
// on one (StopContainer waiting out a grace period) never blocks calls on another or List calls;
// the table's own lock is held only to find, add or remove an entry.
//
// Lookups accept a full id or a unique prefix of one, as crictl users type them.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/error.h"

namespace crio::cri {

// Bound on the part of a requested id that an error message repeats.
constexpr size_t MAX_SHOWN_ID = 128;

template <typename T>
class ObjectTable {
 public:
  struct Entry {
    std::mutex lock;  // held while the object changes; never while waiting on another entry
    // Held for the whole of a mutating call (Run, Stop, Remove) so that such calls on one object
    // run one at a time. `lock` is taken only briefly inside it, so readers (Status, List) never
    // wait for a slow operation such as a CNI DEL.
    std::mutex operation;
    T value;
  };
  using EntryPtr = std::shared_ptr<Entry>;

  explicit ObjectTable(std::string kind) : kind_(std::move(kind)) {}

  // Adds `value` under `id`; ALREADY_EXISTS if the id is taken.
  EntryPtr add(const std::string& id, T value) {
    std::unique_lock lock(mutex_);
    auto entry = std::make_shared<Entry>();
    entry->value = std::move(value);
    auto [it, inserted] = entries_.emplace(id, entry);
    if (!inserted) fail(ErrorCategory::ALREADY_EXISTS, kind_ + " " + id + " already exists");
    return entry;
  }

  // The entry for a full id or a unique prefix; nullptr when none matches. An ambiguous prefix
  // is INVALID_ARGUMENT.
  EntryPtr find(const std::string& idOrPrefix) const {
    if (idOrPrefix.empty()) return nullptr;
    std::shared_lock lock(mutex_);
    auto it = entries_.lower_bound(idOrPrefix);
    if (it == entries_.end() || it->first.compare(0, idOrPrefix.size(), idOrPrefix) != 0) {
      return nullptr;
    }
    if (it->first == idOrPrefix) return it->second;
    auto next = std::next(it);
    if (next != entries_.end() && next->first.compare(0, idOrPrefix.size(), idOrPrefix) == 0) {
      fail(ErrorCategory::INVALID_ARGUMENT,
           kind_ + " id prefix " + idOrPrefix + " matches more than one " + kind_);
    }
    return it->second;
  }

  // Like find(), but NOT_FOUND naming the id when absent.
  EntryPtr get(const std::string& idOrPrefix) const {
    if (idOrPrefix.empty()) fail(ErrorCategory::INVALID_ARGUMENT, kind_ + " id is empty");
    EntryPtr entry = find(idOrPrefix);
    if (!entry) {
      // Ids are 64 hex digits: a longer request value is cut, so that the message stays small.
      std::string quotedId = idOrPrefix.size() <= MAX_SHOWN_ID
                                 ? idOrPrefix
                                 : idOrPrefix.substr(0, MAX_SHOWN_ID) + "... (" +
                                       std::to_string(idOrPrefix.size()) + " bytes)";
      fail(ErrorCategory::NOT_FOUND, kind_ + " " + quotedId + " not found");
    }
    return entry;
  }

  void remove(const std::string& id) {
    std::unique_lock lock(mutex_);
    entries_.erase(id);
  }

  std::vector<EntryPtr> all() const {
    std::shared_lock lock(mutex_);
    std::vector<EntryPtr> out;
    out.reserve(entries_.size());
    for (const auto& [id, entry] : entries_)
      out.push_back(entry);
    return out;
  }

 private:
  std::string kind_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, EntryPtr> entries_;
};

}  // namespace crio::cri
