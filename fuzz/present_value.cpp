// Presentation and masking of arbitrary stored bytes, as inspect shows them: no crash, and a masked
// result is always valid UTF-8 JSON. (Revealed values may hold raw bytes, e.g. zset members, which
// the writer in render/records.cpp replaces with U+FFFD; so only masked output is checked strictly.)
// The first byte picks the Redis type, the profile, --reveal and the expected encoding; the rest
// is the value (hash fields, list items and zset members are split at 0xff bytes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "render/value_view.h"
#include "session/profile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const sessionctl::ProfileSet kProfiles = sessionctl::ProfileSet::builtin();
  const unsigned pick = data[0];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    std::size_t end = rest.find('\xff', start);
    parts.push_back(rest.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }

  sessionctl::StoredValue v;
  using sessionctl::ValueType;
  static const ValueType kTypes[] = {ValueType::string, ValueType::hash, ValueType::list, ValueType::set,
                                     ValueType::zset};
  v.type = kTypes[pick % 5];
  if (v.type == ValueType::string) {
    v.raw = rest;
  } else if (v.type == ValueType::hash) {
    for (std::size_t i = 0; i + 1 < parts.size(); i += 2) v.fields.emplace_back(parts[i], parts[i + 1]);
  } else if (v.type == ValueType::zset) {
    for (std::size_t i = 0; i < parts.size(); ++i) v.scored.emplace_back(parts[i], static_cast<double>(i));
  } else {
    v.items = parts;
  }
  const auto& all = kProfiles.all();
  const std::size_t which = (pick / 5) % (all.size() + 1);
  const sessionctl::Profile* profile = which < all.size() ? &all[which] : nullptr;
  const bool reveal = (pick & 0x80) != 0;
  std::optional<sessionctl::Encoding> expected;
  if (pick & 0x40) expected = sessionctl::Encoding::json;

  // A profile with a framework serialization goes through present_serialized, as inspect sends it.
  const std::string* format = nullptr;
  if (profile && !profile->primary.format.empty()) format = &profile->primary.format;
  const nlohmann::json shown = format ? sessionctl::present_serialized(v, *format, profile, reveal)
                                      : sessionctl::present_value(v, profile, reveal, expected);
  try {
    (void)shown.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!reveal) (void)shown.dump();  // throws on invalid UTF-8
  } catch (const nlohmann::json::exception&) {
    std::abort();
  }
  return 0;
}
