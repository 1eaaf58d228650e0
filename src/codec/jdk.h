// Java Object Serialization streams, what Spring Session's default JdkSerializationRedisSerializer
// stores in every field of a session hash: read as bytes only (nothing is looked up or instantiated),
// bounded by the input, with strings, the primitive wrappers and enum constants decoded and everything
// else reported as opaque; and the few values sessionctl writes, byte for byte as ObjectOutputStream.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace sessionctl {

// One top-level object of a stream.
struct JdkValue {
  enum class Kind { null, string, long_, int_, short_, byte_, boolean, double_, float_, char_, enum_, opaque };
  Kind kind = Kind::opaque;
  // The Java class: java.lang.String, java.lang.Long, the enum's type, an opaque object's class;
  // empty for null and for an opaque value whose first descriptor could not be read.
  std::string class_name;
  std::string text;       // string: its UTF-8; char_: the char as UTF-8; enum_: the constant's name
  bool bad_text = false;  // text came from invalid modified UTF-8 or a lone surrogate; U+FFFD stands there
  long long integer = 0;  // long_, int_, short_, byte_, char_ (the UTF-16 unit), boolean (0 or 1)
  double real = 0;        // double_, float_
  std::size_t bytes = 0;  // opaque: how many bytes of the input it spans (to the end: it cannot be skipped)
};

// Whether bytes begin with a serialization stream's header (magic AC ED, version 5).
bool is_jdk_stream(std::string_view bytes);

// The first object of the stream (the only one Spring Session writes per field); trailing bytes are
// ignored, as ObjectInputStream.readObject does. Never throws: whatever it cannot read is opaque.
JdkValue read_jdk(std::string_view bytes);

// Every top-level object of a stream written by several writeObject calls, in order, where later ones
// may refer to descriptors and objects of earlier ones; an opaque value, if any, is the last.
std::vector<JdkValue> read_jdk_all(std::string_view bytes);

// Strings, numbers and booleans as themselves; a char as a one-char string; anything else as an object
// of "__"-named fields: {"__class", "__enum"}, {"__class", "__text", "__invalid_utf": true},
// {"__class", "__bytes"}, {"__class", "__value": "NaN"} for a non-finite double or float.
nlohmann::json to_json(const JdkValue& value);

// The stream ObjectOutputStream writes for this String (TC_LONGSTRING above 65535 bytes of modified
// UTF-8). Throws UsageError when utf8 is not valid UTF-8.
std::string write_jdk_string(std::string_view utf8);

// The stream ObjectOutputStream writes for Long.valueOf(value).
std::string write_jdk_long(long long value);

// The stream ObjectOutputStream writes for Integer.valueOf(value).
std::string write_jdk_int(int value);

}  // namespace sessionctl
