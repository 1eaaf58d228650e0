#include "mask/mask.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <utility>

#include "json/probe.h"

namespace sessionctl::mask {
namespace {

using nlohmann::json;

constexpr std::string_view stars = "***";
constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view keys_segment = "{keys}";
constexpr std::string_view placeholder_prefix = "[redacted: ";

constexpr std::array<std::pair<Rule, std::string_view>, 7> rule_names{{
    {Rule::email, "email"},
    {Rule::phone, "phone"},
    {Rule::name, "name"},
    {Rule::username, "username"},
    {Rule::text, "text"},
    {Rule::free_text, "free_text"},
    {Rule::redact, "redact"},
}};

// ASCII-only classification: <cctype> is locale-dependent and undefined for negative chars.
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool is_one_of(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

std::string_view trim(std::string_view s) {
  constexpr std::string_view space = " \t\r\n\f\v";
  const auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

bool all_digits(std::string_view s) {
  for (const char c : s) {
    if (!is_digit(c)) return false;
  }
  return !s.empty();
}

// Length of the well-formed UTF-8 sequence at s[i], or 0. RFC 3629: no overlongs, no surrogates.
std::size_t sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size() || byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Appends at most `limit` code points of `s`, each invalid byte as one U+FFFD.
void append_code_points(std::string& out, std::string_view s, std::size_t limit) {
  for (std::size_t i = 0, count = 0; i < s.size() && count < limit; ++count) {
    const std::size_t length = sequence_length(s, i);
    if (length == 0) {
      out += replacement_char;
      ++i;
    } else {
      out.append(s.substr(i, length));
      i += length;
    }
  }
}

std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_code_points(out, s, std::string_view::npos);
  return out;
}

// An invalid byte counts as one character, as it is shown as one U+FFFD.
std::size_t count_code_points(std::string_view s) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    i += std::max<std::size_t>(1, sequence_length(s, i));
  }
  return count;
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t length = sequence_length(s, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// The shape the first-character rules produce ("J***", "jo***", "***"), left alone on re-masking.
bool is_prefix_masked(std::string_view s, std::size_t max_kept) {
  if (!s.ends_with(stars)) return false;
  const auto kept = s.substr(0, s.size() - stars.size());
  return is_valid_utf8(kept) && count_code_points(kept) <= max_kept;
}

std::string keep_first(std::string_view s, std::size_t count) {
  std::string out;
  append_code_points(out, s, count);
  out += stars;
  return out;
}

bool is_placeholder(std::string_view s) {
  if (!s.starts_with(placeholder_prefix) || !s.ends_with(']')) return false;
  const auto inner = s.substr(placeholder_prefix.size(), s.size() - placeholder_prefix.size() - 1);
  const auto space = inner.find(' ');
  if (space == std::string_view::npos || !all_digits(inner.substr(0, space))) return false;
  const auto unit = inner.substr(space + 1);
  return unit == "chars" || unit == "char";
}

// Labels of letters, digits, '-' or UTF-8 (IDN), at least two, ending in an alphabetic TLD.
bool is_domain(std::string_view domain) {
  std::size_t labels = 0;
  std::string_view last;
  for (std::size_t begin = 0; begin <= domain.size(); ++labels) {
    const auto dot = std::min(domain.find('.', begin), domain.size());
    last = domain.substr(begin, dot - begin);
    if (last.empty() || last.front() == '-' || last.back() == '-') return false;
    for (const char c : last) {
      if (!is_alnum(c) && c != '-' && !is_non_ascii(c)) return false;
    }
    begin = dot + 1;
  }
  if (labels < 2 || last.size() < 2) return false;
  for (const char c : last) {
    if (!is_alpha(c) && !is_non_ascii(c)) return false;
  }
  return true;
}

std::string mask_address(std::string_view local, std::string_view domain) {
  // Two characters kept from three on, one from two, none from one: never the whole local part.
  const std::size_t length = count_code_points(local);
  std::string out = is_prefix_masked(local, 2) ? std::string(local) : keep_first(local, length > 2 ? 2 : length - 1);
  out += '@';
  out += to_valid_utf8(domain);
  return out;
}

struct Span {
  std::size_t begin;
  std::size_t end;
};

// Narrower than RFC 5322 on purpose: in prose, "email=jane@x.io" must not take "email=" along.
bool is_local_char(char c) { return is_alnum(c) || is_one_of(c, "._%+-*"); }
bool is_domain_char(char c) { return is_alnum(c) || c == '.' || c == '-'; }

// Position of the '@' when the whole value is one address. The local part uses the scanner's
// characters so that masking free text can never turn it into a whole address on a second pass.
std::optional<std::size_t> whole_address(std::string_view value) {
  const auto at = value.find('@');
  if (at == 0 || at == std::string_view::npos || at != value.rfind('@')) return std::nullopt;
  for (const char c : value.substr(0, at)) {
    if (!is_local_char(c) && !is_non_ascii(c)) return std::nullopt;
  }
  if (!is_domain(value.substr(at + 1))) return std::nullopt;
  return at;
}

// The address around the '@' at `at`; the local part never reaches back before `floor`.
std::optional<Span> find_address(std::string_view s, std::size_t at, std::size_t floor) {
  std::size_t begin = at;
  while (begin > floor && is_local_char(s[begin - 1])) --begin;
  while (begin < at && s[begin] == '.') ++begin;
  std::size_t end = at + 1;
  while (end < s.size() && is_domain_char(s[end])) ++end;
  while (end > at + 1 && (s[end - 1] == '.' || s[end - 1] == '-')) --end;
  if (begin == at || !is_domain(s.substr(at + 1, end - at - 1))) return std::nullopt;
  return Span{begin, end};
}

// A run of digit groups joined the way phone numbers are written: "+44 (0)20 7946-0958".
struct PhoneRun {
  std::size_t end = 0;  // past the last digit or ')'
  bool plus = false;
  bool parens = false;
  std::vector<std::size_t> groups;  // digits per group
  std::vector<bool> parenthesised;  // per group
  std::string separators;           // the single ' ', '-' or '.' between groups
};

PhoneRun read_phone_run(std::string_view s, std::size_t i) {
  PhoneRun run;
  run.end = i;
  if (s[i] == '+') {
    run.plus = true;
    ++i;
  }
  while (i < s.size()) {
    const bool paren = s[i] == '(';
    std::size_t j = paren ? i + 1 : i;
    const std::size_t digits_begin = j;
    while (j < s.size() && is_digit(s[j])) ++j;
    if (j == digits_begin || (paren && (j == s.size() || s[j] != ')'))) break;
    run.groups.push_back(j - digits_begin);
    run.parenthesised.push_back(paren);
    if (paren) {
      run.parens = true;
      ++j;
    }
    run.end = i = j;
    if (i < s.size() && (s[i] == '(' || (paren && is_digit(s[i])))) continue;
    if (i + 1 < s.size() && is_one_of(s[i], " -.") && (is_digit(s[i + 1]) || s[i + 1] == '(')) {
      run.separators += s[i];
      ++i;
      continue;
    }
    break;
  }
  return run;
}

// Characters that make a digit run part of a larger token (id, URL, address, masked value).
bool is_word_char(char c) { return is_alnum(c) || is_one_of(c, "_@#*&=/\\%$+"); }

// `may_follow` lists word characters allowed right before the run ("card=4111…", "phone:0770…").
bool stands_alone(std::string_view s, Span span, std::string_view may_follow = {}) {
  std::size_t before = span.begin;
  while (before > 0 && is_one_of(s[before - 1], ".-")) --before;
  if (before > 0 && is_word_char(s[before - 1]) && !is_one_of(s[before - 1], may_follow)) return false;
  // Trailing ".-:" may end a sentence, but must not lead into a token ("12:30", "7890-abc").
  std::size_t after = span.end;
  while (after < s.size() && is_one_of(s[after], ".-:")) ++after;
  return after == s.size() || !is_word_char(s[after]);
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The word just before `pos` (skipping spaces, ':', '=' and '#'), lower-cased ASCII letters only.
std::string word_before(std::string_view s, std::size_t pos) {
  while (pos > 0 && is_one_of(s[pos - 1], " \t:=#")) --pos;
  std::size_t begin = pos;
  while (begin > 0 && is_alpha(s[begin - 1])) --begin;
  std::string word;
  for (std::size_t k = begin; k < pos; ++k) word += lower(s[k]);
  return word;
}

// "phone 4155550123", "Mobile: 4155550123": a word that says a bare digit run is a phone number.
bool says_phone(std::string_view word) {
  static constexpr std::array<std::string_view, 9> whole{"tel", "cell", "call", "sms",  "fax",
                                                         "mob", "ring", "text", "handy"};
  if (word.find("phone") != std::string_view::npos || word.find("mobile") != std::string_view::npos ||
      word.find("whatsapp") != std::string_view::npos) {
    return true;
  }
  return std::find(whole.begin(), whole.end(), word) != whole.end();
}

// One run of digits and nothing else: a phone only with a national trunk prefix ("07700900123":
// '0', a non-zero digit, 10-12 digits), an international one ("0044…"), or a word before it that
// says so. Timestamps, counts and scores never start with '0', and "0001234" is padding.
bool is_bare_phone(std::string_view s, Span span, std::size_t digits) {
  const std::string_view run = s.substr(span.begin, span.end - span.begin);
  const bool trunk = run.size() >= 2 && run[0] == '0' && run[1] != '0' && digits >= 10 && digits <= 12;
  const bool international = run.size() >= 3 && run.starts_with("00") && run[2] != '0' && digits >= 9 && digits <= 17;
  if ((trunk || international) && stands_alone(s, span, "=")) return true;
  return digits >= 7 && digits <= 15 && says_phone(word_before(s, span.begin)) && stands_alone(s, span, "=");
}

bool luhn_valid(std::string_view digits) {
  int sum = 0;
  bool twice = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {  // NOLINT(modernize-loop-convert): from the right
    int d = *it - '0';
    if (twice && (d *= 2) > 9) d -= 9;
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

// A payment card number: 13-19 digits, bare or in groups of 3+ joined by one kind of ' ' or '-',
// starting with an issuer digit 2-6 (so millisecond and microsecond timestamps, which start with 1,
// never match), Luhn-valid.
bool is_card(std::string_view s, Span span, const PhoneRun& run) {
  if (run.plus || run.parens) return false;
  std::string digits;
  for (std::size_t k = span.begin; k < span.end; ++k) {
    if (is_digit(s[k])) digits += s[k];
  }
  if (digits.size() < 13 || digits.size() > 19 || digits[0] < '2' || digits[0] > '6') return false;
  const auto& seps = run.separators;
  if (!seps.empty() && (seps.find_first_not_of(seps[0]) != std::string::npos || !is_one_of(seps[0], " -"))) {
    return false;
  }
  for (const auto n : run.groups) {
    if (n < 3) return false;
  }
  return luhn_valid(digits) && stands_alone(s, span, "=:");
}

bool is_phone(std::string_view s, Span span, const PhoneRun& run) {
  const auto& g = run.groups;
  std::size_t digits = 0;
  for (const auto n : g) digits += n;
  if (!run.plus && !run.parens && g.size() == 1) return is_bare_phone(s, span, digits);
  if (digits < 7 || digits > 15 || !stands_alone(s, span)) return false;
  if (run.plus) return true;
  // "1640995200.0", "10.0.0.1": only a country or trunk code stands alone as one digit.
  for (std::size_t k = 1; k < g.size(); ++k) {
    if (g[k] == 1 && !run.parenthesised[k]) return false;
  }
  if (run.parens) return true;
  const auto& seps = run.separators;
  const bool date_like = g.size() >= 3 && seps[0] == seps[1] && is_one_of(seps[0], "-.") &&
                         ((g[0] == 4 && g[1] == 2 && g[2] == 2) || (g[0] == 2 && g[1] == 2 && g[2] == 4));
  const bool dotted = seps.find_first_not_of('.') == std::string::npos;
  const bool decimal_or_ipv4 =
      dotted && (g.size() == 2 || (g.size() == 4 && g[0] <= 3 && g[1] <= 3 && g[2] <= 3 && g[3] <= 3));
  if (date_like || decimal_or_ipv4) return false;
  // Two groups pass only with a trunk prefix ("030 12345678"); "2020-2021" is a range, not a phone.
  return g.size() >= 3 || (g.size() == 2 && s[span.begin] == '0');
}

bool is_masked_phone(std::string_view s) {
  if (!s.starts_with(stars)) return false;
  const auto rest = s.substr(stars.size());
  return rest.empty() || (rest.size() == 4 && all_digits(rest));
}

struct CompiledRule {
  std::vector<std::string> segments;
  bool keys = false;
  Rule rule;
};

struct Step {
  std::string_view key;
  std::size_t index = 0;
  bool is_index = false;
};

CompiledRule compile(const FieldRule& field) {
  CompiledRule compiled{{}, false, field.rule};
  for (std::size_t begin = 0; !field.path.empty() && begin <= field.path.size();) {
    const auto dot = std::min(field.path.find('.', begin), field.path.size());
    compiled.segments.push_back(field.path.substr(begin, dot - begin));
    begin = dot + 1;
  }
  if (!compiled.segments.empty() && compiled.segments.back() == keys_segment) {
    compiled.keys = true;
    compiled.segments.pop_back();
  }
  return compiled;
}

bool matches(const CompiledRule& rule, const std::vector<Step>& path) {
  if (rule.segments.size() != path.size()) return false;
  for (std::size_t k = 0; k < path.size(); ++k) {
    const auto& pattern = rule.segments[k];
    if (pattern == "*") continue;
    const bool same = path[k].is_index ? pattern == std::to_string(path[k].index) : pattern == path[k].key;
    if (!same) return false;
  }
  return true;
}

std::string unique_key(const json& object, std::string key) {
  if (!object.contains(key)) return key;
  for (std::size_t n = 2;; ++n) {
    auto candidate = fmt::format("{}#{}", key, n);
    if (!object.contains(candidate)) return candidate;
  }
}

class Walker {
 public:
  Walker(const std::vector<FieldRule>& rules, const Options& options) : options_(options) {
    for (const auto& rule : rules) rules_.push_back(compile(rule));
  }

  // `rule` comes from the nearest covered ancestor; a rule on this very node overrides it. A field
  // named like personal data ("firstName", "phone") is masked by its name where no rule covers it.
  json walk(const json& node, std::optional<Rule> rule) {
    if (const auto own = rule_at(false)) {
      rule = own;
    } else if (!rule && options_.field_names && !path_.empty() && !path_.back().is_index) {
      rule = rule_for_field_name(path_.back().key);
    }
    if (node.is_string()) return mask_string(rule, node.get_ref<const std::string&>());
    // parse_json never nests this deep; a document built some other way is cut, not recursed into.
    if (node.is_structured() && path_.size() >= static_cast<std::size_t>(kMaxJsonDepth)) return std::string(stars);
    if (node.is_array()) {
      auto out = json::array();
      for (std::size_t i = 0; i < node.size(); ++i) {
        path_.push_back({{}, i, true});
        out.push_back(walk(node[i], rule));
        path_.pop_back();
      }
      return out;
    }
    if (node.is_object()) {
      const auto key_rule = rule_at(true);
      auto out = json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        path_.push_back({it.key(), 0, false});
        auto value = walk(it.value(), rule);
        path_.pop_back();
        out[unique_key(out, mask_key(key_rule, it.key()))] = std::move(value);
      }
      return out;
    }
    return node;
  }

 private:
  std::optional<Rule> rule_at(bool keys) const {
    for (const auto& rule : rules_) {
      if (rule.keys == keys && matches(rule, path_)) return rule.rule;
    }
    return std::nullopt;
  }

  std::string mask_string(std::optional<Rule> rule, std::string_view s) const {
    if (rule) return apply_rule(*rule, s);
    return options_.scan_free_text ? mask_free_text(s) : std::string(s);
  }

  std::string mask_key(std::optional<Rule> rule, const std::string& key) const {
    if (!rule && !options_.scan_free_text) return key;
    // A key made unique on an earlier pass ("@u***#2") must come through a second pass unchanged.
    if (const auto hash = key.rfind('#');
        hash != std::string::npos && all_digits(std::string_view(key).substr(hash + 1))) {
      const auto base = std::string_view(key).substr(0, hash);
      if (mask_string(rule, base) == base) return key;
    }
    return mask_string(rule, key);
  }

  std::vector<CompiledRule> rules_;
  Options options_;
  std::vector<Step> path_;
};

// "firstName", "first_name", "First-Name" -> "firstname"; trailing digits go ("address2").
std::string normalise_field_name(std::string_view key) {
  std::string out;
  for (const char c : key) {
    if (is_alnum(c)) out += lower(c);
  }
  while (!out.empty() && is_digit(out.back())) out.pop_back();
  return out;
}

bool ends_with_any(std::string_view s, std::initializer_list<std::string_view> tails) {
  return std::any_of(tails.begin(), tails.end(), [&](std::string_view t) { return s.ends_with(t); });
}

bool is_any(std::string_view s, std::initializer_list<std::string_view> words) {
  return std::find(words.begin(), words.end(), s) != words.end();
}

// "...name" fields that name things, not people: "fileName", "stateName", "hostname".
bool is_technical_name(std::string_view n) {
  const auto what = n.substr(0, n.size() - 4);
  return ends_with_any(
      what,
      {"file",     "host",   "path",     "type",     "class",    "event",     "state",     "stage",      "step",
       "profile",  "key",    "field",    "service",  "app",      "bot",       "table",     "column",     "domain",
       "server",   "db",     "database", "bucket",   "queue",    "channel",   "topic",     "method",     "function",
       "func",     "module", "package",  "product",  "device",   "browser",   "model",     "tag",        "group",
       "role",     "os",     "plan",     "template", "action",   "intent",    "command",   "cmd",        "node",
       "cluster",  "region", "zone",     "env",      "project",  "repo",      "branch",    "job",        "task",
       "flow",     "screen", "page",     "route",    "view",     "component", "attribute", "attr",       "param",
       "variable", "var",    "property", "prop",     "metric",   "index",     "schema",    "collection", "sheet",
       "tab",      "font",   "brand",    "item",     "category", "room",      "queue",     "cookie",     "header",
       "provider", "locale", "language", "lang",     "country",  "currency",  "plugin",    "image",      "icon",
       "color",    "colour", "tool",     "test",     "suite",    "scene",     "vote",      "token",      "asset",
       "coin",     "symbol", "pair",     "market",   "button"});
}

}  // namespace

std::optional<Rule> rule_for_field_name(std::string_view key) {
  const std::string n = normalise_field_name(key);
  if (n.empty()) return std::nullopt;
  if (ends_with_any(n, {"email", "emailaddress", "mailaddress"}) || n == "mail") return Rule::email;
  if (n.find("phone") != std::string::npos || n.find("mobile") != std::string::npos ||
      is_any(n, {"tel", "telno", "cell", "cellnumber", "fax", "msisdn", "whatsapp"})) {
    return Rule::phone;
  }
  if (ends_with_any(n, {"username", "userhandle", "login"}) || n == "handle") return Rule::username;
  if (n.ends_with("name") && !is_technical_name(n)) return Rule::name;
  if (n.find("street") != std::string::npos || n.find("addressline") != std::string::npos ||
      (n.ends_with("address") &&
       !ends_with_any(n, {"ipaddress", "macaddress", "remoteaddress", "localaddress", "serveraddress", "hostaddress",
                          "bindaddress", "walletaddress", "contractaddress", "webaddress", "ip", "mac"})) ||
      is_any(n, {"addr", "homeaddr"})) {
    return Rule::text;
  }
  if (ends_with_any(n, {"postcode", "postalcode", "zipcode"}) ||
      is_any(n, {"zip", "postal", "city", "town", "housenumber", "houseno", "dob", "birthdate", "dateofbirth",
                 "birthday", "cardnumber", "creditcard", "ccnumber", "cardno", "iban", "ssn"})) {
    return Rule::redact;
  }
  return std::nullopt;
}

std::optional<Rule> parse_rule(std::string_view name) {
  for (const auto& [rule, spelling] : rule_names) {
    if (spelling == name) return rule;
  }
  return std::nullopt;
}

std::string_view rule_name(Rule rule) {
  for (const auto& [candidate, spelling] : rule_names) {
    if (candidate == rule) return spelling;
  }
  return "redact";
}

std::string mask_email(std::string_view value) {
  const std::string text = to_valid_utf8(value);
  if (const auto at = whole_address(text)) {
    return mask_address(std::string_view(text).substr(0, *at), std::string_view(text).substr(*at + 1));
  }
  // The field is declared to hold an address, so whatever else it holds ("john@localhost", a name,
  // "John <john@example.com>") is personal too: masked like a name, never shown in part.
  return mask_name(text);
}

std::string mask_phone(std::string_view value) {
  if (value.empty()) return {};
  if (is_masked_phone(value)) return std::string(value);
  std::string digits;
  for (const char c : value) {
    if (is_digit(c)) digits += c;
  }
  if (digits.size() < 5) return std::string(stars);
  return std::string(stars) + digits.substr(digits.size() - 4);
}

std::string mask_name(std::string_view value) {
  const auto name = trim(value);
  if (name.empty()) return std::string(value);
  if (is_prefix_masked(name, 1)) return std::string(name);
  return keep_first(name, 1);
}

std::string mask_username(std::string_view value) {
  const auto name = trim(value);
  if (name.empty()) return std::string(value);
  if (name.front() == '@') return "@" + mask_name(name.substr(1));
  return mask_name(name);
}

std::string text_placeholder(std::size_t code_points) {
  return fmt::format("{}{} {}]", placeholder_prefix, code_points, code_points == 1 ? "char" : "chars");
}

std::string mask_text(std::string_view value) {
  if (value.empty()) return {};
  if (is_placeholder(value)) return std::string(value);
  return text_placeholder(count_code_points(value));
}

std::string mask_free_text(std::string_view value) {
  const std::string text = to_valid_utf8(value);
  const std::string_view s = text;
  std::string out;
  std::size_t copied = 0;
  const auto emit = [&](Span span, const std::string& masked) {
    out.append(s.substr(copied, span.begin - copied));
    out += masked;
    copied = span.end;
  };
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '@') {
      if (const auto span = find_address(s, i, copied)) {
        emit(*span, mask_address(s.substr(span->begin, i - span->begin), s.substr(i + 1, span->end - i - 1)));
        i = span->end;
        continue;
      }
    } else if (is_digit(s[i]) || s[i] == '+' || s[i] == '(') {
      const auto run = read_phone_run(s, i);
      if (run.end > i) {
        const Span span{i, run.end};
        if (is_card(s, span, run) || is_phone(s, span, run)) emit(span, mask_phone(s.substr(i, run.end - i)));
        // Skipping the whole run keeps a digit tail of an id or UUID from being read as a phone.
        i = run.end;
        continue;
      }
    }
    ++i;
  }
  out.append(s.substr(copied));
  return out;
}

std::string mask_shown(std::string_view value) {
  std::string masked = mask_free_text(value);
  return masked == to_valid_utf8(value) ? std::string(value) : masked;
}

std::string redact(std::string_view) { return std::string(stars); }

std::string apply_rule(Rule rule, std::string_view value) {
  switch (rule) {
    case Rule::email:
      return mask_email(value);
    case Rule::phone:
      return mask_phone(value);
    case Rule::name:
      return mask_name(value);
    case Rule::username:
      return mask_username(value);
    case Rule::text:
      return mask_text(value);
    case Rule::free_text:
      return mask_free_text(value);
    case Rule::redact:
      return redact(value);
  }
  return redact(value);  // an out-of-range Rule reveals nothing
}

std::optional<FieldRule> parse_field_rule(std::string_view spec) {
  const auto equals = spec.rfind('=');
  if (equals == std::string_view::npos) return std::nullopt;
  const auto rule = parse_rule(spec.substr(equals + 1));
  if (!rule) return std::nullopt;
  return FieldRule{std::string(spec.substr(0, equals)), *rule};
}

nlohmann::json mask_json(const nlohmann::json& doc, const std::vector<FieldRule>& rules, const Options& options) {
  return Walker(rules, options).walk(doc, std::nullopt);
}

std::string mask_embedded(std::string_view value, const std::vector<FieldRule>& rules, const Options& options) {
  const auto first = value.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (value[first] == '{' || value[first] == '[')) {
    if (const auto doc = parse_json(value)) {
      const auto masked = mask_json(*doc, rules, options);
      // Unchanged documents keep their bytes: re-serialising could respell numbers and escapes.
      if (masked == *doc) return std::string(value);
      return masked.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    // Nested beyond the limit: corrupt, shown by its length only.
    if (probe_json(value, {}).too_deep) return mask_text(value);
  }
  return options.scan_free_text ? mask_free_text(value) : std::string(value);
}

}  // namespace sessionctl::mask
