// PHP's session serialization (what phpredis stores under PHPREDIS_SESSION:{id}), read into a tree
// without executing anything, shown as JSON, and written back byte for byte. Every value keeps the
// span of bytes it was read from, so a session written back unchanged is the input exactly, and a
// string leaf changed by a masker is the only thing re-encoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json/probe.h"

namespace sessionctl {

// session.serialize_handler: `php` writes name|value name|value ..., `php_serialize` one serialize()d
// array, the rare `php_binary` a length byte, the name and the value for each variable.
enum class PhpHandler { php, php_serialize, php_binary };

// Arrays and objects nested deeper than this are refused. Two below the JSON limit, so that
// to_json's view (the session object around them, a marker object inside) stays within
// kMaxJsonDepth for every later pass.
inline constexpr int kMaxPhpDepth = kMaxJsonDepth - 2;

enum class PhpKind {
  undefined,         // `!name|` (php) or a length byte with bit 7 (php_binary): PHP 5's variable without a value
  null,              // N;
  boolean,           // b:0; b:1;
  integer,           // i:-12;
  floating,          // d:0.5; d:INF; d:-INF; d:NAN;
  string,            // s:5:"alice";
  array,             // a:n:{key value ...}
  object,            // O:len:"Class":n:{name value ...}
  custom,            // C:len:"Class":len:{opaque}
  reference,         // R:n; (a PHP reference, &$x)
  object_reference,  // r:n; (the same object again)
  enum_case,         // E:len:"Enum:Case";
};

struct PhpMember;

// One value as read. begin/end is its span in PhpSession::source; body is where the bytes that
// follow the header start (a string's content, an array's or object's first member, a custom
// object's data). Only `text` of a string is meant to be changed; the rest describes the input.
struct PhpValue {
  PhpKind kind = PhpKind::null;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t body = 0;
  bool boolean = false;
  std::int64_t integer = 0;  // also the slot number of a reference
  double floating = 0;
  std::string text;                // string: its bytes; object, custom: the class; enum_case: "Enum:Case"
  std::string data;                // custom: the opaque bytes between { and }
  std::vector<PhpMember> members;  // array and object, in input order
};

// A key and its value: an array element, an object property, or a session variable (php, php_binary).
// key_begin/key_end span the key's bytes as written (`s:4:"user";`, `i:0;`, `user|`, `!user|`, `\x04user`).
struct PhpMember {
  std::string key;  // a string key's bytes, an integer key's decimal text, a variable's name
  bool int_key = false;
  std::size_t key_begin = 0;
  std::size_t key_end = 0;
  PhpValue value;
};

// A parsed session: its bytes, and its variables (php_serialize: the members of the one array).
struct PhpSession {
  PhpHandler handler = PhpHandler::php;
  std::string source;
  std::vector<PhpMember> variables;
};

// Where and why parse_php_session refused its input.
struct PhpParseError {
  std::size_t offset = 0;
  std::string reason;
};

// Parses the whole of `bytes` with handler h; nullopt (and *error filled when given) when any byte is
// not part of a well-formed session. Never throws on bad input; bounded by kMaxPhpDepth, and every
// declared length or count is checked against the bytes left before anything is allocated.
std::optional<PhpSession> parse_php_session(std::string_view bytes, PhpHandler h, PhpParseError* error = nullptr);

// The handler that parses the whole of `bytes`: php_serialize when it is one a:…{…} value, else php,
// else php_binary (whose length bytes rarely read as php's name|); nullopt when none does.
std::optional<PhpHandler> detect_php_handler(std::string_view bytes);

// The session as bytes: the source span of every value whose content is unchanged, and a fresh
// s:N:"…"; (N in bytes) for each string whose text differs from what was read.
std::string serialize(const PhpSession& session);

// A JSON view for display and dotted paths: an object of the variables (a later duplicate wins; an
// undefined one is null). An array whose keys are 0..n-1 in order is a JSON array, any other array an
// object keyed by the key text (integer keys in decimal); an object is {"__class": "Class", props...}
// with the \0*\0 and \0Class\0 prefixes of protected and private names dropped (kept when that would
// collide); INF, -INF and NAN are strings; custom objects are {"__class", "__custom"} (or
// "__custom_base64"), enums {"__enum": "Enum:Case"}, references {"__R": n} and {"__r": n}. A string
// value that is not UTF-8 is {"__bytes_base64": "..."}; a key or class name "__bytes_base64:...".
nlohmann::json to_json(const PhpSession& session);

// Calls visit for every string value (not keys, class names or custom data) in input order, with its
// dotted path as to_json shows it ("user", "cart.items.0.name"); visit may change the value, which
// serialize then re-encodes.
void for_each_string(PhpSession& session,
                     const std::function<void(const std::string& path, std::string& value)>& visit);

}  // namespace sessionctl
