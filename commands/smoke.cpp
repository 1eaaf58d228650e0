// sessionctl smoke: the deploy pipeline's check (connect, server, canary sessions, config risks, latency).
#include "scenario/smoke.h"

#include <fmt/format.h>

#include "archive/io.h"
#include "registry.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/errors.h"

namespace sessionctl::cli {
namespace {

struct SmokeFlags {
  std::string junit;
  bool strict = false;
  std::string latency_window = "200ms";
};

// The JUnit file is put in place whole (a temporary name, renamed), so that a CI job never reads half of one.
void write_junit(const std::string& path, const std::vector<JunitSuite>& suites) {
  auto out = archive::open_file_output(path, archive::Compression::none);
  out->write(junit_xml(suites));
  out->finish();
}

// What a CI system should see when the store could not be reached at all: one errored case.
std::vector<JunitSuite> error_suite(const std::string& url, const Error& e) {
  JunitSuite s;
  s.name = "sessionctl.smoke.connect";
  s.package = "sessionctl.smoke";
  s.timestamp = unix_now();
  s.hostname = scenario::host_name();
  s.properties = {{"url", url}};
  JunitCase c;
  c.name = "connect";
  c.classname = s.name;
  c.outcome = JunitCase::Outcome::errored;
  c.message = e.what();
  c.type = fmt::format("exit_{}", static_cast<int>(e.code()));
  s.cases.push_back(c);
  s.system_out = "the store could not be reached";
  return {s};
}

void run_smoke(Context& ctx, const SmokeFlags& f) {
  scenario::SmokeOptions options;
  options.strict = f.strict;
  options.latency_window = parse_duration(f.latency_window, "--latency-window");
  options.url = redis::redacted_url(ctx.resolved().options);
  const ProfileSet profiles = ctx.profiles();
  scenario::SmokeReport report;
  try {
    report = scenario::run_smoke([&] { return ctx.connect(); }, profiles, options,
                                 [&](const std::string& m) { ctx.warn(m); });
  } catch (const Error& e) {
    if (!f.junit.empty() && e.code() != ExitCode::interrupted && e.code() != ExitCode::usage)
      write_junit(f.junit, error_suite(options.url, e));
    throw;
  }
  if (!f.junit.empty()) write_junit(f.junit, report.to_junit(scenario::host_name()));
  for (const auto& n : report.notes) ctx.note("note: " + n);
  ctx.emit(report);
  if (!report.ok()) {
    const int failed =
        report.run.count(scenario::Verdict::fail) + (f.strict ? report.run.count(scenario::Verdict::warn) : 0);
    throw CheckFailed(fmt::format("smoke failed: {}", count_of(failed, "check")));
  }
}

}  // namespace

Runner setup_smoke(CLI::App& app) {
  auto flags = std::make_shared<SmokeFlags>();
  app.add_option("--junit", flags->junit, "also write the results as JUnit XML (Ant format) to FILE")
      ->type_name("FILE");
  app.add_flag("--strict", flags->strict, "a config risk fails the check instead of warning");
  app.add_option("--latency-window", flags->latency_window, "how long PING latency is sampled (default 200ms)")
      ->type_name("DURATION");
  return [flags](Context& ctx) { run_smoke(ctx, *flags); };
}

}  // namespace sessionctl::cli
