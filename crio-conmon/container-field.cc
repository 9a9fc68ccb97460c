#include "crio-conmon/container-field.h"

namespace crio::conmon {

namespace {

std::string& loggedId() {
  static std::string id;
  return id;
}

}  // namespace

void setLoggedContainerId(std::string id) {
  loggedId() = std::move(id);
}

log::Field containerField() {
  return log::Field("container", loggedId());
}

}  // namespace crio::conmon
