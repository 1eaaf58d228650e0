// sessionctl persist-test: the seeds' restart scenarios against the target or a redis-server of our own.
#include "scenario/persist.h"

#include <fmt/format.h>

#include <optional>

#include "archive/io.h"
#include "registry.h"
#include "scenario/spawn.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/errors.h"

namespace sessionctl::cli {
namespace {

struct PersistFlags {
  std::vector<std::string> scenarios;
  bool spawn = false;
  std::vector<std::string> spawn_config;
  bool crash = false;
  bool matrix = false;
  std::string restart_cmd;
  std::string restart_timeout = "60s";
  std::string redis_server;
  std::string junit;
  int sessions = 100;
};

void write_junit(const std::string& path, const std::vector<JunitSuite>& suites) {
  auto out = archive::open_file_output(path, archive::Compression::none);
  out->write(junit_xml(suites));
  out->finish();
}

void run_persist_test(Context& ctx, const PersistFlags& f) {
  scenario::check_scenario_names(f.scenarios);
  if (f.spawn && !f.restart_cmd.empty())
    throw UsageError("--spawn restarts its own server: --restart-cmd is for the target");
  if (f.matrix && (f.spawn || !f.restart_cmd.empty() || f.crash || !f.spawn_config.empty()))
    throw UsageError(
        "--spawn-matrix runs every setting and both restarts itself: drop --spawn, --spawn-config, --crash and "
        "--restart-cmd");
  if (!f.spawn && !f.matrix && (f.crash || !f.spawn_config.empty() || !f.redis_server.empty()))
    throw UsageError("--crash, --spawn-config and --redis-server go with --spawn");
  scenario::PersistOptions options;
  options.scenarios = f.scenarios;
  options.sessions = f.sessions;
  const auto restart_timeout = parse_duration(f.restart_timeout, "--restart-timeout");
  const ProfileSet profiles = ctx.profiles();
  const auto warn = [&](const std::string& m) { ctx.warn(m); };

  scenario::PersistReport report;
  report.run.name = "persist-test";
  report.run.started = unix_now();
  const auto t0 = std::chrono::steady_clock::now();
  if (f.matrix) {
    report.target = "spawned redis-servers, one per setting and restart";
    report.url = "";
    report.matrix = scenario::run_spawn_matrix(report.run, f.redis_server, profiles, options, warn);
  } else if (f.spawn) {
    scenario::SpawnedRedis server(scenario::SpawnOptions{f.redis_server, f.spawn_config, std::chrono::seconds(20)});
    std::string config;
    for (const auto& c : f.spawn_config) config += (config.empty() ? "" : " ") + c;
    report.target = fmt::format("a spawned redis-server{}", config.empty() ? "" : " (" + config + ")");
    report.url = server.url();
    options.restart_how = f.crash ? "spawned, crash (SIGKILL)" : "spawned, graceful (SHUTDOWN)";
    const auto conn = scenario::spawned_options(server.port());
    scenario::run_persist(
        report.run, [conn] { return redis::connect(conn); },
        [&](const std::function<void()>& probe) { return server.restart(f.crash, probe); }, profiles, options, warn);
  } else {
    report.target = "the target";
    report.url = redis::redacted_url(ctx.resolved().options);
    // An operation against a stopped Redis must fail within the connect timeout, and a little more.
    options.op_bound = ctx.resolved().options.connect_timeout + std::chrono::seconds(1);
    const scenario::CanaryGuard::Connect connect = [&ctx] { return ctx.connect(); };
    scenario::Restart restart;
    if (!f.restart_cmd.empty()) {
      options.restart_how = "--restart-cmd";
      restart = scenario::restart_by_command(f.restart_cmd, restart_timeout, connect);
    }
    scenario::run_persist(report.run, connect, restart, profiles, options, warn);
  }
  report.run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!f.junit.empty()) write_junit(f.junit, report.to_junit(scenario::host_name()));
  ctx.emit(report);
  if (!report.ok())
    throw CheckFailed(
        fmt::format("persist-test failed: {}", count_of(report.run.count(scenario::Verdict::fail), "check")));
}

}  // namespace

Runner setup_persist_test(CLI::App& app) {
  auto flags = std::make_shared<PersistFlags>();
  app.add_option("--scenario", flags->scenarios,
                 "app-restart, redis-restart, multi-instance, redis-unavailable or ttl; repeatable (default: all)")
      ->type_name("NAME");
  app.add_flag("--spawn", flags->spawn, "run against a redis-server of our own in a temp dir, restarted by us");
  app.add_option("--spawn-config", flags->spawn_config,
                 "a setting for the spawned server (appendonly=yes, save=); repeatable")
      ->type_name("KEY=VALUE");
  app.add_flag("--crash", flags->crash, "restart the spawned server as a crash (SIGKILL) instead of SHUTDOWN");
  app.add_flag("--spawn-matrix", flags->matrix,
               "every usual persistence setting against a graceful restart and a crash, as one table");
  app.add_option("--restart-cmd", flags->restart_cmd,
                 "the command that restarts the target Redis (run with /bin/sh -c)")
      ->type_name("CMD");
  app.add_option("--restart-timeout", flags->restart_timeout,
                 "how long the restart command and Redis's return may take (default 60s)")
      ->type_name("DURATION");
  app.add_option("--redis-server", flags->redis_server, "the redis-server binary for --spawn (default: from PATH)")
      ->type_name("PATH");
  app.add_option("--sessions", flags->sessions,
                 "redis-restart: canary sessions in all, spread over the profiles (default 100)")
      ->check(whole_number(1, 100000))
      ->type_name("N");
  app.add_option("--junit", flags->junit, "also write the results as JUnit XML (Ant format) to FILE")
      ->type_name("FILE");
  return [flags](Context& ctx) { run_persist_test(ctx, *flags); };
}

}  // namespace sessionctl::cli
