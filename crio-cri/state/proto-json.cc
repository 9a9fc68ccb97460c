#include "crio-cri/state/proto-json.h"

#include <google/protobuf/util/json_util.h>

#include "common/error.h"

namespace crio::cri {

nlohmann::json messageToJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) fail(ErrorCategory::INTERNAL, "encode state: " + status.ToString());
  return nlohmann::json::parse(text);
}

void messageFromJson(const nlohmann::json& json, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json.dump(), &message, options);
  if (!status.ok()) fail(ErrorCategory::INTERNAL, "decode state: " + status.ToString());
}

}  // namespace crio::cri
