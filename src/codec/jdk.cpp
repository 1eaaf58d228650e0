// The grammar is the Java Object Serialization Stream Protocol (Java SE 8 spec, chapter 6). Only the
// productions a wrapper, a String or an enum constant needs are followed; at anything else the reader
// stops and the value is opaque, since skipping an unknown object would mean parsing all of them.
#include "codec/jdk.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>

#include "util/errors.h"
#include "util/utf8.h"

namespace sessionctl {

namespace {

constexpr std::uint8_t kTcNull = 0x70;
constexpr std::uint8_t kTcReference = 0x71;
constexpr std::uint8_t kTcClassDesc = 0x72;
constexpr std::uint8_t kTcObject = 0x73;
constexpr std::uint8_t kTcString = 0x74;
constexpr std::uint8_t kTcArray = 0x75;
constexpr std::uint8_t kTcEndBlockData = 0x78;
constexpr std::uint8_t kTcReset = 0x79;
constexpr std::uint8_t kTcLongString = 0x7C;
constexpr std::uint8_t kTcEnum = 0x7E;
constexpr std::uint32_t kBaseWireHandle = 0x7E0000;
constexpr std::uint8_t kScSerializable = 0x02;
constexpr std::uint8_t kScEnum = 0x10;
constexpr std::string_view kMagic("\xAC\xED\x00\x05", 4);
constexpr std::size_t kMaxShortUtf = 0xFFFF;
// Descriptor chains of real classes are a few levels deep; this only stops a crafted stream.
constexpr int kMaxDepth = 32;

constexpr std::string_view kNumberClass = "java.lang.Number";
constexpr std::uint64_t kNumberUid = 0x86AC951D0B94E08BULL;  // -8742448824652078965L

// A primitive wrapper as ObjectOutputStream describes it: one field "value" of type `code`, `width`
// bytes; the numeric ones extend java.lang.Number (no fields), Boolean and Character extend Object.
struct Wrapper {
  std::string_view name;
  std::uint64_t uid;
  char code;
  int width;
  bool number;
  JdkValue::Kind kind;
};

// serialVersionUIDs as the JDK 17 writes them (tests/fixtures/jdk/ holds its streams).
constexpr Wrapper kWrappers[] = {
    {"java.lang.Long", 0x3B8BE490CC8F23DFULL, 'J', 8, true, JdkValue::Kind::long_},
    {"java.lang.Integer", 0x12E2A0A4F7818738ULL, 'I', 4, true, JdkValue::Kind::int_},
    {"java.lang.Short", 0x684D37133460DA52ULL, 'S', 2, true, JdkValue::Kind::short_},
    {"java.lang.Byte", 0x9C4E6084EE50F51CULL, 'B', 1, true, JdkValue::Kind::byte_},
    {"java.lang.Boolean", 0xCD207280D59CFAEEULL, 'Z', 1, false, JdkValue::Kind::boolean},
    {"java.lang.Double", 0x80B3C24A296BFB04ULL, 'D', 8, true, JdkValue::Kind::double_},
    {"java.lang.Float", 0xDAEDC9A2DB3CF0ECULL, 'F', 4, true, JdkValue::Kind::float_},
    {"java.lang.Character", 0x348B47D96B1A2678ULL, 'C', 2, false, JdkValue::Kind::char_},
};
constexpr std::size_t kLongWrapper = 0;
constexpr std::size_t kIntWrapper = 1;

constexpr std::size_t kNoDesc = static_cast<std::size_t>(-1);

struct Field {
  char code = 0;
  std::string name;
};

struct ClassDesc {
  std::string name;
  std::uint64_t uid = 0;
  std::uint8_t flags = 0;
  std::vector<Field> fields;
  std::size_t super = kNoDesc;  // index into Reader::descs_, kNoDesc for TC_NULL
};

// What a wire handle names: a class descriptor, or a value that a TC_REFERENCE may stand for.
struct Handle {
  std::size_t desc = kNoDesc;
  JdkValue value;
};

void append_replacement(std::string& out) { append_utf8(out, 0xFFFD); }

// Modified UTF-8 (DataInput.readUTF) into UTF-8, surrogate pairs joined. Returns false when the bytes
// are not what DataOutput.writeUTF writes for a valid string: a raw NUL, an overlong or 4-byte form, a
// cut sequence, a lone surrogate; each bad unit becomes U+FFFD.
bool decode_modified_utf8(std::string_view in, std::string& out) {
  bool ok = true;
  char32_t high = 0;  // a high surrogate waiting for its low half
  auto flush_high = [&] {
    if (high != 0) {
      append_replacement(out);
      ok = false;
      high = 0;
    }
  };
  std::size_t i = 0;
  while (i < in.size()) {
    const auto b = static_cast<std::uint8_t>(in[i]);
    auto cont = [&](std::size_t k) {
      return i + k < in.size() && (static_cast<std::uint8_t>(in[i + k]) & 0xC0) == 0x80;
    };
    auto low6 = [&](std::size_t k) { return static_cast<char32_t>(static_cast<std::uint8_t>(in[i + k]) & 0x3F); };
    char32_t unit = 0;
    bool valid = false;
    if (b >= 0x01 && b < 0x80) {
      unit = b;
      valid = true;
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && cont(1)) {
      unit = (static_cast<char32_t>(b & 0x1F) << 6) | low6(1);
      valid = unit >= 0x80 || unit == 0;  // C0 80 is how NUL is written; other short forms are overlong
      i += 2;
    } else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      unit = (static_cast<char32_t>(b & 0x0F) << 12) | (low6(1) << 6) | low6(2);
      valid = unit >= 0x800;
      i += 3;
    } else {
      i += 1;
    }
    if (!valid) {
      flush_high();
      append_replacement(out);
      ok = false;
    } else if (unit >= 0xDC00 && unit <= 0xDFFF && high != 0) {
      append_utf8(out, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00));
      high = 0;
    } else {
      flush_high();
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        high = unit;
      } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
        append_replacement(out);
        ok = false;
      } else {
        append_utf8(out, unit);
      }
    }
  }
  flush_high();
  return ok;
}

void put_be(std::string& out, std::uint64_t v, int width) {
  for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

void put_short_utf(std::string& out, std::string_view ascii) {
  put_be(out, ascii.size(), 2);
  out += ascii;
}

// The class descriptor ObjectOutputStream writes for a wrapper, its superclass's after it.
void put_wrapper_desc(std::string& out, const Wrapper& w) {
  out.push_back(static_cast<char>(kTcClassDesc));
  put_short_utf(out, w.name);
  put_be(out, w.uid, 8);
  out.push_back(static_cast<char>(kScSerializable));
  put_be(out, 1, 2);
  out.push_back(w.code);
  put_short_utf(out, "value");
  out.push_back(static_cast<char>(kTcEndBlockData));
  if (w.number) {
    out.push_back(static_cast<char>(kTcClassDesc));
    put_short_utf(out, kNumberClass);
    put_be(out, kNumberUid, 8);
    out.push_back(static_cast<char>(kScSerializable));
    put_be(out, 0, 2);
    out.push_back(static_cast<char>(kTcEndBlockData));
  }
  out.push_back(static_cast<char>(kTcNull));
}

std::string wrapper_stream(const Wrapper& w, std::uint64_t bits) {
  std::string out(kMagic);
  out.push_back(static_cast<char>(kTcObject));
  put_wrapper_desc(out, w);
  put_be(out, bits, w.width);
  return out;
}

// Reads top-level objects one by one. Each read_* returns false where the stream holds something it
// does not follow (or is cut short); the caller then makes the value opaque.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool at_end() const { return pos_ >= in_.size(); }
  bool read_header() {
    std::string_view s;
    return take_bytes(kMagic.size(), s) && s == kMagic;
  }

  // The next top-level object; TC_RESET before it forgets every handle, as ObjectInputStream does.
  JdkValue next() {
    const std::size_t start = pos_;
    while (peek() == kTcReset) {
      ++pos_;
      handles_.clear();
      descs_.clear();
    }
    top_class_.clear();
    JdkValue v;
    if (read_content(v)) return v;
    JdkValue opaque;
    opaque.class_name = top_class_;
    opaque.bytes = in_.size() - start;
    pos_ = in_.size();  // nothing after an object it could not read can be found
    return opaque;
  }

 private:
  int peek() const { return pos_ < in_.size() ? static_cast<std::uint8_t>(in_[pos_]) : -1; }

  // The next n bytes, when that many remain.
  bool take_bytes(std::size_t n, std::string_view& s) {
    if (n > in_.size() - pos_) return false;
    s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool take_be(int width, std::uint64_t& v) {
    std::string_view s;
    if (!take_bytes(static_cast<std::size_t>(width), s)) return false;
    v = 0;
    for (const char c : s) v = (v << 8) | static_cast<std::uint8_t>(c);
    return true;
  }

  bool take_u8(std::uint8_t& v) {
    std::uint64_t x = 0;
    if (!take_be(1, x)) return false;
    v = static_cast<std::uint8_t>(x);
    return true;
  }

  // A length-prefixed modified UTF-8 text (2 bytes of length, 8 for TC_LONGSTRING), checked against
  // what remains before anything is allocated.
  bool read_utf(int length_width, std::string& out, bool& bad) {
    std::uint64_t n = 0;
    std::string_view s;
    if (!take_be(length_width, n) || n > in_.size() - pos_ || !take_bytes(static_cast<std::size_t>(n), s)) return false;
    bad = !decode_modified_utf8(s, out);
    return true;
  }

  bool read_handle(std::size_t& index) {
    std::uint64_t h = 0;
    if (!take_be(4, h) || h < kBaseWireHandle || h - kBaseWireHandle >= handles_.size()) return false;
    index = static_cast<std::size_t>(h - kBaseWireHandle);
    return true;
  }

  bool read_string_body(int length_width, JdkValue& v) {
    const std::size_t handle = handles_.size();
    handles_.emplace_back();  // the handle is assigned before the text is read
    v.kind = JdkValue::Kind::string;
    v.class_name = "java.lang.String";
    if (!read_utf(length_width, v.text, v.bad_text)) return false;
    handles_[handle].value = v;
    return true;
  }

  // A String object where the grammar wants one (an enum constant's name, a field's class name).
  bool read_string_object(JdkValue& v) {
    std::uint8_t tc = 0;
    if (!take_u8(tc)) return false;
    if (tc == kTcString) return read_string_body(2, v);
    if (tc == kTcLongString) return read_string_body(8, v);
    std::size_t h = 0;
    if (tc != kTcReference || !read_handle(h) || handles_[h].value.kind != JdkValue::Kind::string) return false;
    v = handles_[h].value;
    return true;
  }

  // classDesc: a new descriptor, TC_NULL (out = kNoDesc) or a reference to an earlier one. Proxy
  // descriptors and class annotations are not followed: no wrapper, String or enum has them.
  bool read_class_desc(int depth, std::size_t& out) {
    std::uint8_t tc = 0;
    if (depth > kMaxDepth || !take_u8(tc)) return false;
    if (tc == kTcNull) {
      out = kNoDesc;
      return true;
    }
    if (tc == kTcReference) {
      std::size_t h = 0;
      if (!read_handle(h) || handles_[h].desc == kNoDesc) return false;
      out = handles_[h].desc;
      if (top_class_.empty()) top_class_ = descs_[out].name;
      return true;
    }
    if (tc != kTcClassDesc) return false;
    ClassDesc desc;
    bool bad_name = false;
    if (!read_utf(2, desc.name, bad_name)) return false;
    if (top_class_.empty()) top_class_ = desc.name;
    if (!take_be(8, desc.uid)) return false;
    out = descs_.size();
    descs_.push_back(std::move(desc));
    handles_.emplace_back();
    handles_.back().desc = out;
    std::uint64_t count = 0;
    if (!take_u8(descs_[out].flags) || !take_be(2, count)) return false;
    for (std::uint64_t i = 0; i < count; ++i) {
      Field f;
      std::uint8_t code = 0;
      bool bad = false;
      if (!take_u8(code) || !read_utf(2, f.name, bad)) return false;
      f.code = static_cast<char>(code);
      if (f.code == 'L' || f.code == '[') {
        JdkValue type;  // the field's class name, only needed to keep the handles in step
        if (!read_string_object(type)) return false;
      } else if (std::string_view("BCDFIJSZ").find(f.code) == std::string_view::npos) {
        return false;
      }
      descs_[out].fields.push_back(std::move(f));
    }
    std::uint8_t end = 0;
    if (!take_u8(end) || end != kTcEndBlockData) return false;
    std::size_t super = kNoDesc;
    if (!read_class_desc(depth + 1, super)) return false;
    descs_[out].super = super;
    return true;
  }

  bool is_plain(std::size_t d, std::string_view name, std::uint64_t uid, std::size_t fields) const {
    const ClassDesc& c = descs_[d];
    return c.name == name && c.uid == uid && c.flags == kScSerializable && c.fields.size() == fields;
  }

  // The wrapper whose exact descriptor chain d is, or nullptr: a class of that name with another
  // serialVersionUID, flags or fields is not one ObjectInputStream would read as the JDK's.
  const Wrapper* wrapper_of(std::size_t d) const {
    for (const Wrapper& w : kWrappers) {
      if (!is_plain(d, w.name, w.uid, 1)) continue;
      const ClassDesc& c = descs_[d];
      if (c.fields[0].code != w.code || c.fields[0].name != "value") return nullptr;
      if (!w.number) return c.super == kNoDesc ? &w : nullptr;
      const bool number_super =
          c.super != kNoDesc && is_plain(c.super, kNumberClass, kNumberUid, 0) && descs_[c.super].super == kNoDesc;
      return number_super ? &w : nullptr;
    }
    return nullptr;
  }

  bool read_wrapper(const Wrapper& w, JdkValue& v) {
    std::uint64_t bits = 0;
    if (!take_be(w.width, bits)) return false;
    v.kind = w.kind;
    v.class_name = std::string(w.name);
    switch (w.kind) {
      case JdkValue::Kind::double_: {
        double d = 0;
        std::memcpy(&d, &bits, sizeof d);
        v.real = d;
        break;
      }
      case JdkValue::Kind::float_: {
        const auto b32 = static_cast<std::uint32_t>(bits);
        float f = 0;
        std::memcpy(&f, &b32, sizeof f);
        v.real = f;
        break;
      }
      case JdkValue::Kind::boolean:
        v.integer = bits != 0 ? 1 : 0;  // readBoolean: any non-zero byte is true
        break;
      case JdkValue::Kind::char_:
        v.integer = static_cast<long long>(bits);
        if (bits >= 0xD800 && bits <= 0xDFFF) {
          append_replacement(v.text);
          v.bad_text = true;
        } else {
          append_utf8(v.text, static_cast<char32_t>(bits));
        }
        break;
      default: {
        // Sign-extend from the field's width: Java's integers are two's complement.
        const int shift = 64 - w.width * 8;
        v.integer = static_cast<long long>(bits << shift) >> shift;
        break;
      }
    }
    return true;
  }

  bool read_content(JdkValue& v) {
    std::uint8_t tc = 0;
    if (!take_u8(tc)) return false;
    switch (tc) {
      case kTcNull:
        v.kind = JdkValue::Kind::null;
        return true;
      case kTcString:
        return read_string_body(2, v);
      case kTcLongString:
        return read_string_body(8, v);
      case kTcReference: {
        std::size_t h = 0;
        // A reference to an object it could not read never gets here: reading stops at the first.
        if (!read_handle(h) || handles_[h].desc != kNoDesc) return false;
        v = handles_[h].value;
        return true;
      }
      case kTcObject: {
        std::size_t d = kNoDesc;
        if (!read_class_desc(0, d) || d == kNoDesc) return false;
        const Wrapper* w = wrapper_of(d);
        const std::size_t handle = handles_.size();
        handles_.emplace_back();
        if (w == nullptr || !read_wrapper(*w, v)) return false;
        handles_[handle].value = v;
        return true;
      }
      case kTcEnum: {
        std::size_t d = kNoDesc;
        if (!read_class_desc(0, d) || d == kNoDesc) return false;
        if ((descs_[d].flags & kScEnum) == 0 || !descs_[d].fields.empty()) return false;
        const std::size_t handle = handles_.size();
        handles_.emplace_back();
        JdkValue name;
        if (!read_string_object(name)) return false;
        v.kind = JdkValue::Kind::enum_;
        v.class_name = descs_[d].name;
        v.text = std::move(name.text);
        v.bad_text = name.bad_text;
        handles_[handle].value = v;
        return true;
      }
      case kTcArray: {
        // Read only for the class name of the opaque value.
        std::size_t d = kNoDesc;
        (void)read_class_desc(0, d);
        return false;
      }
      default:
        return false;
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  std::vector<Handle> handles_;
  std::vector<ClassDesc> descs_;
  std::string top_class_;  // the first class name read for the current top-level object
};

JdkValue opaque_whole(std::string_view bytes) {
  JdkValue v;
  v.bytes = bytes.size();
  return v;
}

}  // namespace

bool is_jdk_stream(std::string_view bytes) { return bytes.substr(0, kMagic.size()) == kMagic; }

JdkValue read_jdk(std::string_view bytes) {
  try {
    Reader r(bytes);
    if (!r.read_header()) return opaque_whole(bytes);
    JdkValue v = r.next();
    // The header belongs to the first object: an opaque value spans the whole input.
    if (v.kind == JdkValue::Kind::opaque) v.bytes = bytes.size();
    return v;
  } catch (const std::exception&) {  // allocation failure on a huge but well-formed text
    return opaque_whole(bytes);
  }
}

std::vector<JdkValue> read_jdk_all(std::string_view bytes) {
  std::vector<JdkValue> values;
  try {
    Reader r(bytes);
    if (!r.read_header()) {
      values.push_back(opaque_whole(bytes));
      return values;
    }
    while (!r.at_end()) {
      values.push_back(r.next());
      if (values.size() == 1 && values[0].kind == JdkValue::Kind::opaque) values[0].bytes = bytes.size();
    }
  } catch (const std::exception&) {
    values.assign(1, opaque_whole(bytes));
  }
  return values;
}

nlohmann::json to_json(const JdkValue& value) {
  using Kind = JdkValue::Kind;
  switch (value.kind) {
    case Kind::null:
      return nullptr;
    case Kind::string:
    case Kind::char_:
      if (value.bad_text) return {{"__class", value.class_name}, {"__text", value.text}, {"__invalid_utf", true}};
      return value.text;
    case Kind::long_:
    case Kind::int_:
    case Kind::short_:
    case Kind::byte_:
      return value.integer;
    case Kind::boolean:
      return value.integer != 0;
    case Kind::double_:
    case Kind::float_:
      if (std::isfinite(value.real)) return value.real;
      return {{"__class", value.class_name},
              {"__value", std::isnan(value.real) ? "NaN" : (value.real > 0 ? "Infinity" : "-Infinity")}};
    case Kind::enum_:
      return {{"__class", value.class_name}, {"__enum", value.text}};
    case Kind::opaque:
      break;
  }
  nlohmann::json j = nlohmann::json::object();
  if (!value.class_name.empty()) j["__class"] = value.class_name;
  j["__bytes"] = value.bytes;
  return j;
}

std::string write_jdk_string(std::string_view utf8) {
  std::string body;
  body.reserve(utf8.size());
  auto put3 = [&body](char32_t u) {
    body.push_back(static_cast<char>(0xE0 | (u >> 12)));
    body.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    body.push_back(static_cast<char>(0x80 | (u & 0x3F)));
  };
  for (std::size_t i = 0; i < utf8.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_decode(utf8, i, cp);
    if (n == 0) throw UsageError("a value to write as a Java String is not valid UTF-8");
    i += n;
    if (cp >= 0x01 && cp < 0x80) {
      body.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {  // NUL included: modified UTF-8 writes it as C0 80
      body.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      body.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      put3(cp);
    } else {  // a UTF-16 surrogate pair, each half in three bytes
      put3(0xD800 + ((cp - 0x10000) >> 10));
      put3(0xDC00 + ((cp - 0x10000) & 0x3FF));
    }
  }
  std::string out(kMagic);
  if (body.size() <= kMaxShortUtf) {
    out.push_back(static_cast<char>(kTcString));
    put_be(out, body.size(), 2);
  } else {
    out.push_back(static_cast<char>(kTcLongString));
    put_be(out, body.size(), 8);
  }
  out += body;
  return out;
}

std::string write_jdk_long(long long value) {
  return wrapper_stream(kWrappers[kLongWrapper], static_cast<std::uint64_t>(value));
}

std::string write_jdk_int(int value) {
  return wrapper_stream(kWrappers[kIntWrapper], static_cast<std::uint32_t>(value));
}

}  // namespace sessionctl
