// A single-pass JSON validator that also picks out a few values by dotted path, without building a
// DOM. The read path uses it on every session value (state, last activity, --where, corrupt checks),
// where a full parse of millions of documents would dominate the run time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sessionctl {

struct JsonProbe {
  bool valid = false;   // the whole text is one JSON value (RFC 8259, UTF-8), nothing after it
  bool object = false;  // the top-level value is an object
  // For each wanted path: a string value unescaped; any other value as its raw JSON text.
  std::vector<std::optional<std::string>> values;
  std::vector<std::string> top_keys;  // keys of the top-level object (when asked)
};

// Validates `text` and extracts the values at `paths` ("current", "data.email", "items.0.id").
// With want_top_keys, also lists the top-level object's keys (for shape detection).
JsonProbe probe_json(std::string_view text, const std::vector<std::string>& paths, bool want_top_keys = false);

}  // namespace sessionctl
