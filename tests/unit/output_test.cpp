// Rendering: Table, record sinks (table, json, jsonl), dump_json, output formats and the status report.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "render/emit.h"
#include "render/format.h"
#include "render/records.h"
#include "render/session_list.h"
#include "render/table.h"
#include "render/terminal.h"
#include "report/status.h"
#include "util/errors.h"

using Catch::Matchers::Contains;
using nlohmann::json;
using sessionctl::Align;
using sessionctl::Cell;
using sessionctl::Format;
using sessionctl::Table;
using sessionctl::Terminal;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The display column at which `needle` starts in `line`; npos when absent.
std::size_t column_of(const std::string& line, const std::string& needle) {
  auto pos = line.find(needle);
  if (pos == std::string::npos) return std::string::npos;
  return sessionctl::display_width(line.substr(0, pos));
}

// A record as the list command has them: a JSON form and a table row, here both from one json value.
class TestRecord : public sessionctl::Record {
 public:
  explicit TestRecord(json value) : value_(std::move(value)) {}
  void append_json(std::string& out) const override { out += sessionctl::dump_json(value_, false); }
  std::vector<Cell> cells() const override {
    return {{value_.at("id").get<std::string>()},
            {std::to_string(value_.at("keys").get<int>())},
            {value_.at("profile").get<std::string>()}};
  }

 private:
  json value_;
};

sessionctl::RecordStreamSpec test_spec() {
  sessionctl::RecordStreamSpec spec;
  spec.schema = "sessionctl.test";
  spec.version = 3;
  spec.items_key = "sessions";
  spec.columns = {{"ID", Align::left}, {"KEYS", Align::right}, {"PROFILE", Align::left}};
  return spec;
}

// A summary whose footer is "total: N".
class TestSummary : public sessionctl::Report {
 public:
  explicit TestSummary(json value) : value_(std::move(value)) {}
  json to_json() const override { return value_; }
  std::string to_table(const Terminal&) const override {
    return "total: " + std::to_string(value_.at("count").get<int>()) + "\n";
  }

 private:
  json value_;
};

std::string run_sink(Format format, const std::vector<json>& records, const json& summary, int width = 0) {
  std::ostringstream out;
  Terminal term = Terminal::plain(width);
  auto sink = sessionctl::make_record_sink(format, out, term, test_spec());
  for (const auto& r : records) sink->add(TestRecord(r));
  sink->finish(TestSummary(summary));
  return out.str();
}

std::vector<json> sample_records(int n) {
  std::vector<json> out;
  for (int i = 0; i < n; ++i) out.push_back({{"id", "s" + std::to_string(i)}, {"keys", i % 4 + 1}, {"profile", "trt"}});
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------- Table

TEST_CASE("Table aligns left and right columns and trims trailing space", "[output][table]") {
  Table t({{"NAME"}, {"COUNT", Align::right}, {"NOTE"}});
  t.add({{"btrix"}, {"3"}, {"ok"}});
  t.add({{"telegram"}, {"12"}, {""}});
  const std::string out = t.render(Terminal::plain());
  CHECK(out ==
        "NAME      COUNT  NOTE\n"
        "btrix         3  ok\n"
        "telegram     12\n");
}

TEST_CASE("Table with no rows renders the header only", "[output][table]") {
  Table t({{"A"}, {"B", Align::right}});
  CHECK(t.empty());
  CHECK(t.render(Terminal::plain()) == "A  B\n");
}

TEST_CASE("Table counts wide and combining characters by display width", "[output][table]") {
  Table t({{"ID"}, {"PROFILE"}});
  t.add({{"日本語"}, {"btrix"}});
  t.add({{"e\xcc\x81t\xc3\xa9"}, {"trt"}});  // "été" with a combining accent
  t.add({{"😀x"}, {"openvaa"}});
  t.add({{"plain"}, {"channels"}});
  const auto lines = lines_of(t.render(Terminal::plain()));
  REQUIRE(lines.size() == 5);
  const std::size_t col = column_of(lines[0], "PROFILE");
  CHECK(col == 8);  // widest id is 日本語: 6 columns, plus two spaces
  CHECK(column_of(lines[1], "btrix") == col);
  CHECK(column_of(lines[2], "trt") == col);
  CHECK(column_of(lines[3], "openvaa") == col);
  CHECK(column_of(lines[4], "channels") == col);
}

TEST_CASE("Table truncates the last column to the terminal width with an ellipsis", "[output][table]") {
  Table t({{"ID"}, {"VALUE"}});
  t.add({{"s1"}, {std::string(60, 'x')}});
  t.add({{"s2"}, {"日本語のテキストはとても長いのでここで切られるはずです"}});
  t.add({{"s3"}, {"short"}});
  const std::string out = t.render(Terminal::plain(24));
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 4);
  for (const auto& line : lines) {
    INFO(line);
    CHECK(sessionctl::display_width(line) <= 24);
  }
  CHECK_THAT(lines[1], Contains("…"));
  CHECK_THAT(lines[2], Contains("…"));
  CHECK(lines[3] == "s3  short");
  CHECK(lines[1].rfind("s1  xxxx", 0) == 0);

  // Not on a terminal (width 0), nothing is cut.
  const std::string wide = t.render(Terminal::plain(0));
  CHECK_THAT(wide, Contains(std::string(60, 'x')));
  CHECK(wide.find("…") == std::string::npos);
}

TEST_CASE("Table does not squeeze a last column that would be unreadably narrow", "[output][table]") {
  Table t({{std::string(30, 'H')}, {"VALUE"}});
  t.add({{"id"}, {std::string(40, 'v')}});
  const std::string out = t.render(Terminal::plain(36));
  CHECK_THAT(out, Contains(std::string(40, 'v')));
}

TEST_CASE("Table rows with missing cells render blanks", "[output][table]") {
  Table t({{"A"}, {"B", Align::right}, {"C"}});
  t.add({{"x"}});
  CHECK(t.render(Terminal::plain()) == "A  B  C\nx\n");
}

TEST_CASE("Table keeps minimum widths so streamed chunks line up", "[output][table]") {
  Table t({{"ID"}, {"N", Align::right}});
  t.add({{"a"}, {"1"}});
  t.set_min_widths({10, 3});
  CHECK(t.natural_widths() == std::vector<std::size_t>{10, 3});
  CHECK(t.render(Terminal::plain()) == "ID            N\na             1\n");
}

// ---------------------------------------------------------------------------------------------- record sinks

TEST_CASE("json sink writes one valid document with schema, version, items and summary", "[output][records]") {
  const auto records = sample_records(3);
  const std::string out = run_sink(Format::json, records, {{"count", 3}});
  json doc = json::parse(out);  // throws (fails the test) if not valid JSON
  CHECK(doc.at("schema") == "sessionctl.test");
  CHECK(doc.at("version") == 3);
  REQUIRE(doc.at("sessions").is_array());
  CHECK(doc.at("sessions").size() == 3);
  CHECK(doc.at("sessions")[1] == records[1]);
  CHECK(doc.at("summary").at("count") == 3);
  CHECK(out.back() == '\n');
}

TEST_CASE("json sink with no records is still a valid document", "[output][records]") {
  json doc = json::parse(run_sink(Format::json, {}, {{"count", 0}}));
  CHECK(doc.at("schema") == "sessionctl.test");
  CHECK(doc.at("sessions") == json::array());
  CHECK(doc.at("summary").at("count") == 0);
}

TEST_CASE("json sink survives invalid UTF-8 in values", "[output][records]") {
  json bad = {{"id", "caf\xe9"}, {"keys", 1}, {"profile", "btrix\xff"}};
  json doc = json::parse(run_sink(Format::json, {bad}, {{"count", 1}}));
  CHECK(doc.at("sessions")[0].at("id") == "caf\xef\xbf\xbd");  // U+FFFD replacement
}

TEST_CASE("jsonl sink writes exactly one JSON object per line", "[output][records]") {
  const auto records = sample_records(5);
  const std::string out = run_sink(Format::jsonl, records, {{"count", 5}});
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 5);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    json line = json::parse(lines[i]);
    CHECK(line.is_object());
    CHECK(line == records[i]);
  }
  CHECK(out.back() == '\n');
  CHECK(run_sink(Format::jsonl, {}, {{"count", 0}}).empty());
}

TEST_CASE("jsonl sink escapes newlines inside values", "[output][records]") {
  json r = {{"id", "multi\nline\r\nid"}, {"keys", 1}, {"profile", "x"}};
  const auto lines = lines_of(run_sink(Format::jsonl, {r}, {{"count", 1}}));
  REQUIRE(lines.size() == 1);
  CHECK(json::parse(lines[0]).at("id") == "multi\nline\r\nid");
}

TEST_CASE("table sink prints a header, rows and the footer", "[output][records]") {
  const std::string out = run_sink(Format::table, sample_records(2), {{"count", 2}});
  CHECK(out ==
        "ID  KEYS  PROFILE\n"
        "s0     1  trt\n"
        "s1     2  trt\n"
        "total: 2\n");
}

TEST_CASE("table sink streams in chunks without breaking column alignment", "[output][records]") {
  // More rows than one chunk; the widest id comes first, so later chunks must not narrow the columns.
  std::vector<json> records = sample_records(4500);
  records[0]["id"] = "a-very-long-session-identifier-0000";
  const std::string out = run_sink(Format::table, records, {{"count", 4500}});
  const auto lines = lines_of(out);
  REQUIRE(lines.size() == 4500 + 2);
  CHECK(lines[0].rfind("ID", 0) == 0);
  std::size_t headers = 0;
  for (const auto& line : lines) headers += line.rfind("ID ", 0) == 0 ? 1 : 0;
  CHECK(headers == 1);
  const std::size_t col = column_of(lines[0], "PROFILE");
  for (std::size_t i = 1; i <= 4500; ++i) {
    if (column_of(lines[i], "trt") != col) {
      FAIL_CHECK("row " << i << " misaligned: '" << lines[i] << "'");
      break;
    }
  }
  CHECK(lines.back() == "total: 4500");
}

TEST_CASE("dump_json, json_document and parse_format", "[output][records]") {
  json v = {{"b", 1}, {"a", {1, 2}}};
  CHECK(sessionctl::dump_json(v, false) == R"({"a":[1,2],"b":1})");
  CHECK(sessionctl::dump_json(v, true).find('\n') != std::string::npos);
  CHECK(json::parse(sessionctl::dump_json(json("x\xff"), false)) == "x\xef\xbf\xbd");
  CHECK(sessionctl::json_document("sessionctl.status", 1) == json{{"schema", "sessionctl.status"}, {"version", 1}});
  json doc = sessionctl::json_document("sessionctl.inspect", 1);
  doc["missing"] = json::array();
  doc["alpha"] = 1;
  CHECK(sessionctl::dump_json(doc, false) == R"({"schema":"sessionctl.inspect","version":1,"alpha":1,"missing":[]})");
  CHECK(sessionctl::parse_format("table") == Format::table);
  CHECK(sessionctl::parse_format("json") == Format::json);
  CHECK(sessionctl::parse_format("jsonl") == Format::jsonl);
  CHECK_THROWS_AS(sessionctl::parse_format("yaml"), sessionctl::UsageError);
}

// ---------------------------------------------------------------------------------------------- status report

TEST_CASE("parse_info and human_bytes", "[output][status]") {
  auto info = sessionctl::parse_info(
      "# Server\r\nredis_version:7.0.15\r\nrole:master\r\n\r\n# Keyspace\r\n"
      "db0:keys=13,expires=11,avg_ttl=0\r\nno colon line\r\n");
  REQUIRE(info.size() == 3);
  CHECK(info[0] == std::pair<std::string, std::string>{"redis_version", "7.0.15"});
  CHECK(info[2] == std::pair<std::string, std::string>{"db0", "keys=13,expires=11,avg_ttl=0"});
  CHECK(sessionctl::human_bytes(0) == "0 B");
  CHECK(sessionctl::human_bytes(1023) == "1023 B");
  CHECK(sessionctl::human_bytes(1024) == "1.0 KiB");
  CHECK(sessionctl::human_bytes(1536) == "1.5 KiB");
  CHECK(sessionctl::human_bytes(1024 * 1024) == "1.0 MiB");
}

TEST_CASE("status JSON: schema, version and per-profile counts", "[output][status]") {
  sessionctl::StatusReport r;
  r.url = "redis://u:***@h:6379/0";
  r.url_source = "--url";
  r.version = "7.0.15";
  r.used_memory = 2048;
  r.maxmemory = 4096;
  r.db_keys = 13;
  r.profiles = {{"btrix", 3, 3600000}, {"trt", 1, std::nullopt}};
  json doc = sessionctl::status_to_json(r);
  CHECK(doc.at("schema") == "sessionctl.status");
  CHECK(doc.at("version") == 1);
  CHECK(doc.at("server").at("version") == "7.0.15");
  CHECK(doc.at("memory").at("used_bytes") == 2048);
  CHECK(doc.at("memory").at("used_percent") == 50.0);
  CHECK(doc.at("keyspace").at("keys") == 13);
  CHECK(doc.at("profiles")[0] == json{{"profile", "btrix"}, {"sessions", 3}, {"default_ttl_ms", 3600000}});
  CHECK(doc.at("profiles")[1].at("default_ttl_ms").is_null());

  const std::string table = sessionctl::render_status(r, Terminal::plain());
  CHECK_THAT(table, Contains("redis://u:***@h:6379/0  (from --url)"));
  CHECK_THAT(table, Contains("db0: 13 keys"));
  CHECK_THAT(table, Contains("2.0 KiB of 4.0 KiB (50%)"));
}

TEST_CASE("status without INFO reports unknown, not zero", "[output][status]") {
  sessionctl::StatusReport r;
  r.url = "redis://h:6379/0";
  r.url_source = "default";
  r.info_known = false;
  r.notes = {"INFO is not permitted for this user"};
  json doc = sessionctl::status_to_json(r);
  CHECK(doc.at("server").at("version").is_null());
  CHECK(doc.at("server").at("uptime_ms").is_null());
  CHECK(doc.at("memory").at("used_bytes").is_null());
  CHECK(doc.at("keyspace").at("keys").is_null());
  CHECK(doc.at("memory").at("evicted_keys").is_null());
  CHECK(doc.at("keyspace").at("db") == 0);
  const std::string table = sessionctl::render_status(r, Terminal::plain());
  CHECK_THAT(table, Contains("unknown (INFO not permitted)"));
  CHECK_THAT(table, Contains("db0: unknown"));
  CHECK(table.find("0 keys") == std::string::npos);
  CHECK(table.find("0 B") == std::string::npos);
  // Notes go to stderr (commands/status.cpp), never into the result table on stdout.
  CHECK(table.find("note:") == std::string::npos);
  CHECK(doc.at("notes").at(0) == "INFO is not permitted for this user");
}

TEST_CASE("append_json_string writes the same JSON string as dump_json for valid text", "[output][records]") {
  for (const std::string s : {"plain", "quote \" backslash \\ slash /", "ctrl \n\r\t\b\f \x01\x1f del \x7f",
                              "héllo 日本 😀 \xf4\x8f\xbf\xbf"}) {
    INFO(sessionctl::printable(s));
    std::string out;
    sessionctl::append_json_string(out, s);
    CHECK(out == sessionctl::dump_json(json(s), false));
  }
  std::string nul;
  sessionctl::append_json_string(nul, std::string("nul \0 byte", 10));
  CHECK(json::parse(nul) == std::string("nul \0 byte", 10));
}

TEST_CASE("append_json_string never lets invalid UTF-8 through", "[output][records]") {
  const std::vector<std::string> samples = {
      "lone \xff byte",
      "cut \xe2\x82",
      "overlong \xc0\xaf",  // well-formed bytes, but not UTF-8
      "overlong esc \xe0\x80\x9b",
      "surrogate \xed\xa0\x80",
      "too high \xf4\x90\x80\x80",  // above U+10FFFF
  };
  for (const auto& s : samples) {
    INFO(sessionctl::printable(s));
    std::string out;
    sessionctl::append_json_string(out, s);
    json parsed;
    REQUIRE_NOTHROW(parsed = json::parse(out));  // nlohmann's parser rejects ill-formed UTF-8
    const std::string text = parsed.get<std::string>();
    CHECK(text.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD marks the bad bytes
    CHECK(text.rfind(s.substr(0, s.find(' ')), 0) == 0);    // the good part is kept
  }
}

TEST_CASE("printable and terminal_safe escape every control, C1 and bidi character", "[output][terminal]") {
  using sessionctl::printable;
  using sessionctl::terminal_safe;
  CHECK(printable("abc\xE2\x80\xAEgpj") == "abc\\u202egpj");
  for (const std::string bidi :
       {"\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8",
        "\xE2\x81\xA9", "\xE2\x80\x8E", "\xE2\x80\x8F", "\xD8\x9C", "\xE2\x80\xA8", "\xE2\x80\xA9"}) {
    INFO(printable(bidi));
    CHECK(printable(bidi).rfind("\\u", 0) == 0);
    CHECK(terminal_safe(bidi).rfind("\\u", 0) == 0);
  }
  CHECK(terminal_safe("a\x1b[2Jb\x07\xC2\x9B") == "a\\x1b[2Jb\\x07\\x9b");
  // printable()'s output passes terminal_safe() unchanged, so escaping twice shows the same text.
  const std::string shown = printable("id\\with\nnewline\x1b\xE2\x80\xAE\xff");
  CHECK(terminal_safe(shown) == shown);
  CHECK(terminal_safe("two\nlines") == "two\nlines");
  CHECK(terminal_safe("two\nlines", false) == "two\\nlines");
  // A rendered table keeps sessionctl's own colours and loses anything else.
  CHECK(sessionctl::safe_rendering("\033[1mH\033[0m \033[8mhidden\033]0;t\007") ==
        "\033[1mH\033[0m \\x1b[8mhidden\\x1b]0;t\\x07");
}

TEST_CASE("paint ends the colour before trailing newlines", "[output][terminal]") {
  Terminal colour = Terminal::plain(0, true);
  CHECK(colour.paint(sessionctl::Style::dim, "3 sessions\n") == "\033[2m3 sessions\033[0m\n");
  CHECK(colour.paint(sessionctl::Style::red, "x") == "\033[31mx\033[0m");
  sessionctl::SessionListSummary summary;
  summary.sessions = 1;
  CHECK(summary.to_table(colour) == "\033[2m1 session\033[0m\n");
  CHECK(summary.to_table(Terminal::plain()) == "1 session\n");
}

TEST_CASE("count_of agrees with its noun", "[output]") {
  CHECK(sessionctl::count_of(0, "session") == "0 sessions");
  CHECK(sessionctl::count_of(1, "session") == "1 session");
  CHECK(sessionctl::count_of(2, "problem") == "2 problems");
  CHECK(sessionctl::count_of(1, "key was", "keys were") == "1 key was");
  CHECK(sessionctl::count_of(5, "key was", "keys were") == "5 keys were");
}

TEST_CASE("Table fits the terminal by cutting a wide middle column when the last is not enough", "[output][table]") {
  Table t({{"PROFILE"}, {"KEYS", Align::right}, {"STATE"}, {"PROBLEMS"}, {"ID"}});
  t.add({{"btrix"}, {"1"}, {std::string(150, 'A')}, {""}, {"s1"}});
  t.add({{"btrix"}, {"12"}, {"short"}, {"no_ttl"}, {"session-two"}});
  const std::string out = t.render(Terminal::plain(80));
  for (const auto& line : lines_of(out)) {
    INFO(line);
    CHECK(sessionctl::display_width(line) <= 80);
  }
  CHECK_THAT(out, Contains("session-two"));  // the ids stay whole
  CHECK_THAT(out, Contains("A…"));
  CHECK_THAT(out, Contains("  12  "));
}

TEST_CASE("Table cells cannot carry control characters to the terminal", "[output][table]") {
  Table t({{"PROFILE"}, {"ID"}});
  t.add({{"ev\x1b[2Jil"}, {"a\nb"}});
  const std::string out = t.render(Terminal::plain());
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK_THAT(out, Contains("ev\\x1b[2Jil"));
  CHECK_THAT(out, Contains("a\\nb"));
}
