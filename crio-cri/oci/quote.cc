#include "crio-cri/oci/quote.h"

#include <cstdio>

namespace crio::cri::oci {

std::string quoteValue(std::string_view value) {
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < MAX_QUOTED_BYTES; i++) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (value.size() > MAX_QUOTED_BYTES) out += "...";
  out += '"';
  return out;
}

}  // namespace crio::cri::oci
