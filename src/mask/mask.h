// PII masking (SPEC section 2): per-value rules, free-text detection, and JSON documents masked by
// field rules without changing their structure, so a masked value written back still loads.
//
// Conventions shared by every rule:
// - Output is always valid UTF-8; invalid input bytes become U+FFFD. Code points are never split.
// - Every rule is idempotent: masking a masked value gives it back unchanged.
// - An empty value stays empty (apps use "" for "unset"), except under `redact`: it shows nothing.
// - Rules that keep a first character (name, username) keep it even for a one-character value:
//   "J" -> "J***". The output never shows the length, so it cannot tell a reader that the
//   character was the whole value. An e-mail local part always loses at least one character. free_text shows text that
//   is neither an address nor a phone as is, one character included.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sessionctl::mask {

enum class Rule { email, phone, name, username, text, free_text, redact };

// nullopt for a name that is not one of rule_name()'s spellings.
std::optional<Rule> parse_rule(std::string_view name);
// The spelling parse_rule() accepts, as written in profiles and on the command line.
std::string_view rule_name(Rule rule);

// "john@example.com" -> "jo***@example.com" (one kept character from a two-character local part,
// none from one: "x@y.com" -> "***@y.com");
// a value that is not a single address is masked like a name ("john@localhost" -> "j***",
// "John <john@example.com>" -> "J***"): the field is declared personal either way.
std::string mask_email(std::string_view value);
// "***" plus the last 4 digits when there are at least 5, else "***".
std::string mask_phone(std::string_view value);
// First code point plus "***", surrounding ASCII whitespace ignored: "John Doe" -> "J***".
std::string mask_name(std::string_view value);
// Like mask_name, keeping a leading '@': "@user1" -> "@u***".
std::string mask_username(std::string_view value);
// Whole text replaced by text_placeholder(); a value already in that form is kept.
std::string mask_text(std::string_view value);
// "[redacted: N chars]" ("1 char" for one), N counted in code points.
std::string text_placeholder(std::size_t code_points);
// E-mail addresses, phone numbers and payment card numbers inside prose masked, everything else
// kept. Phones need 7-15 digits and a '+', parentheses or phone-like separators; a bare digit run is
// a phone only with a trunk prefix ("07700900123": '0' then 10-12 digits in all), "00" and a
// country code, or "phone"/"tel"/"mobile"… just before it. Cards are 13-19 digits (bare or grouped
// by ' ' or '-'), first digit 2-6, Luhn-valid; they become "***" and the last 4 digits. Dates, UUIDs,
// ids, versions, decimals, timestamps, counts and IPv4 addresses are left alone because rewriting
// them would corrupt data.
std::string mask_free_text(std::string_view value);
// mask_free_text for a value shown on its own (a session id, a key, a state, an index member):
// the value byte for byte when nothing in it needs masking, so that a caller's escaping of invalid
// UTF-8 still applies to ordinary values.
std::string mask_shown(std::string_view value);
// Always "***".
std::string redact(std::string_view value);
// Dispatches to the function for `rule`. Not named `apply`: with a std::string argument, an
// unqualified call would also find std::apply by ADL, which wins overload resolution.
std::string apply_rule(Rule rule, std::string_view value);

// Path syntax: dotted segments from the document root; a segment is an object key, an array index
// in decimal, or "*" for any key or index at that level ("data.email", "participants.*",
// "proposals.*.votes"). Keys containing '.' cannot be addressed. The empty path is the root.
// A rule on an object or array masks every string inside it (values, not keys); when several rules
// cover a string the deepest path wins, and among rules on the same node the first one listed.
// A path ending in ".{keys}" (or just "{keys}" for the root) masks the KEYS of the object at the
// path before it, e.g. {"proposals.*.votes.{keys}", Rule::username} turns Telegram votes keyed by
// "@user1", "@user2" into "@u***", "@u***#2": masked keys that would collide get "#2", "#3", ...
// in key order, so an object never loses entries. A key of the form "<masked>#N" is kept as is.
struct FieldRule {
  std::string path;
  Rule rule;
};

// Parses "path=rule" as written in profiles, e.g. "data.email=email"; nullopt when malformed.
std::optional<FieldRule> parse_field_rule(std::string_view spec);

struct Options {
  bool scan_free_text = true;  // run mask_free_text on every string and key no field rule covers
  bool field_names = true;     // mask fields no rule covers by their name (rule_for_field_name)
};

// The rule for a field named like personal data, at any depth of any profile's values, case and
// '_', '-', '.' ignored: *email -> email; *phone*, *mobile*, tel, fax -> phone; *username, login ->
// username; *name (firstName, full_name, createdByName; not fileName, stateName…) -> name;
// *street*, *address (not ipAddress…) -> text; postcode, zip, city, dob, card numbers -> redact.
std::optional<Rule> rule_for_field_name(std::string_view key);

// Masks a JSON document by field rules. Never changes structure: same keys count, same types, same
// array lengths; numbers, booleans and null are returned untouched. (Containers nested deeper than
// kMaxJsonDepth, which parse_json never returns, become "***".)
nlohmann::json mask_json(const nlohmann::json& doc, const std::vector<FieldRule>& rules, const Options& options = {});

// Masks a string that may hold a JSON object or array (e.g. a hash field): parses, masks and
// re-serialises compactly, or returns it byte for byte when nothing needed masking. Anything else,
// including JSON scalars whose re-serialisation could differ, is free text (if scan_free_text).
std::string mask_embedded(std::string_view value, const std::vector<FieldRule>& rules, const Options& options = {});

}  // namespace sessionctl::mask
