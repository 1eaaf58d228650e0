// The JDK serialization reader on arbitrary bytes: no crash, no read out of bounds, and every String
// it decodes cleanly written back by write_jdk_string reads as the same text (byte for byte the input,
// when the input was exactly one short TC_STRING, since modified UTF-8 has one form per text).
#include "codec/jdk.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check_string(const sessionctl::JdkValue& v) {
  if (v.kind != sessionctl::JdkValue::Kind::string || v.bad_text) return;
  const std::string written = sessionctl::write_jdk_string(v.text);
  const sessionctl::JdkValue back = sessionctl::read_jdk(written);
  if (back.kind != sessionctl::JdkValue::Kind::string || back.bad_text || back.text != v.text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const sessionctl::JdkValue first = sessionctl::read_jdk(bytes);
  check_string(first);
  (void)sessionctl::to_json(first).dump();
  const std::vector<sessionctl::JdkValue> all = sessionctl::read_jdk_all(bytes);
  // Both readers read the first object alike; only a header with nothing after it gives no values.
  if (all.empty() ? first.kind != sessionctl::JdkValue::Kind::opaque : all[0].kind != first.kind) std::abort();
  for (const sessionctl::JdkValue& v : all) check_string(v);

  const bool one_short_string =
      size >= 7 && bytes[4] == '\x74' && size == 7 + ((static_cast<std::size_t>(data[5]) << 8) | data[6]);
  if (one_short_string && first.kind == sessionctl::JdkValue::Kind::string && !first.bad_text &&
      sessionctl::write_jdk_string(first.text) != bytes)
    std::abort();
  return 0;
}
