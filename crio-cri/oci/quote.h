// Request values quoted for error messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crio::cri::oci {

// Bound on the part of a value that an error message repeats.
constexpr size_t MAX_QUOTED_BYTES = 256;

// Returns `value` in double quotes with control bytes, quotes and backslashes escaped (\n, \x00),
// cut at MAX_QUOTED_BYTES with "..." appended, so that a message stays one readable line.
std::string quoteValue(std::string_view value);

}  // namespace crio::cri::oci
