// How a stored value is shown to a person or a script: decoded by type and encoding, PII masked
// unless revealed. Every display path (inspect, mask, logs) goes through here.
#pragma once

#include <nlohmann/json.hpp>

#include "session/profile.h"
#include "session/session.h"
#include "util/base64.h"

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

// A value a framework library serialized (KeyRole::format: pickle, marshal, jdk…), which sessionctl never
// executes: {"encoding": format, "value": {"bytes": N, "strings": [printable runs]}} — the runs of four or
// more printable bytes, as `strings` finds them, with e-mail addresses and phone numbers masked unless
// reveal (then "base64" carries the bytes too). A hash gives one such summary per field (a field value
// that is plain text stays text, masked as free text). What sessionctl can decode safely is shown decoded
// and masked with the profile's rules: PHP's session serialization as JSON (codec/php_session.h), and
// JDK-serialized wrappers and strings (codec/jdk.h) in a "jdk" hash.
nlohmann::json present_serialized(const StoredValue& value, const std::string& format, const Profile* profile,
                                  bool reveal);

}  // namespace sessionctl
