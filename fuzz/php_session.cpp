// PHP session bytes with each handler: no crash, no read out of bounds, and for whatever parses, the
// writer gives back the input exactly, detection agrees, and the JSON view dumps without throwing.
#include "codec/php_session.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  bool any = false;
  for (const auto h :
       {sessionctl::PhpHandler::php, sessionctl::PhpHandler::php_serialize, sessionctl::PhpHandler::php_binary}) {
    auto session = sessionctl::parse_php_session(bytes, h);
    if (!session) continue;
    any = true;
    if (sessionctl::serialize(*session) != bytes) std::abort();
    (void)sessionctl::to_json(*session).dump();
    // Changing every string leaf must still give bytes that parse, with the new values.
    std::size_t leaves = 0;
    sessionctl::for_each_string(*session, [&](const std::string&, std::string& value) {
      value += "\";|";
      ++leaves;
    });
    const std::string changed = sessionctl::serialize(*session);
    auto again = sessionctl::parse_php_session(changed, h);
    if (!again) std::abort();
    std::size_t seen = 0;
    sessionctl::for_each_string(*again, [&](const std::string&, std::string& value) {
      if (value.size() < 3 || value.compare(value.size() - 3, 3, "\";|") != 0) std::abort();
      ++seen;
    });
    if (seen != leaves) std::abort();
  }
  if (any != sessionctl::detect_php_handler(bytes).has_value()) std::abort();
  return 0;
}
