// A single-pass JSON validator that also picks out a few values by dotted path, without building a
// DOM. The read path uses it on every session value (state, last activity, --where, corrupt checks),
// where a full parse of millions of documents would dominate the run time. It is also the gate in
// front of every DOM: parse_json builds one only for text the probe accepted.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sessionctl {

// Arrays and objects nested deeper than this make a value corrupt: the probe refuses it before
// descending, so no later pass (DOM, pretty printer, masker, --where) recurses without bound.
inline constexpr int kMaxJsonDepth = 64;

enum class JsonKind { none, null, boolean, number, string, array, object };

struct JsonProbe {
  bool valid = false;              // the whole text is one JSON value (RFC 8259, UTF-8), nothing after it
  bool object = false;             // the top-level value is an object
  bool too_deep = false;           // invalid because nested deeper than kMaxJsonDepth
  JsonKind kind = JsonKind::none;  // the top-level value's kind (from its first character)
  std::string error;               // why it is not valid, with the byte offset; empty when valid
  std::size_t error_offset = 0;    // the byte where it stopped being valid
  // For each wanted path: a string value unescaped; any other value as its raw JSON text.
  std::vector<std::optional<std::string>> values;
  std::vector<JsonKind> kinds;        // for each wanted path: the kind of its value, none when absent
  std::vector<std::string> top_keys;  // keys of the top-level object (when asked)
};

// Validates `text` and extracts the values at `paths` ("current", "data.email", "items.0.id").
// With want_top_keys, also lists the top-level object's keys (for shape detection).
JsonProbe probe_json(std::string_view text, const std::vector<std::string>& paths, bool want_top_keys = false);

// Parses text the probe accepts (so at most kMaxJsonDepth deep); nullopt when it is not JSON.
std::optional<nlohmann::json> parse_json(std::string_view text);

}  // namespace sessionctl
