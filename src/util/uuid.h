// RFC 4122 UUID text, as servers make session ids (openvaa).
#pragma once

#include <string_view>

namespace sessionctl {

// Whether `s` looks like an RFC 4122 UUID (8-4-4-4-12 hex digits, either case).
bool is_uuid(std::string_view s);

}  // namespace sessionctl
