#include "render/junit.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>

#include "util/utf8.h"

namespace sessionctl {
namespace {

// XML 1.0's Char production: tab, newline, carriage return, and U+0020 up, less the surrogates and
// U+FFFE/U+FFFF. Anything else cannot appear even escaped.
bool xml_char(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
         (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Escaped for an attribute value (quotes, and line breaks kept as character references) or for text.
void append_escaped(std::string& out, const std::string& text, bool attribute) {
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t n = utf8_decode(text, i, cp);
    if (n == 0 || !xml_char(cp)) {
      append_utf8(out, 0xFFFD);
      i += n == 0 ? 1 : n;
      continue;
    }
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out.append(text, i, n);
    }
    i += n;
  }
}

std::string attr(const std::string& text) {
  std::string out;
  append_escaped(out, text, true);
  return out;
}

std::string text_of(const std::string& text) {
  std::string out;
  append_escaped(out, text, false);
  return out;
}

// Seconds with millisecond precision, never negative or NaN (the schema's xs:decimal has neither).
std::string seconds_text(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  return fmt::format("{:.3f}", s);
}

// The Ant format's ISO 8601 date and time, without a zone; ours is UTC.
std::string timestamp_text(double unix_seconds) {
  std::time_t t = std::isfinite(unix_seconds) && unix_seconds > 0 ? static_cast<std::time_t>(unix_seconds) : 0;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

const char* element_of(JunitCase::Outcome o) {
  switch (o) {
    case JunitCase::Outcome::failed:
      return "failure";
    case JunitCase::Outcome::errored:
      return "error";
    case JunitCase::Outcome::skipped:
      return "skipped";
    case JunitCase::Outcome::passed:
      break;
  }
  return "";
}

}  // namespace

std::string junit_xml(const std::vector<JunitSuite>& suites) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  int id = 0;
  for (const auto& suite : suites) {
    int failures = 0, errors = 0, skipped = 0;
    for (const auto& c : suite.cases) {
      failures += c.outcome == JunitCase::Outcome::failed;
      errors += c.outcome == JunitCase::Outcome::errored;
      skipped += c.outcome == JunitCase::Outcome::skipped;
    }
    out += fmt::format(
        "  <testsuite name=\"{}\" package=\"{}\" id=\"{}\" timestamp=\"{}\" hostname=\"{}\" tests=\"{}\" "
        "failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">\n",
        attr(suite.name), attr(suite.package.empty() ? suite.name : suite.package), id++,
        timestamp_text(suite.timestamp), attr(suite.hostname.empty() ? "localhost" : suite.hostname),
        suite.cases.size(), failures, errors, skipped, seconds_text(suite.seconds));
    out += "    <properties>\n";
    for (const auto& [name, value] : suite.properties)
      out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", attr(name), attr(value));
    out += "    </properties>\n";
    for (const auto& c : suite.cases) {
      out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"", attr(c.name), attr(c.classname),
                         seconds_text(c.seconds));
      if (c.outcome == JunitCase::Outcome::passed) {
        out += "/>\n";
        continue;
      }
      const char* element = element_of(c.outcome);
      out += fmt::format(">\n      <{} message=\"{}\"", element, attr(c.message));
      if (c.outcome != JunitCase::Outcome::skipped)
        out += fmt::format(" type=\"{}\"", attr(c.type.empty() ? element : c.type));
      if (c.detail.empty()) {
        out += "/>\n";
      } else {
        out += fmt::format(">{}</{}>\n", text_of(c.detail), element);
      }
      out += "    </testcase>\n";
    }
    out +=
        fmt::format("    <system-out>{}</system-out>\n    <system-err/>\n  </testsuite>\n", text_of(suite.system_out));
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace sessionctl
