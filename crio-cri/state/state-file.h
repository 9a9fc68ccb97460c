// Durable records of crio-cri's pods and containers: one JSON file per object, replaced
// atomically (write a temporary file, fsync, rename, fsync the folder), so a crash leaves either
// the old record or the new one, never a torn file.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crio::cri {

// Bound on one record; a larger file is treated as corrupt.
constexpr size_t MAX_STATE_FILE_BYTES = 4 << 20;

void writeStateFile(const std::string& path, const nlohmann::json& record);
nlohmann::json readStateFile(const std::string& path);
void removeStateFile(const std::string& path);

// Paths of every "*.json" record in `dir`; leftovers of interrupted writes are removed.
std::vector<std::string> listStateFiles(const std::string& dir);

}  // namespace crio::cri
