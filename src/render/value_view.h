// How a stored value is shown to a person or a script: decoded by type and encoding, PII masked
// unless revealed. Every display path (inspect, mask, logs) goes through here.
#pragma once

#include <nlohmann/json.hpp>

#include "session/profile.h"
#include "session/session.h"

namespace sessionctl {

// {"encoding": "json"|"text"|"base64"|"fields"|"items"|"members", "value": …} for one key's value.
// Hash fields and list items that hold JSON are decoded too. Masked with the profile's PII rules
// (and free-text e-mail/phone detection) unless reveal is set. `expected` is the key's declared
// encoding: where JSON is expected but the value (or a list item) does not parse, it is corrupt and
// may hold anything, including PII that field rules can no longer find, so it is shown as a length
// placeholder ("[redacted: N chars]", "encoding": "corrupt", "reason": why) unless reveal is set.
// JSON nested deeper than kMaxJsonDepth is corrupt that way even with reveal.
nlohmann::json present_value(const StoredValue& value, const Profile* profile, bool reveal,
                             std::optional<Encoding> expected = std::nullopt);

// Base64 of arbitrary bytes (RFC 4648, with padding).
std::string base64_encode(const std::string& bytes);
// Decodes base64; throws UsageError on malformed input.
std::string base64_decode(const std::string& text);

}  // namespace sessionctl
