#include "scenario/smoke.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "render/records.h"
#include "report/doctor.h"
#include "report/status.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl::scenario {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string ms_text(double seconds) { return fmt::format("{:.2f} ms", seconds * 1000); }

// The primaries a canary goes to: every reachable cluster primary with slots, or the one server.
struct Target {
  std::string node;  // "" outside a cluster
  std::vector<std::pair<int, int>> slots;
  bool reachable = true;
};

std::vector<Target> canary_targets(const redis::Topology& topo) {
  if (topo.kind != redis::TopologyKind::cluster) return {Target{}};
  std::vector<Target> out;
  for (const auto& n : topo.nodes) {
    if (n.role == "primary" && !n.slots.empty()) out.push_back({n.endpoint, n.slots, n.reachable});
  }
  return out;
}

Check server_check(const StatusReport& status, const redis::Topology& topo) {
  Check c{"server", "version", "", Verdict::pass, "", {}, 0, nlohmann::json::object()};
  if (!status.info_known) {
    c.verdict = Verdict::skip;
    c.message = "INFO is not permitted for this user: version and role unknown";
    return c;
  }
  c.data = {{"version", status.version}, {"role", status.role}};
  if (topo.kind == redis::TopologyKind::cluster) {
    int primaries = 0, replicas = 0;
    for (const auto& n : topo.nodes) (n.role == "primary" ? primaries : replicas)++;
    c.message = fmt::format("Redis {}, a cluster of {} and {}", status.version,
                            count_of(primaries, "primary", "primaries"), count_of(replicas, "replica"));
  } else {
    const std::string role = status.role == "slave" ? "replica" : status.role == "master" ? "primary" : status.role;
    c.message = fmt::format("Redis {}, {}", status.version, role);
    if (topo.kind == redis::TopologyKind::sentinel && topo.sentinel)
      c.message += fmt::format(" (found by Sentinel as {})", topo.sentinel->master_name);
    if (status.role == "slave") {
      c.verdict = Verdict::fail;
      c.message += ": a read-only replica, which the apps cannot write sessions to; point --url at the primary";
    }
  }
  if (status.loading) {
    c.verdict = Verdict::fail;
    c.message += ": still loading its dataset";
  }
  return c;
}

Check cluster_check(const redis::Topology& topo) {
  Check c{"cluster", "state", "", Verdict::pass, "", {}, 0, nlohmann::json::object()};
  std::vector<std::string> unreachable;
  for (const auto& n : topo.nodes) {
    if (!n.reachable) unreachable.push_back(n.endpoint);
  }
  c.data = {{"cluster_state", topo.cluster_state}, {"slots_covered", topo.slots_covered}};
  c.message = fmt::format("cluster_state:{}, {} of 16384 slots covered", topo.cluster_state, topo.slots_covered);
  if (topo.cluster_state != "ok" || topo.slots_covered != 16384) c.verdict = Verdict::fail;
  if (!unreachable.empty()) {
    c.verdict = Verdict::fail;
    std::string list;
    for (const auto& u : unreachable) list += (list.empty() ? "" : ", ") + u;
    c.message += "; unreachable: " + list;
  }
  return c;
}

std::string ttl_text(std::chrono::milliseconds ttl) {
  const long long s = ttl.count() / 1000;
  return s % 3600 == 0 ? fmt::format("{} h", s / 3600) : fmt::format("{} s", s);
}

Check canary_check(redis::Client& client, CanaryGuard& guard, const Profile& profile, const Target& target) {
  Check c{"canary", profile.name, target.node, Verdict::pass, "", {}, 0, nlohmann::json::object()};
  const auto t0 = Clock::now();
  if (!target.reachable) {
    c.verdict = Verdict::fail;
    c.message = "the primary is unreachable";
    return c;
  }
  const Canary canary =
      target.node.empty() ? make_canary(profile, "smoke") : make_canary_on(profile, "smoke", target.slots);
  c.data = {{"id", canary.id}, {"keys", canary.keys.size()}};
  guard.add(canary);
  const std::string refused = write_canary(client, canary);
  check_interrupted();
  if (!refused.empty()) {
    c.verdict = Verdict::fail;
    c.message = "the server refused the canary's write: " + refused;
    c.evidence.push_back({canary.keys.front().key, "the write accepted", refused});
  } else {
    c.evidence = check_canary(client, canary);
    check_interrupted();
    if (!c.evidence.empty()) {
      c.verdict = Verdict::fail;
      c.message = fmt::format("the canary read back differs ({} of {} keys)", c.evidence.size(), canary.keys.size());
    }
  }
  const std::vector<std::string> left = remove_canary(client, canary);
  if (left.empty()) {
    guard.removed(canary.id);
  } else if (refused.empty()) {
    // After a refused write nothing was written, and a refused UNLINK says nothing new.
    c.verdict = Verdict::fail;
    for (const auto& key : left) c.evidence.push_back({key, "removed", "still there"});
    c.message =
        fmt::format("the canary could not be removed ({} left)", count_of(static_cast<long long>(left.size()), "key"));
  }
  if (c.verdict == Verdict::pass) {
    const auto& first = canary.keys.front();
    c.message = fmt::format("{} written, read back and removed (TTL {})",
                            count_of(static_cast<long long>(canary.keys.size()), "key"), ttl_text(first.ttl));
  }
  c.seconds = since(t0);
  return c;
}

std::vector<Check> config_checks(const StatusReport& status) {
  std::vector<Check> out;
  for (const Finding& f : config_findings(status)) {
    // A managed service that blocks CONFIG is a note: nothing else depends on it.
    const Verdict v = f.code == "config_unchecked" ? Verdict::skip : Verdict::warn;
    Check c{"config", f.code, "", v, f.message, {}, 0, nlohmann::json::object()};
    if (!f.fix.empty() && v == Verdict::warn) c.data["fix"] = f.fix;
    out.push_back(std::move(c));
  }
  if (out.empty())
    out.push_back({"config", "risks", "", Verdict::pass, "no config risks", {}, 0, nlohmann::json::object()});
  return out;
}

Check latency_check(redis::Client& client, const SmokeOptions& o) {
  Check c{"latency", "ping", "", Verdict::pass, "", {}, 0, nlohmann::json::object()};
  std::vector<double> samples;
  const auto t0 = Clock::now();
  // At least a few samples, so that a zero window still measures something.
  while (static_cast<int>(samples.size()) < o.latency_samples &&
         (samples.size() < 10 || Clock::now() - t0 < o.latency_window)) {
    check_interrupted();
    const auto t = Clock::now();
    const redis::Reply r = client.run1({"PING"});
    if (r.is_error()) {
      c.verdict = Verdict::fail;
      c.message = "PING failed: " + r.str;
      return c;
    }
    samples.push_back(since(t));
  }
  std::sort(samples.begin(), samples.end());
  c.seconds = since(t0);
  const double p50 = percentile(samples, 50), p99 = percentile(samples, 99), max = samples.empty() ? 0 : samples.back();
  c.data = {{"samples", samples.size()},
            {"p50_us", std::llround(p50 * 1e6)},
            {"p99_us", std::llround(p99 * 1e6)},
            {"max_us", std::llround(max * 1e6)}};
  c.message = fmt::format("{} PINGs: p50 {}, p99 {}, max {}", samples.size(), ms_text(p50), ms_text(p99), ms_text(max));
  return c;
}

}  // namespace

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

SmokeReport run_smoke(const CanaryGuard::Connect& connect, const ProfileSet& profiles, const SmokeOptions& options,
                      const std::function<void(const std::string&)>& warn) {
  SmokeReport r;
  r.strict = options.strict;
  r.url = options.url;
  r.run.name = "smoke";
  r.run.started = unix_now();
  const auto t0 = Clock::now();
  CanaryGuard guard(connect);
  try {
    auto t = Clock::now();
    std::unique_ptr<redis::Client> client = connect();
    const double connect_s = since(t);
    t = Clock::now();
    const redis::Reply pong = client->run1({"PING"});
    const double ping_s = since(t);
    Check ping{"connect", "ping", "", Verdict::pass, "", {}, connect_s + ping_s, nlohmann::json::object()};
    ping.data = {{"connect_us", std::llround(connect_s * 1e6)}, {"ping_us", std::llround(ping_s * 1e6)}};
    const bool tls = client->options().scheme == redis::Scheme::tls;
    if (pong.is_error()) {
      ping.verdict = Verdict::fail;
      ping.message = "PING failed: " + pong.str;
    } else {
      ping.message =
          fmt::format("connected{} in {}, PING {}", tls ? " with TLS" : "", ms_text(connect_s), ms_text(ping_s));
    }
    r.run.checks.push_back(ping);

    t = Clock::now();
    const redis::Topology topo = client->topology();
    const StatusReport status = gather_status(*client, profiles, redis::NoTouch::unsupported, false);
    r.server_version = status.version;
    r.notes = status.notes;
    Check server = server_check(status, topo);
    server.seconds = since(t);
    r.run.checks.push_back(server);
    // A cluster that is down answers CLUSTERDOWN to every write (cluster-require-full-coverage): the
    // cluster check says why, and no canary is tried.
    bool cluster_down = false;
    if (topo.kind == redis::TopologyKind::cluster) {
      r.run.checks.push_back(cluster_check(topo));
      cluster_down = topo.cluster_state != "ok";
    }
    check_interrupted();

    for (const auto& profile : profiles.all()) {
      for (const auto& target : canary_targets(topo)) {
        if (cluster_down) {
          r.run.checks.push_back({"canary",
                                  profile.name,
                                  target.node,
                                  Verdict::fail,
                                  "not tried: the cluster is down (cluster_state:" + topo.cluster_state + ")",
                                  {},
                                  0,
                                  nlohmann::json::object()});
          continue;
        }
        r.run.checks.push_back(canary_check(*client, guard, profile, target));
      }
    }
    for (auto& c : config_checks(status)) r.run.checks.push_back(std::move(c));
    r.run.checks.push_back(latency_check(*client, options));
  } catch (...) {
    // The run's connection may be mid-reply (Ctrl-C, a timeout): the guard removes what is left through a
    // fresh one, and says so when it cannot.
    try {
      for (const auto& key : guard.remove_all())
        warn("a canary key could not be removed (it expires by itself): " + key);
    } catch (const std::exception& e) {
      warn(fmt::format("the canary sessions could not be removed ({}); they expire by themselves", e.what()));
    }
    throw;
  }
  r.run.seconds = since(t0);
  return r;
}

nlohmann::json SmokeReport::to_json() const {
  nlohmann::json doc = json_document("sessionctl.smoke", 1);
  doc["ok"] = ok();
  doc["strict"] = strict;
  doc["url"] = url;
  doc["server_version"] = server_version.empty() ? nlohmann::json() : nlohmann::json(server_version);
  doc["started"] = rfc3339(run.started).value_or("");
  doc["duration_ms"] = std::llround(run.seconds * 1000);
  doc["summary"] = {{"passed", run.count(Verdict::pass)},
                    {"warned", run.count(Verdict::warn)},
                    {"failed", run.count(Verdict::fail)},
                    {"skipped", run.count(Verdict::skip)}};
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : run.checks) checks.push_back(check_to_json(c));
  doc["checks"] = checks;
  doc["notes"] = notes;
  return doc;
}

std::string SmokeReport::to_table(const Terminal& term) const { return render_checks(run, term, strict); }

std::vector<nlohmann::json> SmokeReport::to_json_lines() const {
  std::vector<nlohmann::json> out;
  for (const auto& c : run.checks) out.push_back(check_to_json(c));
  return out;
}

std::vector<JunitSuite> SmokeReport::to_junit(const std::string& hostname) const {
  return scenario::to_junit(run, strict, hostname, {{"url", url}, {"server_version", server_version}});
}

}  // namespace sessionctl::scenario
