#include "codec/php_session.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "util/base64.h"
#include "util/utf8.h"

namespace sessionctl {

namespace {

// The fewest bytes one array element or property can take (`i:0;N;`): a declared count above
// remaining / this is refused before anything is reserved.
constexpr std::size_t kMinMemberBytes = 6;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ == s_.size(); }
  const PhpParseError& error() const { return error_; }

  bool fail(std::string reason) {
    error_ = {pos_, std::move(reason)};
    return false;
  }

  // The php handler's variables: name|value ... up to the end of the input.
  bool variables(std::vector<PhpMember>& out) {
    while (!at_end()) {
      PhpMember m;
      m.key_begin = pos_;
      const std::size_t bar = s_.find('|', pos_);
      if (bar == std::string_view::npos) return fail("a variable name without '|'");
      m.key.assign(s_.substr(pos_, bar - pos_));
      pos_ = bar + 1;
      m.key_end = pos_;
      if (!variable_value(m, !m.key.empty() && m.key[0] == '!')) return false;
      if (m.value.kind == PhpKind::undefined) m.key.erase(0, 1);
      out.push_back(std::move(m));
    }
    return true;
  }

  // php_binary's variables: a byte with the name's length (bit 7: PHP 5's undefined mark), the
  // name, the value; names are at most 127 bytes.
  bool binary_variables(std::vector<PhpMember>& out) {
    while (!at_end()) {
      PhpMember m;
      m.key_begin = pos_;
      const auto head = static_cast<unsigned char>(s_[pos_]);
      const std::size_t len = head & 0x7fU;
      if (len >= s_.size() - pos_) return fail("a variable name beyond the end of the input");
      m.key.assign(s_.substr(pos_ + 1, len));
      pos_ += 1 + len;
      m.key_end = pos_;
      if (!variable_value(m, (head & 0x80U) != 0)) return false;
      out.push_back(std::move(m));
    }
    return true;
  }

  // One serialized value whose arrays and objects sit `depth` levels deep in the session (0: it is
  // the session, the php_serialize array).
  bool value(PhpValue& v, int depth) {
    v.begin = pos_;
    if (at_end()) return fail("a value expected");
    const char tag = s_[pos_++];
    bool ok = false;
    switch (tag) {
      case 'N':
        v.kind = PhpKind::null;
        ok = eat(';');
        break;
      case 'b':
        v.kind = PhpKind::boolean;
        ok = eat(':') && boolean(v.boolean) && eat(';');
        break;
      case 'i':
        v.kind = PhpKind::integer;
        ok = eat(':') && integer(v.integer) && eat(';');
        break;
      case 'd':
        v.kind = PhpKind::floating;
        ok = eat(':') && floating(v.floating) && eat(';');
        break;
      case 's':
        v.kind = PhpKind::string;
        ok = eat(':') && quoted_string(v.text, v.body) && eat(';');
        break;
      case 'a':
        v.kind = PhpKind::array;
        ok = eat(':') && container(v, depth);
        break;
      case 'O':
        v.kind = PhpKind::object;
        ok = eat(':') && quoted_string(v.text, v.body) && eat(':') && container(v, depth);
        break;
      case 'C':
        v.kind = PhpKind::custom;
        ok = eat(':') && quoted_string(v.text, v.body) && eat(':') && custom_data(v);
        break;
      case 'R':
      case 'r':
        v.kind = tag == 'R' ? PhpKind::reference : PhpKind::object_reference;
        ok = eat(':') && slot(v.integer) && eat(';');
        break;
      case 'E':
        v.kind = PhpKind::enum_case;
        ok = eat(':') && quoted_string(v.text, v.body) && eat(';');
        if (ok && v.text.find(':') == std::string::npos) ok = fail("an enum without ':' between enum and case");
        break;
      default:
        --pos_;
        return fail("a value expected (N, b, i, d, s, a, O, C, r, R or E)");
    }
    v.end = pos_;
    return ok;
  }

 private:
  bool eat(char c) {
    if (at_end() || s_[pos_] != c) return fail(std::string("'") + c + "' expected");
    ++pos_;
    return true;
  }

  // PHP 5 wrote an undefined variable as a marked name with no value after it. PHP 7 ignores the
  // mark and always reads a value, so a marked name followed by a value is read as PHP 7 does.
  bool variable_value(PhpMember& m, bool marked) {
    if (marked && !value_starts_here()) {
      m.value.kind = PhpKind::undefined;
      m.value.begin = m.value.end = m.value.body = pos_;
      return true;
    }
    return value(m.value, 1);
  }

  // Whether a value begins here: what tells PHP 5's undefined variable from PHP 7's marked name.
  bool value_starts_here() const {
    if (s_.size() - pos_ < 2) return false;
    const char tag = s_[pos_];
    const char next = s_[pos_ + 1];
    if (tag == 'N') return next == ';';
    return next == ':' && std::string_view("bidsaOCrRE").find(tag) != std::string_view::npos;
  }

  bool boolean(bool& out) {
    if (at_end() || (s_[pos_] != '0' && s_[pos_] != '1')) return fail("b:0 or b:1 expected");
    out = s_[pos_++] == '1';
    return true;
  }

  bool unsigned_number(std::uint64_t& out) {
    if (at_end() || !is_digit(s_[pos_])) return fail("a digit expected");
    out = 0;
    while (!at_end() && is_digit(s_[pos_])) {
      const auto d = static_cast<std::uint64_t>(s_[pos_] - '0');
      if (out > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return fail("a number too large");
      out = out * 10 + d;
      ++pos_;
    }
    return true;
  }

  // [+-]?[0-9]+ within int64 (PHP clamps an overflow with a warning; it is refused here).
  bool integer(std::int64_t& out) {
    const bool negative = !at_end() && s_[pos_] == '-';
    if (!at_end() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
    std::uint64_t magnitude = 0;
    if (!unsigned_number(magnitude)) return false;
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (magnitude > kMax + (negative ? 1 : 0)) return fail("an integer outside 64 bits");
    out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    return true;
  }

  // A reference's slot: PHP numbers values from 1, so 0 refers to nothing.
  bool slot(std::int64_t& out) {
    std::uint64_t n = 0;
    if (!unsigned_number(n)) return false;
    if (n == 0 || n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return fail("a reference to no value");
    out = static_cast<std::int64_t>(n);
    return true;
  }

  // PHP's grammar: NAN, INF, -INF, or [+-]? digits with an optional fraction and exponent.
  bool floating(double& out) {
    const std::string_view rest = s_.substr(pos_);
    static const std::pair<std::string_view, double> kWords[] = {{"NAN", std::numeric_limits<double>::quiet_NaN()},
                                                                 {"INF", std::numeric_limits<double>::infinity()},
                                                                 {"-INF", -std::numeric_limits<double>::infinity()}};
    for (const auto& [word, number] : kWords) {
      if (rest.substr(0, word.size()) == word) {
        pos_ += word.size();
        out = number;
        return true;
      }
    }
    const std::size_t start = pos_;
    const bool negative = !at_end() && s_[pos_] == '-';
    if (!at_end() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
    const std::size_t mantissa = pos_;
    std::size_t digits = 0;
    for (; !at_end() && is_digit(s_[pos_]); ++pos_) ++digits;
    if (!at_end() && s_[pos_] == '.')
      for (++pos_; !at_end() && is_digit(s_[pos_]); ++pos_) ++digits;
    if (digits == 0) return fail("a number expected after d:");
    bool negative_exponent = false;
    if (!at_end() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      negative_exponent = !at_end() && s_[pos_] == '-';
      if (!at_end() && (s_[pos_] == '-' || s_[pos_] == '+')) ++pos_;
      if (at_end() || !is_digit(s_[pos_])) return fail("an exponent expected");
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
    }
    // from_chars, not strtod: the decimal point must not depend on the locale. It takes no '+'.
    const auto [ptr, ec] = std::from_chars(s_.data() + mantissa, s_.data() + pos_, out);
    if (ec == std::errc::result_out_of_range) {
      out = negative_exponent ? 0.0 : std::numeric_limits<double>::infinity();
    } else if (ec != std::errc() || ptr != s_.data() + pos_) {
      pos_ = start;
      return fail("a malformed number");
    }
    if (negative) out = -out;
    return true;
  }

  // <len>:"<len bytes>", the form of strings and class names; body is where the bytes start.
  bool quoted_string(std::string& out, std::size_t& body) {
    std::uint64_t len = 0;
    if (!unsigned_number(len) || !eat(':') || !eat('"')) return false;
    if (len >= s_.size() - pos_) return fail("a length beyond the end of the input");
    body = pos_;
    pos_ += static_cast<std::size_t>(len);
    if (!eat('"')) return false;
    out.assign(s_.substr(body, static_cast<std::size_t>(len)));
    return true;
  }

  // <n>:{key value ...} of an array or object; its members sit one level deeper.
  bool container(PhpValue& v, int depth) {
    if (depth > kMaxPhpDepth) return fail("nested deeper than the limit");
    std::uint64_t count = 0;
    if (!unsigned_number(count) || !eat(':') || !eat('{')) return false;
    if (count > (s_.size() - pos_) / kMinMemberBytes) return fail("more members declared than the input can hold");
    v.body = pos_;
    v.members.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
      PhpMember m;
      if (!key(m) || !value(m.value, depth + 1)) return false;
      v.members.push_back(std::move(m));
    }
    return eat('}');
  }

  // Array keys and property names are i: or s: only.
  bool key(PhpMember& m) {
    m.key_begin = pos_;
    if (s_.substr(pos_, 2) == "i:") {
      pos_ += 2;
      std::int64_t n = 0;
      if (!integer(n) || !eat(';')) return false;
      m.key = std::to_string(n);
      m.int_key = true;
    } else if (s_.substr(pos_, 2) == "s:") {
      pos_ += 2;
      std::size_t body = 0;
      if (!quoted_string(m.key, body) || !eat(';')) return false;
    } else {
      return fail("a key expected (i: or s:)");
    }
    m.key_end = pos_;
    return true;
  }

  // <len>:{<len opaque bytes>} after a custom-serialized class.
  bool custom_data(PhpValue& v) {
    std::uint64_t len = 0;
    if (!unsigned_number(len) || !eat(':') || !eat('{')) return false;
    if (len >= s_.size() - pos_) return fail("a length beyond the end of the input");
    v.body = pos_;
    v.data.assign(s_.substr(pos_, static_cast<std::size_t>(len)));
    pos_ += static_cast<std::size_t>(len);
    return eat('}');
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  PhpParseError error_;
};

void append_value(const PhpSession& session, const PhpValue& v, std::string& out) {
  const std::string_view src = session.source;
  switch (v.kind) {
    case PhpKind::string:
      // The content sits between body and the closing `";`.
      if (src.substr(v.body, v.end - 2 - v.body) == v.text) {
        out.append(src.substr(v.begin, v.end - v.begin));
      } else {
        out.append("s:").append(std::to_string(v.text.size())).append(":\"").append(v.text).append("\";");
      }
      break;
    case PhpKind::array:
    case PhpKind::object:
      out.append(src.substr(v.begin, v.body - v.begin));
      for (const PhpMember& m : v.members) {
        out.append(src.substr(m.key_begin, m.key_end - m.key_begin));
        append_value(session, m.value, out);
      }
      out.push_back('}');
      break;
    default:
      out.append(src.substr(v.begin, v.end - v.begin));
  }
}

// Text as a JSON key or class name: itself when UTF-8, else tagged base64 (a JSON string must be UTF-8).
std::string text_or_tag(const std::string& s) { return is_utf8(s) ? s : "__bytes_base64:" + base64_encode(s); }

nlohmann::json string_json(const std::string& s) {
  if (is_utf8(s)) return s;
  return {{"__bytes_base64", base64_encode(s)}};
}

// The keys to_json and for_each_string show for members: the key text, for objects without the
// \0*\0 / \0Class\0 visibility prefix unless two members would then share a name.
std::vector<std::string> display_keys(const std::vector<PhpMember>& members, bool object) {
  std::vector<std::string> keys;
  keys.reserve(members.size());
  std::map<std::string, int> uses;
  for (const PhpMember& m : members) {
    std::string k = m.key;
    if (object && k.size() > 1 && k[0] == '\0') {
      const std::size_t end = k.find('\0', 1);
      if (end != std::string::npos) k.erase(0, end + 1);
    }
    ++uses[k];
    keys.push_back(std::move(k));
  }
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (uses[keys[i]] > 1) keys[i] = members[i].key;
    keys[i] = text_or_tag(keys[i]);
  }
  return keys;
}

bool is_list(const std::vector<PhpMember>& members) {
  for (std::size_t i = 0; i < members.size(); ++i)
    if (!members[i].int_key || members[i].key != std::to_string(i)) return false;
  return true;
}

nlohmann::json value_json(const PhpValue& v) {
  switch (v.kind) {
    case PhpKind::undefined:
    case PhpKind::null:
      return nullptr;
    case PhpKind::boolean:
      return v.boolean;
    case PhpKind::integer:
      return v.integer;
    case PhpKind::floating:
      if (std::isnan(v.floating)) return "NAN";
      if (std::isinf(v.floating)) return v.floating > 0 ? "INF" : "-INF";
      return v.floating;
    case PhpKind::string:
      return string_json(v.text);
    case PhpKind::array:
    case PhpKind::object: {
      if (v.kind == PhpKind::array && is_list(v.members)) {
        nlohmann::json list = nlohmann::json::array();
        for (const PhpMember& m : v.members) list.push_back(value_json(m.value));
        return list;
      }
      nlohmann::json obj = nlohmann::json::object();
      const std::vector<std::string> keys = display_keys(v.members, v.kind == PhpKind::object);
      for (std::size_t i = 0; i < keys.size(); ++i) obj[keys[i]] = value_json(v.members[i].value);
      if (v.kind == PhpKind::object) obj["__class"] = text_or_tag(v.text);
      return obj;
    }
    case PhpKind::custom:
      if (is_utf8(v.data)) return {{"__class", text_or_tag(v.text)}, {"__custom", v.data}};
      return {{"__class", text_or_tag(v.text)}, {"__custom_base64", base64_encode(v.data)}};
    case PhpKind::reference:
      return {{"__R", v.integer}};
    case PhpKind::object_reference:
      return {{"__r", v.integer}};
    case PhpKind::enum_case:
      return {{"__enum", text_or_tag(v.text)}};
  }
  return nullptr;
}

void visit_strings(PhpValue& v, const std::string& path,
                   const std::function<void(const std::string& path, std::string& value)>& visit) {
  if (v.kind == PhpKind::string) {
    visit(path, v.text);
    return;
  }
  if (v.kind != PhpKind::array && v.kind != PhpKind::object) return;
  const std::vector<std::string> keys = display_keys(v.members, v.kind == PhpKind::object);
  for (std::size_t i = 0; i < keys.size(); ++i) visit_strings(v.members[i].value, path + "." + keys[i], visit);
}

}  // namespace

std::optional<PhpSession> parse_php_session(std::string_view bytes, PhpHandler h, PhpParseError* error) {
  PhpSession session;
  session.handler = h;
  Parser p(bytes);
  bool ok = false;
  if (h == PhpHandler::php) {
    ok = p.variables(session.variables);
  } else if (h == PhpHandler::php_binary) {
    ok = p.binary_variables(session.variables);
  } else {
    PhpValue root;
    ok = p.value(root, 0);
    if (ok && root.kind != PhpKind::array) ok = p.fail("php_serialize holds one array");
    if (ok && !p.at_end()) ok = p.fail("bytes after the array");
    session.variables = std::move(root.members);
  }
  if (!ok) {
    if (error) *error = p.error();
    return std::nullopt;
  }
  session.source.assign(bytes);
  return session;
}

std::optional<PhpHandler> detect_php_handler(std::string_view bytes) {
  if (bytes.substr(0, 2) == "a:" && parse_php_session(bytes, PhpHandler::php_serialize))
    return PhpHandler::php_serialize;
  if (parse_php_session(bytes, PhpHandler::php)) return PhpHandler::php;
  if (parse_php_session(bytes, PhpHandler::php_binary)) return PhpHandler::php_binary;
  return std::nullopt;
}

std::string serialize(const PhpSession& session) {
  std::string out;
  out.reserve(session.source.size());
  const std::string_view src = session.source;
  if (session.handler == PhpHandler::php_serialize) {
    // The array's header (a:n:{) ends where its first member starts, or just before the '}'.
    const std::size_t header = session.variables.empty() ? src.size() - 1 : session.variables.front().key_begin;
    out.append(src.substr(0, header));
  }
  for (const PhpMember& m : session.variables) {
    out.append(src.substr(m.key_begin, m.key_end - m.key_begin));
    append_value(session, m.value, out);
  }
  if (session.handler == PhpHandler::php_serialize) out.push_back('}');
  return out;
}

nlohmann::json to_json(const PhpSession& session) {
  nlohmann::json obj = nlohmann::json::object();
  const std::vector<std::string> keys = display_keys(session.variables, false);
  for (std::size_t i = 0; i < keys.size(); ++i) obj[keys[i]] = value_json(session.variables[i].value);
  return obj;
}

void for_each_string(PhpSession& session,
                     const std::function<void(const std::string& path, std::string& value)>& visit) {
  const std::vector<std::string> keys = display_keys(session.variables, false);
  for (std::size_t i = 0; i < keys.size(); ++i) visit_strings(session.variables[i].value, keys[i], visit);
}

}  // namespace sessionctl
