// Base64 (RFC 4648, standard alphabet, with padding), for bytes that are not text: values in JSON
// output and in archives.
#pragma once

#include <string>

namespace sessionctl {

// Base64 of arbitrary bytes.
std::string base64_encode(const std::string& bytes);
// Decodes base64; throws UsageError on malformed input.
std::string base64_decode(const std::string& text);

}  // namespace sessionctl
