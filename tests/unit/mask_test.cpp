#include "mask/mask.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

using nlohmann::json;
namespace mask = sessionctl::mask;
using mask::Rule;

namespace {

const std::vector<Rule> all_rules{Rule::email, Rule::phone,     Rule::name,  Rule::username,
                                  Rule::text,  Rule::free_text, Rule::redact};

// nlohmann's strict serialiser rejects ill-formed UTF-8, overlongs and surrogates included.
bool is_valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// Same JSON type at every node, same keys count per object, same array lengths.
bool same_shape(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!same_shape(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    std::vector<const json*> left;
    std::vector<const json*> right;
    for (const auto& v : a) left.push_back(&v);
    for (const auto& v : b) right.push_back(&v);
    // Masked keys may sort differently, so compare values as a multiset of shapes.
    std::vector<bool> used(right.size(), false);
    for (const auto* l : left) {
      bool found = false;
      for (std::size_t k = 0; k < right.size() && !found; ++k) {
        if (!used[k] && same_shape(*l, *right[k])) used[k] = found = true;
      }
      if (!found) return false;
    }
    return true;
  }
  if (a.is_string()) return true;
  return a == b;  // numbers, booleans and null are never touched
}

std::vector<mask::FieldRule> seed000_rules() {
  return {{"data.name", Rule::name}, {"data.email", Rule::email}, {"data.phone", Rule::phone}};
}

// A Telegram session as stored by seed 003's bot.
json telegram_session() {
  return json::parse(R"({
    "message": "Buy BONK token",
    "participants": ["@user1", "@user2"],
    "votes": {},
    "chatId": -1001234567890,
    "msgId": 12345,
    "open": true,
    "createdBy": 123456789,
    "createdByUsername": "user1",
    "proposals": [{
      "id": "1234567890123",
      "text": "BUY token=MALONEY amount=0.05 price=market",
      "type": "buy",
      "votes": {"@user1": {"vote": "yes", "amount": 0.05}, "@user2": {"vote": "no", "amount": 0}},
      "open": true,
      "createdBy": 123456789,
      "createdByUsername": "user1",
      "duration": 5,
      "startTime": 1234567890000,
      "endTime": 1234567890000,
      "note": null
    }]
  })");
}

std::vector<mask::FieldRule> telegram_rules() {
  return {{"participants.*", Rule::username},
          {"createdByUsername", Rule::username},
          {"proposals.*.createdByUsername", Rule::username},
          {"votes.{keys}", Rule::username},
          {"proposals.*.votes.{keys}", Rule::username}};
}

// Values that each rule must survive: empty, one character, unicode, invalid UTF-8, near-misses.
const std::vector<std::string> awkward_values{
    "",
    "J",
    "@",
    "*",
    "***",
    "@u",
    "a@b.cd",
    "John Doe",
    "  padded  ",
    "Émile",
    "张伟",
    "E\xCC\x81mile",           // decomposed É
    "\xF0\x9F\x98\x80 emoji",  // 4-byte sequence first
    "\xFF\xFE broken",         // invalid lead bytes
    "\xC3",                    // truncated sequence
    "\xE2\x82",                // truncated 3-byte sequence
    "\xED\xA0\x80 surrogate",  // encoded surrogate
    "\xC0\xAF overlong",       // overlong '/'
    "jo\xFF@example.com",
    "john@example.com",
    "+1 (555) 123-7890",
    "1234",
    "[redacted: 3 chars]",
    "call me at +44 20 7946 0958 or mail jane.doe@corp.example",
    "555-123-7890@txt.example.com",
    "+44 20 7946 0958+jane@x.io",
    "+44 20 7946 0958.-jane@x.io",
    "+44 20 7946 0958,jane@x.io",
    "x=jane@x.io&y=2",
    "2026-01-03T10:00:00Z",
};

}  // namespace

TEST_CASE("rules are parsed and named by the same table", "[mask]") {
  for (const auto rule : all_rules) CHECK(mask::parse_rule(mask::rule_name(rule)) == rule);
  CHECK(mask::parse_rule("free_text") == Rule::free_text);
  CHECK_FALSE(mask::parse_rule("Email").has_value());
  CHECK_FALSE(mask::parse_rule("").has_value());

  const auto field = mask::parse_field_rule("proposals.*.votes.{keys}=username");
  REQUIRE(field.has_value());
  CHECK(field->path == "proposals.*.votes.{keys}");
  CHECK(field->rule == Rule::username);
  CHECK_FALSE(mask::parse_field_rule("data.email").has_value());
  CHECK_FALSE(mask::parse_field_rule("data.email=mail").has_value());
}

TEST_CASE("email keeps two characters of the local part and the domain", "[mask]") {
  CHECK(mask::mask_email("john@example.com") == "jo***@example.com");
  // Issue 11: "x@y.com" was "x***@y.com", the whole local part. A short one still loses a character.
  CHECK(mask::mask_email("j@x.io") == "***@x.io");
  CHECK(mask::mask_email("x@y.com") == "***@y.com");
  CHECK(mask::mask_email("***@y.com") == "***@y.com");
  CHECK(mask::mask_free_text("mail x@y.com") == "mail ***@y.com");
  CHECK(mask::mask_email("jo@x.io") == "j***@x.io");  // never the whole local part
  CHECK(mask::mask_email("émile@exemple.fr") == "ém***@exemple.fr");
  CHECK(mask::mask_email("") == "");
  CHECK(mask::mask_email("jo***@example.com") == "jo***@example.com");
  CHECK(mask::mask_email("j***@x.io") == "j***@x.io");
  SECTION("anything else in an e-mail field is still masked, never shown as is") {
    CHECK(mask::mask_email("John") == "J***");
    CHECK(mask::mask_email("John <john@example.com>") == "J***");
    CHECK(mask::mask_email("mary***jones") == "m***");
    CHECK(mask::mask_email("John Smith (phone 555-123-4567)") == "J***");
    CHECK(mask::mask_email("john@localhost") == "j***");
    CHECK(mask::mask_email(mask::mask_email("john@localhost")) == "j***");
  }
}

TEST_CASE("phone keeps the last four digits", "[mask]") {
  CHECK(mask::mask_phone("+1 (555) 123-7890") == "***7890");
  CHECK(mask::mask_phone("5551237890") == "***7890");
  CHECK(mask::mask_phone("12345") == "***2345");
  CHECK(mask::mask_phone("1234") == "***");
  CHECK(mask::mask_phone("7") == "***");
  CHECK(mask::mask_phone("unknown") == "***");
  CHECK(mask::mask_phone("") == "");
  CHECK(mask::mask_phone("***7890") == "***7890");
  CHECK(mask::mask_phone("***") == "***");
}

TEST_CASE("name keeps its first code point", "[mask]") {
  CHECK(mask::mask_name("John Doe") == "J***");
  CHECK(mask::mask_name("John") == "J***");
  // The output hides the length, so a reader cannot tell "J" was the whole name.
  CHECK(mask::mask_name("J") == "J***");
  CHECK(mask::mask_name("Émile") == "É***");
  CHECK(mask::mask_name("张伟") == "张***");
  CHECK(mask::mask_name("\xF0\x9F\x98\x80 smile") == "\xF0\x9F\x98\x80***");
  CHECK(mask::mask_name("  John ") == "J***");
  CHECK(mask::mask_name("") == "");
  CHECK(mask::mask_name("J***") == "J***");
  CHECK(mask::mask_name("张***") == "张***");
  SECTION("invalid UTF-8 becomes U+FFFD, never a split sequence") {
    CHECK(mask::mask_name("\xFFohn") == "\xEF\xBF\xBD***");
    CHECK(mask::mask_name("\xC3") == "\xEF\xBF\xBD***");
    CHECK(mask::mask_name("\xC3(") == "\xEF\xBF\xBD***");
  }
}

TEST_CASE("username keeps the '@' and the first character", "[mask]") {
  CHECK(mask::mask_username("@user1") == "@u***");
  CHECK(mask::mask_username("user1") == "u***");
  CHECK(mask::mask_username("@u") == "@u***");
  CHECK(mask::mask_username("@") == "@");
  CHECK(mask::mask_username("") == "");
  CHECK(mask::mask_username("@u***") == "@u***");
  CHECK(mask::mask_username("@élodie") == "@é***");
}

TEST_CASE("text becomes a placeholder carrying its length in code points", "[mask]") {
  const std::string text = "I felt anxious all week, mostly at night.";
  CHECK(mask::mask_text(text) == "[redacted: 41 chars]");
  CHECK(mask::mask_text("张伟很累") == "[redacted: 4 chars]");
  CHECK(mask::mask_text("x") == "[redacted: 1 char]");
  CHECK(mask::mask_text("") == "");
  CHECK(mask::mask_text("\xFF\xFE") == "[redacted: 2 chars]");
  CHECK(mask::mask_text("[redacted: 41 chars]") == "[redacted: 41 chars]");
  CHECK(mask::mask_text("[redacted: 1 char]") == "[redacted: 1 char]");
  CHECK(mask::mask_text("[redacted: many chars]") == "[redacted: 22 chars]");
  CHECK(mask::text_placeholder(0) == "[redacted: 0 chars]");
}

TEST_CASE("redact reveals nothing, not even emptiness", "[mask]") {
  CHECK(mask::redact("secret") == "***");
  CHECK(mask::redact("") == "***");
  CHECK(mask::redact("***") == "***");
}

TEST_CASE("apply_rule dispatches to each rule", "[mask]") {
  CHECK(mask::apply_rule(Rule::email, "john@example.com") == "jo***@example.com");
  CHECK(mask::apply_rule(Rule::phone, "5551237890") == "***7890");
  CHECK(mask::apply_rule(Rule::name, "John") == "J***");
  CHECK(mask::apply_rule(Rule::username, "@user1") == "@u***");
  CHECK(mask::apply_rule(Rule::text, "abc") == "[redacted: 3 chars]");
  CHECK(mask::apply_rule(Rule::free_text, "mail john@example.com") == "mail jo***@example.com");
  CHECK(mask::apply_rule(Rule::redact, "x") == "***");
}

TEST_CASE("every rule survives awkward values, gives valid UTF-8 and is idempotent", "[mask]") {
  for (const auto rule : all_rules) {
    for (const auto& value : awkward_values) {
      INFO("rule " << mask::rule_name(rule) << " value '" << value << "'");
      const auto once = mask::apply_rule(rule, value);
      CHECK(is_valid_utf8(once));
      CHECK(mask::apply_rule(rule, once) == once);
    }
  }
}

TEST_CASE("random strings of phone, e-mail and UTF-8 fragments stay valid and idempotent", "[mask]") {
  const std::vector<std::string> pieces{"0", "5",    "12",   "555", "7946", "+",    "-",    ".",        " ",
                                        "(", ")",    "@",    "*",   "#",    ":",    "=",    "_",        "a",
                                        "Z", "x.io", "jane", "é",   "张",   "\xFF", "\xC3", "\xE2\x82", "\n"};
  std::uint32_t state = 12345;  // fixed seed: failures must reproduce
  const auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string value;
    for (auto n = next() % 24; n > 0; --n) value += pieces[next() % pieces.size()];
    for (const auto rule : all_rules) {
      INFO("rule " << mask::rule_name(rule) << " value '" << value << "'");
      const auto once = mask::apply_rule(rule, value);
      REQUIRE(is_valid_utf8(once));
      REQUIRE(mask::apply_rule(rule, once) == once);
    }
  }
}

TEST_CASE("one-character values are never shown as they were", "[mask]") {
  for (const auto rule : {Rule::phone, Rule::text, Rule::redact}) {
    INFO("rule " << mask::rule_name(rule));
    CHECK(mask::apply_rule(rule, "7") != "7");
    CHECK(mask::apply_rule(rule, "J") != "J");
  }
  // name and username keep a first character by design, and add "***" after it; an e-mail address
  // whose local part is one character keeps none of it.
  CHECK(mask::apply_rule(Rule::name, "J") == "J***");
  CHECK(mask::apply_rule(Rule::username, "@J") == "@J***");
  CHECK(mask::apply_rule(Rule::email, "j@x.io") == "***@x.io");
}

TEST_CASE("free text masks e-mails and phones inside prose", "[mask]") {
  CHECK(mask::mask_free_text("call me at +44 20 7946 0958 or mail jane.doe@corp.example") ==
        "call me at ***0958 or mail ja***@corp.example");
  CHECK(mask::mask_free_text("US: (555) 123-7890.") == "US: ***7890.");
  CHECK(mask::mask_free_text("Tel:+1 555 123 7890, thanks") == "Tel:***7890, thanks");
  CHECK(mask::mask_free_text("ring 555-123-7890") == "ring ***7890");
  CHECK(mask::mask_free_text("ring 555.123.7890") == "ring ***7890");
  CHECK(mask::mask_free_text("Berlin 030 12345678") == "Berlin ***5678");
  CHECK(mask::mask_free_text("Paris +33 6 12 34 56 78") == "Paris ***5678");
  CHECK(mask::mask_free_text("Mail: <John.Smith+tag@mail.example.org>.") == "Mail: <Jo***@mail.example.org>.");
  CHECK(mask::mask_free_text("?email=jane@x.io&x=1") == "?email=ja***@x.io&x=1");
  CHECK(mask::mask_free_text("张伟 jane@x.io") == "张伟 ja***@x.io");
  CHECK(mask::mask_free_text("") == "");
  CHECK(mask::mask_free_text("\xFF jane@x.io") == "\xEF\xBF\xBD ja***@x.io");
}

TEST_CASE("free text leaves dates, ids, versions and numbers alone", "[mask]") {
  const std::vector<std::string> untouched{
      "2026-01-03",
      "2026-01-03T10:00:00Z",
      "2026-01-03 10:00:00",
      "2026-01-03T10:00:00.123456+01:00",
      "03.01.2026",
      "550e8400-e29b-41d4-a716-446655440000",
      "12345678-1234-1234-1234-123456789012",
      "1234567890123",
      "-1001234567890",
      "1.2.3",
      "1640995200.0",
      "1640995200.12",
      "0.12345678",
      "192.168.100.200",
      "2020-2021",
      "1234 5678",
      "session:abc123def456",
      "https://example.com/users/555-123-7890",
      "order #5551237890",
      "user@localhost",
      "@user1",
      "BUY token=MALONEY amount=0.05 price=market",
      "jo***@example.com",
      "***7890",
      "[redacted: 42 chars]",
      "Version 10.15.7 built 2025-10-15",
  };
  for (const auto& value : untouched) {
    INFO(value);
    CHECK(mask::mask_free_text(value) == value);
  }
}

TEST_CASE("mask_json applies seed 000's field rules", "[mask]") {
  const auto doc = json::parse(R"({"current":"BOOK_PHONE",
    "data":{"name":"John","email":"john@example.com","phone":"5551237890"}})");
  const auto masked = mask::mask_json(doc, seed000_rules());
  CHECK(masked["data"] == json::parse(R"({"name":"J***","email":"jo***@example.com","phone":"***7890"})"));
  CHECK(masked["current"] == "BOOK_PHONE");
  CHECK(mask::mask_json(masked, seed000_rules()) == masked);
}

TEST_CASE("mask_json keeps the shape and every non-string value", "[mask]") {
  const auto doc = telegram_session();
  const auto masked = mask::mask_json(doc, telegram_rules());
  CHECK(same_shape(doc, masked));
  CHECK(masked["chatId"] == -1001234567890);
  CHECK(masked["proposals"][0]["id"] == "1234567890123");
  CHECK(masked["proposals"][0]["startTime"] == 1234567890000);
  CHECK(masked["proposals"][0]["note"].is_null());
  CHECK(masked["proposals"][0]["votes"]["@u***"]["amount"] == 0.05);
  CHECK(masked["open"] == true);
  CHECK(masked["message"] == "Buy BONK token");
  CHECK(masked["proposals"][0]["text"] == doc["proposals"][0]["text"]);
  CHECK(masked["createdByUsername"] == "u***");

  SECTION("redacting everything still keeps the shape") {
    const auto all = mask::mask_json(doc, {{"", Rule::redact}, {"{keys}", Rule::redact}});
    CHECK(same_shape(doc, all));
    CHECK(all.size() == doc.size());
    CHECK(all.contains("***#9"));
  }
}

TEST_CASE("a rule on an object or array masks the strings inside it", "[mask]") {
  const auto doc = json::parse(R"({"participants":["@user1","@user2"],
    "data":{"name":"John","tags":["Ann",3,{"x":"Bob"}]}})");
  const auto masked = mask::mask_json(doc, {{"participants", Rule::username}, {"data", Rule::name}});
  CHECK(masked["participants"] == json::parse(R"(["@u***","@u***"])"));
  CHECK(masked["data"] == json::parse(R"({"name":"J***","tags":["A***",3,{"x":"B***"}]})"));

  const auto by_index = mask::mask_json(doc, {{"participants.1", Rule::redact}}, {false});
  CHECK(by_index["participants"] == json::parse(R"(["@user1","***"])"));
}

TEST_CASE("the deepest rule wins, then the first listed", "[mask]") {
  const auto doc = json::parse(R"({"data":{"email":"john@example.com","note":"hi"}})");
  const auto masked = mask::mask_json(doc, {{"data", Rule::redact}, {"data.email", Rule::email}});
  CHECK(masked["data"]["email"] == "jo***@example.com");
  CHECK(masked["data"]["note"] == "***");
  const auto first = mask::mask_json(doc, {{"data.*", Rule::redact}, {"data.email", Rule::email}});
  CHECK(first["data"]["email"] == "***");
}

TEST_CASE("keys rules mask object keys and keep them unique", "[mask]") {
  const auto doc = telegram_session();
  const auto masked = mask::mask_json(doc, telegram_rules());
  const auto& votes = masked["proposals"][0]["votes"];
  CHECK(votes.size() == 2);
  CHECK(votes.contains("@u***"));
  CHECK(votes.contains("@u***#2"));
  CHECK(votes["@u***"]["vote"] == "yes");  // keys are processed in sorted order: @user1 first
  CHECK(votes["@u***#2"]["vote"] == "no");

  SECTION("a real key that looks like a deduplicated one does not collide") {
    const auto tricky = json::parse(R"({"votes":{"@u***#2":1,"@user1":2,"@user2":3,"@u***":4}})");
    const auto once = mask::mask_json(tricky, {{"votes.{keys}", Rule::username}});
    CHECK(once["votes"].size() == 4);
    CHECK(mask::mask_json(once, {{"votes.{keys}", Rule::username}}) == once);
  }
}

TEST_CASE("mask_json is idempotent", "[mask]") {
  const auto doc = telegram_session();
  const auto rules = telegram_rules();
  const auto once = mask::mask_json(doc, rules);
  CHECK(mask::mask_json(once, rules) == once);

  const auto history = json::parse(R"([
    {"client_input":"My number is +44 20 7946 0958","therapist_response":"Thank you, Émile.",
     "navigation_decision":"continue","current_substate":"1.2","timestamp":"2025-10-15T10:00:00Z"},
    {"client_input":"","therapist_response":"x","timestamp":1760522400.5}
  ])");
  const std::vector<mask::FieldRule> trt{{"*.client_input", Rule::text}, {"*.therapist_response", Rule::text}};
  const auto masked = mask::mask_json(history, trt);
  CHECK(masked[0]["client_input"] == "[redacted: 29 chars]");
  CHECK(masked[0]["therapist_response"] == "[redacted: 17 chars]");
  CHECK(masked[0]["timestamp"] == "2025-10-15T10:00:00Z");
  CHECK(masked[0]["current_substate"] == "1.2");
  CHECK(masked[1]["client_input"] == "");
  CHECK(same_shape(history, masked));
  CHECK(mask::mask_json(masked, trt) == masked);

  const auto keyed = json::parse(R"({"jane@x.io":1,"ja***@x.io":2,"+44 20 7946 0958":3,"x":[true,null]})");
  const auto scanned = mask::mask_json(keyed, {});
  CHECK(scanned.size() == keyed.size());
  CHECK(scanned.contains("ja***@x.io#2"));
  CHECK(scanned.contains("***0958"));
  CHECK(mask::mask_json(scanned, {}) == scanned);
}

TEST_CASE("free-text scanning of uncovered strings can be turned off", "[mask]") {
  const auto doc = json::parse(R"({"note":"mail jane@x.io","data":{"email":"john@example.com"},"jane@x.io":0})");
  const auto scanned = mask::mask_json(doc, seed000_rules());
  CHECK(scanned["note"] == "mail ja***@x.io");
  CHECK(scanned.contains("ja***@x.io"));
  const auto unscanned = mask::mask_json(doc, seed000_rules(), {false});
  CHECK(unscanned["note"] == "mail jane@x.io");
  CHECK(unscanned["data"]["email"] == "jo***@example.com");
  CHECK(unscanned.contains("jane@x.io"));
}

TEST_CASE("mask_embedded masks JSON held in a string", "[mask]") {
  const auto rules = seed000_rules();
  const std::string state = R"({"current":"BOOK_PHONE","data":{"email":"john@example.com","name":"John"}})";
  CHECK(mask::mask_embedded(state, rules) ==
        R"({"current":"BOOK_PHONE","data":{"email":"jo***@example.com","name":"J***"}})");

  // Nothing to mask: the original bytes come back, formatting and number spelling included.
  const std::string plain = "{ \"ttl\": 3.600e3, \"open\": true }";
  CHECK(mask::mask_embedded(plain, rules) == plain);

  CHECK(mask::mask_embedded("call +44 20 7946 0958", rules) == "call ***0958");
  CHECK(mask::mask_embedded("1640995200.0", rules) == "1640995200.0");
  CHECK(mask::mask_embedded("\"john@example.com\"", rules) == "\"jo***@example.com\"");
  CHECK(mask::mask_embedded("{not json jane@x.io", rules) == "{not json ja***@x.io");
  CHECK(mask::mask_embedded("", rules) == "");
  CHECK(mask::mask_embedded("mail jane@x.io", rules, {false}) == "mail jane@x.io");

  const auto once = mask::mask_embedded(state, rules);
  CHECK(mask::mask_embedded(once, rules) == once);
  CHECK(json::parse(once).size() == json::parse(state).size());
}

TEST_CASE("free text masks bare phone numbers with a trunk or international prefix or a phone word", "[mask]") {
  CHECK(mask::mask_free_text("07700900123") == "***0123");
  CHECK(mask::mask_free_text("call 07700900123 today") == "call ***0123 today");
  CHECK(mask::mask_free_text("0612345678") == "***5678");
  CHECK(mask::mask_free_text("00447700900123") == "***0123");
  CHECK(mask::mask_free_text("+14155550123") == "***0123");
  CHECK(mask::mask_free_text("phone 4155550123") == "phone ***0123");
  CHECK(mask::mask_free_text("Mobile: 4155550123") == "Mobile: ***0123");
  CHECK(mask::mask_free_text("tel=4155550123") == "tel=***0123");
  CHECK(mask::mask_free_text("phone=07700900123") == "phone=***0123");
  CHECK(mask::mask_free_text("whatsapp 447700900123") == "whatsapp ***0123");
  CHECK(mask::mask_free_text("***0123") == "***0123");
}

TEST_CASE("free text masks Luhn-valid payment card numbers, bare or grouped", "[mask]") {
  CHECK(mask::mask_free_text("4111 1111 1111 1111") == "***1111");
  CHECK(mask::mask_free_text("card 4111-1111-1111-1111 exp 12/29") == "card ***1111 exp 12/29");
  CHECK(mask::mask_free_text("4111111111111111") == "***1111");
  CHECK(mask::mask_free_text("pay with 5555555555554444.") == "pay with ***4444.");
  CHECK(mask::mask_free_text("amex 3782 822463 10005") == "amex ***0005");
  CHECK(mask::mask_free_text("378282246310005") == "***0005");
  CHECK(mask::mask_free_text("6011-1111-1111-1117") == "***1117");
  CHECK(mask::mask_free_text("4222222222222") == "***2222");        // 13-digit Visa
  CHECK(mask::mask_free_text("6304000000000000000") == "***0000");  // 19 digits
  CHECK(mask::mask_free_text("card=4111111111111111") == "card=***1111");
}

TEST_CASE("free text leaves numbers that are neither phones nor cards alone", "[mask]") {
  const std::vector<std::string> untouched{
      "1700000000",     // unix seconds
      "1700000000000",  // unix milliseconds (Luhn-valid or not, they start with 1)
      "1700000000123",
      "1734567890123456",     // microseconds
      "1734567890123456789",  // nanoseconds
      "4111111111111112",     // a card-shaped run that fails Luhn
      "4111 1111 1111 1112",
      "7111111111111111",  // Luhn-valid but no issuer starts with 7
      "123456789",         // a Telegram user id
      "42",
      "score 98765432",
      "count: 12345678",
      "0001234567",        // zero padding, not a trunk prefix
      "07700",             // too short for a phone
      "0770090012345678",  // too long for a national number
      "order #07700900123",
      "id=4155550123",
      "1.4111111111111111",
      "session:1734567890123",
  };
  for (const auto& value : untouched) {
    INFO(value);
    CHECK(mask::mask_free_text(value) == value);
  }
}

TEST_CASE("fields named like personal data are masked by name at any depth", "[mask]") {
  using mask::rule_for_field_name;
  for (const auto* key : {"name", "firstName", "first_name", "lastName", "surname", "full_name", "fullName",
                          "display_name", "displayName", "client_name", "contactName", "createdByName", "givenName",
                          "nickname", "FirstName", "first-name"}) {
    INFO(key);
    CHECK(rule_for_field_name(key) == Rule::name);
  }
  for (const auto* key : {"phone", "phoneNumber", "phone_number", "mobile", "mobileNumber", "tel", "telephone",
                          "homePhone", "cell", "fax", "msisdn", "whatsapp"}) {
    INFO(key);
    CHECK(rule_for_field_name(key) == Rule::phone);
  }
  for (const auto* key : {"email", "Email", "e_mail", "emailAddress", "contact_email", "mail"}) {
    INFO(key);
    CHECK(rule_for_field_name(key) == Rule::email);
  }
  for (const auto* key : {"username", "user_name", "login", "handle"}) {
    INFO(key);
    CHECK(rule_for_field_name(key) == Rule::username);
  }
  for (const auto* key : {"street", "streetAddress", "address", "address1", "address_line_2", "homeAddress"}) {
    INFO(key);
    CHECK(rule_for_field_name(key) == Rule::text);
  }
  for (const auto* key :
       {"postcode", "postal_code", "zip", "zipCode", "city", "town", "dob", "dateOfBirth", "cardNumber"}) {
    INFO(key);
    CHECK(rule_for_field_name(key) == Rule::redact);
  }
  for (const auto* key : {"fileName",
                          "hostname",
                          "stateName",
                          "stage_name",
                          "profileName",
                          "current",
                          "count",
                          "updatedAt",
                          "ipAddress",
                          "remote_address",
                          "type",
                          "id",
                          "message",
                          "text",
                          "open",
                          "chatId",
                          "ttl",
                          "data",
                          "votes",
                          "current_stage",
                          "last_interaction",
                          "",
                          "123"}) {
    INFO(key);
    CHECK_FALSE(rule_for_field_name(key).has_value());
  }

  const auto doc = json::parse(R"({
    "firstName": "John", "lastName": "Doe",
    "user": {"name": "Jane Roe", "profile": {"contact": {"phoneNumber": "4155550123", "street": "1 Main St",
             "zip": "94107", "city": "San Francisco"}}},
    "items": [{"display_name": "Zed", "fileName": "report.pdf"}],
    "tel": 4155550123,
    "current": "BOOK_NAME"
  })");
  const auto masked = mask::mask_json(doc, {});
  CHECK(masked["firstName"] == "J***");
  CHECK(masked["lastName"] == "D***");
  CHECK(masked["user"]["name"] == "J***");
  CHECK(masked["user"]["profile"]["contact"]["phoneNumber"] == "***0123");
  CHECK(masked["user"]["profile"]["contact"]["street"] == "[redacted: 9 chars]");
  CHECK(masked["user"]["profile"]["contact"]["zip"] == "***");
  CHECK(masked["user"]["profile"]["contact"]["city"] == "***");
  CHECK(masked["items"][0]["display_name"] == "Z***");
  CHECK(masked["items"][0]["fileName"] == "report.pdf");
  CHECK(masked["tel"] == 4155550123);  // numbers keep their type: the shape never changes
  CHECK(masked["current"] == "BOOK_NAME");
  CHECK(same_shape(doc, masked));
  CHECK(mask::mask_json(masked, {}) == masked);

  SECTION("an explicit rule wins over the field name, even from an ancestor") {
    const auto m = mask::mask_json(doc, {{"user", Rule::text}, {"firstName", Rule::redact}});
    CHECK(m["firstName"] == "***");
    CHECK(m["user"]["name"] == "[redacted: 8 chars]");
  }
  SECTION("field names can be turned off") {
    mask::Options options;
    options.field_names = false;
    CHECK(mask::mask_json(doc, {}, options)["firstName"] == "John");
  }
}
