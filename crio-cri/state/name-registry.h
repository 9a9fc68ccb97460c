// Reservations of the names that must be unique among live objects, such as a pod's full name
// (name, namespace, uid, attempt). A name is reserved before the object is created, so two
// concurrent requests for one name cannot both succeed.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "common/error.h"

namespace crio::cri {

class NameRegistry {
 public:
  explicit NameRegistry(std::string kind) : kind_(std::move(kind)) {}

  // Reserves `name` for `id`. Throws ALREADY_EXISTS naming the id that has it.
  void reserve(const std::string& name, const std::string& id) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto [it, inserted] = names_.emplace(name, id);
    if (!inserted && it->second != id) {
      fail(ErrorCategory::ALREADY_EXISTS,
           kind_ + " name " + name + " is reserved for " + kind_ + " " + it->second);
    }
  }

  // Releases `name` if it is reserved for `id`.
  void release(const std::string& name, const std::string& id) {
    std::lock_guard<std::mutex> guard(mutex_);
    auto it = names_.find(name);
    if (it != names_.end() && it->second == id) names_.erase(it);
  }

 private:
  std::string kind_;
  std::mutex mutex_;
  std::map<std::string, std::string> names_;
};

}  // namespace crio::cri
