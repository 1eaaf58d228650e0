// Writing JSON text directly, without a DOM: hot streams (list, archives) append their records with it.
#pragma once

#include <string>
#include <string_view>

namespace sessionctl {

// Appends `text` as a JSON string literal; invalid UTF-8 becomes U+FFFD, as dump_json does.
void append_json_string(std::string& out, std::string_view text);

}  // namespace sessionctl
