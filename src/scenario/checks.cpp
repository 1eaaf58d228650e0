#include "scenario/checks.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <map>

#include "render/table.h"
#include "render/terminal.h"

namespace sessionctl::scenario {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass:
      return "pass";
    case Verdict::warn:
      return "warn";
    case Verdict::fail:
      return "fail";
    case Verdict::skip:
      return "skip";
    case Verdict::info:
      return "info";
  }
  return "fail";
}

bool CheckRun::failed(bool strict) const { return count(Verdict::fail) > 0 || (strict && count(Verdict::warn) > 0); }

int CheckRun::count(Verdict v) const {
  int n = 0;
  for (const auto& c : checks) n += c.verdict == v;
  return n;
}

nlohmann::json check_to_json(const Check& c) {
  nlohmann::json evidence = nlohmann::json::array();
  for (const auto& e : c.evidence) evidence.push_back({{"key", e.key}, {"expected", e.expected}, {"got", e.got}});
  nlohmann::json j = {{"group", c.group},
                      {"name", c.name},
                      {"target", c.target.empty() ? nlohmann::json() : nlohmann::json(c.target)},
                      {"result", verdict_name(c.verdict)},
                      {"message", c.message},
                      {"duration_ms", std::llround(c.seconds * 1000)},
                      {"evidence", evidence}};
  if (!c.data.empty()) j["data"] = c.data;
  return j;
}

std::string render_checks(const CheckRun& run, const Terminal& term, bool strict) {
  Table table({{"CHECK"}, {"TARGET"}, {"RESULT"}, {"TIME", Align::right}, {"DETAIL"}});
  for (const auto& c : run.checks) {
    Style style = Style::green;
    if (c.verdict == Verdict::fail || (strict && c.verdict == Verdict::warn))
      style = Style::red;
    else if (c.verdict == Verdict::warn)
      style = Style::yellow;
    else if (c.verdict == Verdict::skip)
      style = Style::dim;
    else if (c.verdict == Verdict::info)
      style = Style::cyan;
    table.add({{c.group + (c.name.empty() ? "" : " " + c.name)},
               {c.target.empty() ? "-" : c.target},
               {verdict_name(c.verdict), style},
               {fmt::format("{:.1f} ms", c.seconds * 1000)},
               {printable(c.message)}});
    for (const auto& e : c.evidence) {
      table.add({{""},
                 {""},
                 {""},
                 {""},
                 {printable(fmt::format("{}: expected {}, got {}", e.key, e.expected, e.got)), Style::dim}});
    }
  }
  std::string out = table.render(term);
  const bool failed = run.failed(strict);
  out += term.paint(
      failed ? Style::red : Style::green,
      fmt::format("\n{}: {} passed, {} warned, {} failed in {:.0f} ms\n", failed ? "FAIL" : "PASS",
                  run.count(Verdict::pass), run.count(Verdict::warn), run.count(Verdict::fail), run.seconds * 1000));
  return out;
}

std::vector<JunitSuite> to_junit(const CheckRun& run, bool strict, const std::string& hostname,
                                 const std::vector<std::pair<std::string, std::string>>& properties) {
  std::vector<JunitSuite> suites;
  std::map<std::string, std::size_t> by_group;
  for (const auto& c : run.checks) {
    auto [it, added] = by_group.emplace(c.group, suites.size());
    if (added) {
      JunitSuite s;
      s.name = fmt::format("sessionctl.{}.{}", run.name, c.group);
      s.package = fmt::format("sessionctl.{}", run.name);
      s.timestamp = run.started;
      s.hostname = hostname;
      s.properties = properties;
      suites.push_back(std::move(s));
    }
    JunitSuite& suite = suites[it->second];
    JunitCase jc;
    jc.name = c.name.empty() ? c.group : c.name;
    if (!c.target.empty()) jc.name += " on " + c.target;
    jc.classname = suite.name;
    jc.seconds = c.seconds;
    jc.message = c.message;
    jc.type = c.group;
    for (const auto& e : c.evidence) jc.detail += fmt::format("{}: expected {}, got {}\n", e.key, e.expected, e.got);
    if (c.verdict == Verdict::fail || (strict && c.verdict == Verdict::warn))
      jc.outcome = JunitCase::Outcome::failed;
    else if (c.verdict == Verdict::skip)
      jc.outcome = JunitCase::Outcome::skipped;
    suite.seconds += c.seconds;
    suite.cases.push_back(std::move(jc));
  }
  for (auto& s : suites) {
    int failed = 0;
    for (const auto& c : s.cases) failed += c.outcome == JunitCase::Outcome::failed;
    s.system_out = fmt::format("{} of {} checks failed", failed, s.cases.size());
  }
  return suites;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace sessionctl::scenario
