// CRI request messages inside state records, stored in protobuf's JSON mapping (field names as in
// the .proto) so a record stays readable and survives new fields.
#pragma once

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>

namespace crio::cri {

nlohmann::json messageToJson(const google::protobuf::Message& message);
void messageFromJson(const nlohmann::json& json, google::protobuf::Message& message);

}  // namespace crio::cri
