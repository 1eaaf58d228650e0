#include "scenario/persist.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <mutex>
#include <thread>

#include "render/records.h"
#include "scenario/spawn.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/interrupt.h"
#include "util/process.h"

namespace sessionctl::scenario {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kEvidenceShown = 20;  // per check; the message carries the full count

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

long long ms_since(Clock::time_point t0) { return std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count(); }

Check make_check(const std::string& group, const std::string& name) {
  return Check{group, name, "", Verdict::pass, "", {}, 0, nlohmann::json::object()};
}

void sleep_checked(milliseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
    check_interrupted();
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), milliseconds(50)));
  }
}

void add_evidence(Check& c, const std::vector<Mismatch>& found) {
  for (const auto& m : found) {
    if (c.evidence.size() < kEvidenceShown) c.evidence.push_back(m);
  }
}

// ----- app-restart -----

// The btrix booking flow of seed 000: each step a SET … EX 3600 of the whole state, the TTL refreshed on read.
std::string btrix_state(const std::string& step, const nlohmann::json& data) {
  return nlohmann::json{{"current", step},
                        {"data", data},
                        {"updatedAt", rfc3339(unix_now()).value_or("")},
                        {"sessionctl_canary", "persist-test"}}
      .dump();
}

Check btrix_flow(const CanaryGuard::Connect& connect, CanaryGuard& guard, const Profile& profile,
                 const PersistOptions& o) {
  Check c = make_check("app-restart", profile.name);
  const auto t0 = Clock::now();
  Canary canary = make_canary(profile, "persist");
  guard.add(canary);
  const std::string key = canary.keys.front().key;
  const std::string ttl_s = std::to_string(profile.default_ttl.value_or(std::chrono::hours(1)).count() / 1000);
  nlohmann::json data = nlohmann::json::object();
  {
    // The first app instance: WELCOME → MENU → BOOK_NAME → BOOK_EMAIL, then it goes away.
    auto first = connect();
    for (const char* step : {"WELCOME", "MENU", "BOOK_NAME", "BOOK_EMAIL"}) {
      if (std::string(step) == "BOOK_EMAIL") data["name"] = "Canary Test";
      const redis::Reply r = first->run1({"SET", key, btrix_state(step, data), "EX", ttl_s});
      if (r.is_error()) {
        c.verdict = Verdict::fail;
        c.message = "the first client's write was refused: " + r.str;
        c.evidence.push_back({key, "the write accepted", r.str});
        return c;
      }
    }
  }
  // A fresh instance, no memory of the first: it must find BOOK_EMAIL and go on to BOOK_PHONE.
  auto second = connect();
  const auto replies = second->run({{"GET", key}, {"EXPIRE", key, ttl_s}});
  const nlohmann::json got = nlohmann::json::parse(replies.at(0).str, nullptr, false);
  const std::string current = got.is_object() && got.contains("current") && got["current"].is_string()
                                  ? got["current"].get<std::string>()
                                  : (replies.at(0).is_nil() ? "missing" : replies.at(0).str);
  if (current != "BOOK_EMAIL" || !got.is_object() || got.value("data", nlohmann::json()) != data) {
    c.verdict = Verdict::fail;
    c.message = "the fresh client did not find the session where the first left it";
    c.evidence.push_back({key, "current BOOK_EMAIL with data.name", current});
    c.seconds = since(t0);
    return c;
  }
  data["email"] = "canary@example.invalid";
  second->run1({"SET", key, btrix_state("BOOK_PHONE", data), "EX", ttl_s});
  second.reset();
  auto third = connect();
  const auto check = third->run({{"GET", key}, {"PTTL", key}});
  const nlohmann::json last = nlohmann::json::parse(check.at(0).str, nullptr, false);
  const long long ttl_ms = std::stoll(ttl_s) * 1000;
  const long long left = check.at(1).integer;
  if (!last.is_object() || last.value("current", "") != "BOOK_PHONE") {
    c.verdict = Verdict::fail;
    c.message = "the step the second client wrote was not kept";
    c.evidence.push_back({key, "current BOOK_PHONE", check.at(0).is_nil() ? "missing" : check.at(0).str});
  } else if (left <= 0 || left > ttl_ms || left < ttl_ms - o.tolerance.count() - ms_since(t0)) {
    c.verdict = Verdict::fail;
    c.message = "the TTL is outside the window the app sets";
    c.evidence.push_back({key, fmt::format("a TTL close to {} ms", ttl_ms), fmt::format("{} ms", left)});
  } else {
    c.message = "WELCOME → MENU → BOOK_NAME → BOOK_EMAIL, then a fresh client went on to BOOK_PHONE; TTL refreshed";
  }
  const auto left_keys = remove_canary(*third, canary);
  if (left_keys.empty()) guard.removed(canary.id);
  c.seconds = since(t0);
  return c;
}

// Where a vote goes: the first proposal's votes, as the telegram bot's addVote(session, proposal, user) records
// it, or the session's own votes when it has no proposal.
nlohmann::json& vote_box(nlohmann::json& session) {
  if (session.contains("proposals") && session["proposals"].is_array() && !session["proposals"].empty() &&
      session["proposals"][0].is_object()) {
    nlohmann::json& votes = session["proposals"][0]["votes"];
    if (!votes.is_object()) votes = nlohmann::json::object();
    return votes;
  }
  nlohmann::json& votes = session["votes"];
  if (!votes.is_object()) votes = nlohmann::json::object();
  return votes;
}

long long vote_count(const std::string& value) {
  nlohmann::json v = nlohmann::json::parse(value, nullptr, false);
  return v.is_object() ? static_cast<long long>(vote_box(v).size()) : 0;
}

// Any other profile: a session written by one client, then read back and carried on by a fresh one.
Check continue_session(const CanaryGuard::Connect& connect, CanaryGuard& guard, const Profile& profile,
                       const PersistOptions& o) {
  Check c = make_check("app-restart", profile.name);
  const auto t0 = Clock::now();
  Canary canary = make_canary(profile, "persist");
  guard.add(canary);
  {
    auto first = connect();
    const std::string refused = write_canary(*first, canary);
    if (!refused.empty()) {
      c.verdict = Verdict::fail;
      c.message = "the first client's write was refused: " + refused;
      c.evidence.push_back({canary.keys.front().key, "the write accepted", refused});
      return c;
    }
  }
  auto second = connect();
  const milliseconds floor = canary.keys.front().ttl - o.tolerance - milliseconds(ms_since(t0));
  const auto found = check_canary(*second, canary, floor);
  if (!found.empty()) {
    c.verdict = Verdict::fail;
    c.message =
        fmt::format("a fresh client found the session changed ({} of {} keys)", found.size(), canary.keys.size());
    add_evidence(c, found);
  } else {
    // It carries on as the app would, and the next client must see it: the session value rewritten (string)
    // or a field set (hash), an exchange appended to a list and trimmed to its cap (trt's history, newest
    // 50), and the index score moved to now.
    std::vector<redis::Command> step;
    for (auto& k : canary.keys) {
      const std::string px = std::to_string(k.ttl.count());
      if (&k == &canary.keys.front() && k.type == ValueType::string) {
        nlohmann::json v = nlohmann::json::parse(k.items.at(0), nullptr, false);
        if (v.is_object()) {
          v["sessionctl_step"] = 2;
          // A voting session (telegram) goes on with a vote on its proposal.
          if (v.contains("proposals")) vote_box(v)["@sessionctl_step2"] = {{"vote", "no"}, {"amount", 0}};
          k.items.at(0) = v.dump();
        } else {
          k.items.at(0) += " step 2";
        }
        step.push_back({"SET", k.key, k.items.at(0), "PX", px});
      } else if (&k == &canary.keys.front() && k.type == ValueType::hash) {
        k.items.insert(k.items.end(), {"sessionctl_step", "2"});
        step.push_back({"HSET", k.key, "sessionctl_step", "2"});
        step.push_back({"PEXPIRE", k.key, px});
      } else if (k.type == ValueType::list) {
        const std::string item =
            nlohmann::json{{"sessionctl_step", 2}, {"timestamp", rfc3339(unix_now()).value_or("")}}.dump();
        k.items.push_back(item);
        step.push_back({"RPUSH", k.key, item});
        for (const auto& [role, key] : profile.keys_for(canary.id)) {
          if (key == k.key && role->max_items) {
            step.push_back({"LTRIM", k.key, std::to_string(-static_cast<long long>(*role->max_items)), "-1"});
          }
        }
        step.push_back({"PEXPIRE", k.key, px});
      } else if (k.shared_index && k.type == ValueType::zset) {
        k.items.at(1) = std::to_string(static_cast<long long>(unix_now()) + 1);
        step.push_back({"ZADD", k.key, k.items.at(1), k.items.at(0)});
      }
    }
    second->run(step);
    second.reset();
    auto third = connect();
    const auto after = check_canary(*third, canary);
    if (!after.empty()) {
      c.verdict = Verdict::fail;
      c.message = "the next client did not see the step the fresh client wrote";
      add_evidence(c, after);
    } else {
      c.message = fmt::format("written by one client, read back and carried on by a fresh one ({})",
                              count_of(static_cast<long long>(canary.keys.size()), "key"));
    }
  }
  auto last = connect();
  if (remove_canary(*last, canary).empty()) guard.removed(canary.id);
  c.seconds = since(t0);
  return c;
}

// ----- redis-restart -----

// The skip of a scenario that restarts Redis when no way to restart it was given.
Check needs_restart(const std::string& group) {
  Check c = make_check(group, "");
  c.verdict = Verdict::skip;
  c.message = "needs --restart-cmd CMD, or --spawn for a redis-server of the runner's own";
  return c;
}

void redis_restart(CheckRun& run, const CanaryGuard::Connect& connect, const Restart& restart,
                   const ProfileSet& profiles, const PersistOptions& o, CanaryGuard& guard) {
  if (!restart) {
    run.checks.push_back(needs_restart("redis-restart"));
    return;
  }
  std::vector<Canary> canaries;
  const int per_profile = std::max(1, o.sessions / std::max<int>(1, static_cast<int>(profiles.all().size())));
  {
    auto client = connect();
    for (const auto& p : profiles.all()) {
      for (int i = 0; i < per_profile; ++i) {
        canaries.push_back(make_canary(p, "persist"));
        guard.add(canaries.back());
      }
    }
    for (const auto& c : canaries) {
      const std::string refused = write_canary(*client, c);
      if (!refused.empty()) {
        Check fail = make_check("redis-restart", c.profile->name);
        fail.verdict = Verdict::fail;
        fail.message = "the canary's write was refused: " + refused;
        run.checks.push_back(fail);
        return;
      }
    }
  }
  const auto written = Clock::now();
  sleep_checked(o.settle);  // appendfsync everysec: what an app wrote a second ago is on disk
  Check restarted = make_check("redis-restart", "restart");
  const auto restart_start = Clock::now();
  const milliseconds down = restart({});
  restarted.seconds = since(restart_start);
  restarted.message = fmt::format("{}: Redis back after {} ms", o.restart_how, down.count());
  restarted.data = {{"downtime_ms", down.count()}};
  run.checks.push_back(restarted);

  auto client = connect();
  for (const auto& p : profiles.all()) {
    Check c = make_check("redis-restart", p.name);
    const auto tc = Clock::now();
    int lost = 0, total = 0;
    for (const auto& canary : canaries) {
      if (canary.profile != &p) continue;
      ++total;
      // TTLs only shrink: remaining ≤ before, and ≥ before − time since the write − tolerance.
      const milliseconds floor = canary.keys.front().ttl - milliseconds(ms_since(written)) - o.tolerance;
      const auto found = check_canary(*client, canary, floor);
      if (!found.empty()) ++lost;
      add_evidence(c, found);
    }
    c.data = {{"sessions", total}, {"lost", lost}};
    if (lost > 0) {
      c.verdict = Verdict::fail;
      c.message = fmt::format("{} of {} sessions lost or changed across the restart", lost, total);
    } else {
      c.message = fmt::format("all {} sessions kept, values byte-identical, TTLs neither lost nor reset", total);
    }
    c.seconds = since(tc);
    run.checks.push_back(std::move(c));
  }
  for (const auto& canary : canaries) {
    if (remove_canary(*client, canary).empty()) guard.removed(canary.id);
  }
}

// ----- multi-instance -----

// One connection per app instance, each its own client as separate processes would have.
std::vector<std::unique_ptr<redis::Client>> app_instances(const CanaryGuard::Connect& connect, int n) {
  std::vector<std::unique_ptr<redis::Client>> apps;
  apps.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) apps.push_back(connect());
  return apps;
}

// App instances taking turns on one session (seed 000 test 2): each turn read by one client and written
// back by it, the next turn by the next client; the session must end with every turn, in order.
Check take_turns(const CanaryGuard::Connect& connect, CanaryGuard& guard, const Profile& profile,
                 const PersistOptions& o) {
  Check c = make_check("multi-instance", profile.name);
  const auto t0 = Clock::now();
  Canary canary = make_canary(profile, "persist");
  guard.add(canary);
  const auto apps = app_instances(connect, o.clients);
  const std::string refused = write_canary(*apps.front(), canary);
  if (!refused.empty()) {
    c.verdict = Verdict::fail;
    c.message = "the canary's write was refused: " + refused;
    return c;
  }
  const CanaryKey& primary = canary.keys.front();
  const std::string px = std::to_string(primary.ttl.count());
  for (int turn = 0; turn < o.rounds; ++turn) {
    redis::Client& app = *apps[static_cast<std::size_t>(turn % o.clients)];
    if (primary.type == ValueType::string) {
      nlohmann::json v = nlohmann::json::parse(app.run1({"GET", primary.key}).str, nullptr, false);
      if (!v.is_object()) v = nlohmann::json::object();
      v["sessionctl_turns"].push_back(turn);
      app.run1({"SET", primary.key, v.dump(), "PX", px});
    } else if (primary.type == ValueType::hash) {
      const redis::Reply turns = app.run1({"HGET", primary.key, "sessionctl_turns"});
      const std::string next = (turns.is_nil() ? "" : turns.str + ",") + std::to_string(turn);
      app.run1({"HSET", primary.key, "sessionctl_turns", next});
    }
  }
  auto reader = connect();
  std::string got, want;
  for (int turn = 0; turn < o.rounds; ++turn) want += (want.empty() ? "" : ",") + std::to_string(turn);
  if (primary.type == ValueType::string) {
    const nlohmann::json v = nlohmann::json::parse(reader->run1({"GET", primary.key}).str, nullptr, false);
    if (v.is_object() && v.contains("sessionctl_turns")) {
      for (const auto& t : v["sessionctl_turns"]) got += (got.empty() ? "" : ",") + t.dump();
    }
  } else {
    const redis::Reply r = reader->run1({"HGET", primary.key, "sessionctl_turns"});
    got = r.is_nil() ? "" : r.str;
  }
  if (primary.type != ValueType::string && primary.type != ValueType::hash) {
    c.verdict = Verdict::skip;
    c.message = "turns are taken on string and hash sessions";
  } else if (got != want) {
    c.verdict = Verdict::fail;
    c.message = "the clients did not see one consistent conversation";
    c.evidence.push_back(
        {primary.key, "turns " + want.substr(0, 60) + "…", got.empty() ? "none" : got.substr(0, 60) + "…"});
  } else {
    c.message = fmt::format("{} turns by {} clients in turn, one consistent conversation", o.rounds, o.clients);
  }
  if (remove_canary(*reader, canary).empty()) guard.removed(canary.id);
  c.seconds = since(t0);
  return c;
}

// Concurrent read-modify-write without a lock, as an app written that way does it: `instances` threads, each
// with its own connection, each making `rounds` updates (read, change, write back). What the last read lacks
// was lost. Informational: the store is not at fault, the app's pattern is.
Check lost_updates(const CanaryGuard::Connect& connect, CanaryGuard& guard, const Profile& profile,
                   const PersistOptions& o) {
  const bool json_votes = profile.primary.type == ValueType::string && profile.primary.encoding == Encoding::json;
  Check c = make_check("multi-instance", profile.name + (json_votes ? " vote" : " exchange count"));
  const auto t0 = Clock::now();
  Canary canary = make_canary(profile, "persist");
  guard.add(canary);
  const auto apps = app_instances(connect, o.clients);
  const std::string refused = write_canary(*apps.front(), canary);
  if (!refused.empty()) {
    c.verdict = Verdict::fail;
    c.message = "the canary's write was refused: " + refused;
    return c;
  }
  const CanaryKey& primary = canary.keys.front();
  const std::string px = std::to_string(primary.ttl.count());
  std::mutex error_lock;
  std::string error;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(o.clients));
  for (int i = 0; i < o.clients; ++i) {
    threads.emplace_back([&, i] {
      try {
        redis::Client& app = *apps[static_cast<std::size_t>(i)];
        for (int n = 0; n < o.rounds; ++n) {
          if (json_votes) {
            // The telegram vote: the whole session read, one vote added, the whole session written back.
            nlohmann::json v = nlohmann::json::parse(app.run1({"GET", primary.key}).str, nullptr, false);
            if (!v.is_object()) v = nlohmann::json::object();
            vote_box(v)[fmt::format("@voter{}_{}", i, n)] = {{"vote", "yes"}, {"amount", 0}};
            app.run1({"SET", primary.key, v.dump(), "PX", px});
          } else {
            // The trt exchange: the count read, one added, written back.
            const redis::Reply r = app.run1({"HGET", primary.key, "exchange_count"});
            const long long count = r.is_nil() ? 0 : std::atoll(r.str.c_str());
            app.run1({"HSET", primary.key, "exchange_count", std::to_string(count + 1)});
          }
        }
      } catch (const std::exception& e) {
        const std::lock_guard<std::mutex> lock(error_lock);
        error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!error.empty()) throw ConnectionError(error);
  auto reader = connect();
  long long kept = 0;
  if (json_votes) {
    // The canary's own votes (its proposal's first) are not among the updates.
    kept = vote_count(reader->run1({"GET", primary.key}).str) - vote_count(primary.items.at(0));
  } else {
    const redis::Reply r = reader->run1({"HGET", primary.key, "exchange_count"});
    kept = r.is_nil() ? 0 : std::atoll(r.str.c_str());
  }
  const long long made = static_cast<long long>(o.clients) * o.rounds;
  const double rate = made == 0 ? 0 : 100.0 * static_cast<double>(made - kept) / static_cast<double>(made);
  c.verdict = Verdict::info;
  c.data = {{"informational", true}, {"updates", made}, {"kept", kept}, {"lost", made - kept}, {"lost_percent", rate}};
  c.message = fmt::format(
      "informational: {} instances without a lock lost {} of {} updates ({:.1f} %); WATCH/MULTI or a script would lose "
      "none",
      o.clients, made - kept, made, rate);
  if (remove_canary(*reader, canary).empty()) guard.removed(canary.id);
  c.seconds = since(t0);
  return c;
}

// ----- redis-unavailable -----

void redis_unavailable(CheckRun& run, const CanaryGuard::Connect& connect, const Restart& restart,
                       const ProfileSet& profiles, const PersistOptions& o, CanaryGuard& guard) {
  if (!restart) {
    run.checks.push_back(needs_restart("redis-unavailable"));
    return;
  }
  std::vector<Canary> canaries;
  {
    auto client = connect();
    for (const auto& p : profiles.all()) {
      canaries.push_back(make_canary(p, "persist"));
      guard.add(canaries.back());
      const std::string refused = write_canary(*client, canaries.back());
      if (!refused.empty()) {
        Check fail = make_check("redis-unavailable", p.name);
        fail.verdict = Verdict::fail;
        fail.message = "the canary's write was refused: " + refused;
        run.checks.push_back(fail);
        return;
      }
    }
  }
  const auto written = Clock::now();
  sleep_checked(o.settle);
  // While Redis is down an app's operation must fail, fast and clearly: a connection error (exit 3), not a hang.
  Check down = make_check("redis-unavailable", "fail fast");
  int attempts = 0, failures = 0;
  double slowest = 0;          // the slowest failure: what "fail fast" is about
  double slowest_success = 0;  // an operation that rode out the restart (a cluster waiting for cluster_state:ok)
  std::string example, wrong;
  const std::string probe_key = canaries.front().keys.front().key;
  const auto probe = [&] {
    ++attempts;
    const auto t = Clock::now();
    try {
      auto client = connect();
      client->run1({"GET", probe_key});
      slowest_success = std::max(slowest_success, since(t));
    } catch (const Error& e) {
      ++failures;
      if (example.empty()) example = e.what();
      if (e.code() != ExitCode::connect) wrong = fmt::format("exit {}: {}", static_cast<int>(e.code()), e.what());
      slowest = std::max(slowest, since(t));
    }
  };
  const auto t_down = Clock::now();
  restart([&] {
    // A spawned server is down now and stays down until this returns: a few attempts; a restart command
    // calls this again and again while it runs.
    for (int i = 0; i < 3; ++i) probe();
  });
  down.seconds = since(t_down);
  down.data = {{"attempts", attempts},
               {"failed", failures},
               {"slowest_ms", std::llround(slowest * 1000)},
               {"slowest_success_ms", std::llround(slowest_success * 1000)}};
  if (failures == 0) {
    down.verdict = Verdict::skip;
    down.message = fmt::format("Redis was never seen down during the restart ({} attempts)", attempts);
  } else if (slowest * 1000 > static_cast<double>(o.op_bound.count())) {
    down.verdict = Verdict::fail;
    down.message = fmt::format("an operation took {} ms to fail while Redis was down (bound {} ms)",
                               std::llround(slowest * 1000), o.op_bound.count());
  } else if (!wrong.empty()) {
    down.verdict = Verdict::fail;
    down.message = "an operation failed with something other than a connection error: " + wrong;
  } else {
    down.message = fmt::format("{} of {} operations failed while Redis was down, the slowest in {} ms, as: {}",
                               failures, attempts, std::llround(slowest * 1000), example);
  }
  run.checks.push_back(down);

  // Back: everything stored before intact, and work resumes on a new connection.
  auto client = connect();
  for (const auto& canary : canaries) {
    Check back = make_check("redis-unavailable", canary.profile->name);
    const milliseconds floor = canary.keys.front().ttl - milliseconds(ms_since(written)) - o.tolerance;
    const auto found = check_canary(*client, canary, floor);
    if (!found.empty()) {
      back.verdict = Verdict::fail;
      back.message = "what was stored before the outage is not intact";
      add_evidence(back, found);
    } else {
      Canary next = make_canary(*canary.profile, "persist");
      guard.add(next);
      const std::string refused = write_canary(*client, next);
      if (!refused.empty() || !check_canary(*client, next).empty()) {
        back.verdict = Verdict::fail;
        back.message = "work did not resume after the outage: " + refused;
      } else {
        back.message = "intact after the outage, and a new session written on a new connection";
      }
      if (remove_canary(*client, next).empty()) guard.removed(next.id);
    }
    run.checks.push_back(back);
    if (remove_canary(*client, canary).empty()) guard.removed(canary.id);
  }
}

// ----- ttl -----

void ttl_scenario(CheckRun& run, const CanaryGuard::Connect& connect, const ProfileSet& profiles,
                  const PersistOptions& o, CanaryGuard& guard) {
  auto client = connect();
  std::vector<std::pair<Canary, Check>> expiring;
  for (const auto& p : profiles.all()) {
    // As the seed says: the app's TTL on the keys it sets one on, none where it sets none.
    const auto t0 = Clock::now();
    Check set = make_check("ttl", p.name);
    Canary canary = make_canary(p, "persist");
    use_app_ttls(canary);
    guard.add(canary);
    const std::string refused = write_canary(*client, canary);
    const auto found = refused.empty()
                           ? check_canary(*client, canary, canary.keys.front().ttl - o.tolerance)
                           : std::vector<Mismatch>{{canary.keys.front().key, "the write accepted", refused}};
    if (!found.empty()) {
      set.verdict = Verdict::fail;
      set.message = "the TTL is not what the seed says";
      add_evidence(set, found);
    } else {
      set.message = fmt::format("TTL {} s as the seed says", canary.keys.front().ttl.count() / 1000);
    }
    set.seconds = since(t0);
    run.checks.push_back(set);

    // Extension (seed 002's extend endpoint): a longer TTL on every key that has one.
    if (refused.empty()) {
      Check extend = make_check("ttl", p.name + " extend");
      std::vector<redis::Command> extends;
      Canary longer = canary;
      for (auto& k : longer.keys) {
        if (k.shared_index || k.ttl.count() == 0) continue;
        k.ttl += std::chrono::minutes(30);
        extends.push_back({"PEXPIRE", k.key, std::to_string(k.ttl.count())});
      }
      client->run(extends);
      const auto after = check_canary(*client, longer, longer.keys.front().ttl - o.tolerance);
      if (!after.empty()) {
        extend.verdict = Verdict::fail;
        extend.message = "the extended TTL did not take";
        add_evidence(extend, after);
      } else {
        extend.message = "extended by 30 min on every key with a TTL";
      }
      run.checks.push_back(extend);
    }
    if (remove_canary(*client, canary).empty()) guard.removed(canary.id);

    // Expiry: a short TTL, then the session must be gone, and what it leaves behind must be found.
    Canary short_lived = make_canary(p, "persist", o.short_ttl);
    use_app_ttls(short_lived);
    guard.add(short_lived);
    if (write_canary(*client, short_lived).empty())
      expiring.emplace_back(short_lived, make_check("ttl", p.name + " expiry"));
  }
  if (expiring.empty()) return;
  sleep_checked(o.short_ttl + milliseconds(200));
  const auto deadline = Clock::now() + milliseconds(3000);
  for (auto& [canary, check] : expiring) {
    std::vector<std::string> expired_keys, left_behind;
    for (const auto& k : canary.keys) {
      const bool expires = !k.shared_index && k.ttl.count() > 0;
      for (;;) {
        const redis::Reply r =
            k.shared_index ? client->run1({"ZSCORE", k.key, k.items.at(0)}) : client->run1({"EXISTS", k.key});
        const bool present = k.shared_index ? !r.is_nil() : r.integer != 0;
        if (!expires) {
          if (present) left_behind.push_back(k.shared_index ? k.key + " member " + canary.id : k.key);
          break;
        }
        if (!present) {
          expired_keys.push_back(k.key);
          break;
        }
        if (Clock::now() > deadline) {
          check.verdict = Verdict::fail;
          check.evidence.push_back({k.key, "expired", "still there after its TTL"});
          break;
        }
        sleep_checked(milliseconds(100));
      }
    }
    if (check.verdict == Verdict::pass) {
      check.message =
          fmt::format("the session expired ({} gone)", count_of(static_cast<long long>(expired_keys.size()), "key"));
      if (!left_behind.empty()) {
        std::string list;
        for (const auto& l : left_behind) list += (list.empty() ? "" : ", ") + l;
        check.message += "; left behind and found: " + list + " (what `sessionctl cleanup` removes)";
        check.data["left_behind"] = left_behind;
      }
    } else {
      check.message = "the session did not expire";
    }
    run.checks.push_back(check);
    if (remove_canary(*client, canary).empty()) guard.removed(canary.id);
  }
}

}  // namespace

const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names = {"app-restart", "redis-restart", "multi-instance", "redis-unavailable",
                                                 "ttl"};
  return names;
}

void check_scenario_names(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    const auto& known = scenario_names();
    if (std::find(known.begin(), known.end(), n) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      throw UsageError(fmt::format("unknown scenario '{}' (known: {})", n, list));
    }
  }
}

void run_persist(CheckRun& run, const CanaryGuard::Connect& connect, const Restart& restart, const ProfileSet& profiles,
                 const PersistOptions& o, const std::function<void(const std::string&)>& warn) {
  const auto selected = [&](const std::string& name) {
    return o.scenarios.empty() || std::find(o.scenarios.begin(), o.scenarios.end(), name) != o.scenarios.end();
  };
  CanaryGuard guard(connect);
  try {
    if (selected("app-restart")) {
      for (const auto& p : profiles.all()) {
        check_interrupted();
        run.checks.push_back(p.name == "btrix" ? btrix_flow(connect, guard, p, o)
                                               : continue_session(connect, guard, p, o));
      }
    }
    if (selected("redis-restart")) redis_restart(run, connect, restart, profiles, o, guard);
    if (selected("multi-instance")) {
      for (const auto& p : profiles.all()) {
        check_interrupted();
        run.checks.push_back(take_turns(connect, guard, p, o));
      }
      for (const auto& p : profiles.all()) {
        // The seeds' read-modify-write updates: telegram's vote, trt's exchange.
        if (p.name == "telegram" || p.name == "trt") run.checks.push_back(lost_updates(connect, guard, p, o));
      }
    }
    if (selected("redis-unavailable")) redis_unavailable(run, connect, restart, profiles, o, guard);
    if (selected("ttl")) ttl_scenario(run, connect, profiles, o, guard);
    for (const auto& key : guard.remove_all()) warn("a canary key could not be removed (it expires by itself): " + key);
  } catch (const Error& e) {
    // When the store is gone, removing fails the same way, and the one error line says it; a canary carries
    // a TTL, so it expires by itself.
    const bool store_gone = e.code() == ExitCode::connect;
    try {
      for (const auto& key : guard.remove_all())
        warn("a canary key could not be removed (it expires by itself): " + key);
    } catch (const std::exception& cleanup) {
      if (!store_gone)
        warn(fmt::format("the canary sessions could not be removed ({}); they expire by themselves", cleanup.what()));
    }
    throw;
  }
}

Restart restart_by_command(const std::string& command, milliseconds timeout, const CanaryGuard::Connect& connect) {
  return [command, timeout, connect](const std::function<void()>& probe) -> milliseconds {
    const auto t0 = Clock::now();
    std::future<ShellResult> running = std::async(std::launch::async, [&] { return run_shell(command, timeout); });
    while (running.wait_for(milliseconds(probe ? 0 : 50)) != std::future_status::ready) {
      if (probe && !interrupted()) {
        probe();
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
    const ShellResult r = running.get();
    if (r.interrupted) check_interrupted();  // the command was stopped with us: canaries go, exit 130
    if (r.timed_out || r.exit_code != 0) {
      std::string tail = r.output.size() > 300 ? "…" + r.output.substr(r.output.size() - 300) : r.output;
      std::replace(tail.begin(), tail.end(), '\n', ' ');
      throw UsageError(fmt::format(
          "the restart command {} ({}){}", r.timed_out ? "did not finish in time" : "failed",
          r.timed_out ? fmt::format("killed after {} ms", timeout.count()) : fmt::format("exit {}", r.exit_code),
          tail.empty() ? "" : ": " + tail));
    }
    // Back means answering PING with its data loaded: a server still LOADING refuses commands.
    const auto deadline = t0 + timeout;
    std::string last = "no answer";
    for (;;) {
      check_interrupted();
      try {
        auto client = connect();
        const redis::Reply pong = client->run1({"PING"});
        // INFO answers while loading; where the ACL denies it, an answered PING has to do.
        const redis::Reply info = pong.is_error() ? pong : client->run1({"INFO", "persistence"});
        const bool loading = !info.is_error() && info.str.find("\nloading:1") != std::string::npos;
        if (!pong.is_error() && !loading) return std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
        last = pong.is_error() ? pong.str : "still loading its data";
      } catch (const Error& e) {
        if (e.code() != ExitCode::connect) throw;
        last = e.what();
      }
      if (Clock::now() > deadline)
        throw TimeoutError(
            fmt::format("Redis did not come back within {} ms of the restart command ({}); "
                        "the canary sessions expire by themselves",
                        timeout.count(), last));
      std::this_thread::sleep_for(milliseconds(100));
    }
  };
}

redis::ConnectionOptions spawned_options(int port) {
  redis::ConnectionOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  return o;
}

nlohmann::json run_spawn_matrix(CheckRun& run, const std::string& redis_server, const ProfileSet& profiles,
                                const PersistOptions& options, const std::function<void(const std::string&)>& warn) {
  struct Row {
    const char* setting;
    std::vector<std::string> config;
  };
  const std::vector<Row> rows = {
      {"none (save '', no AOF)", {"save=", "appendonly=no"}},
      {"RDB only (save 3600 1)", {"save=3600 1", "appendonly=no"}},
      {"AOF everysec", {"appendonly=yes", "appendfsync=everysec", "save="}},
  };
  nlohmann::json table = nlohmann::json::array();
  for (const auto& row : rows) {
    nlohmann::json cells = {{"setting", row.setting}, {"config", row.config}};
    for (const bool crash : {false, true}) {
      SpawnedRedis server(SpawnOptions{redis_server, row.config, std::chrono::seconds(20)});
      const auto options_for = spawned_options(server.port());
      const CanaryGuard::Connect connect = [options_for] { return redis::connect(options_for); };
      PersistOptions cell = options;
      cell.scenarios = {"redis-restart"};
      cell.restart_how = crash ? "spawned, crash (SIGKILL)" : "spawned, graceful (SHUTDOWN)";
      CheckRun part;
      run_persist(
          part, connect, [&](const std::function<void()>& probe) { return server.restart(crash, probe); }, profiles,
          cell, warn);
      long long lost = 0, total = 0;
      const std::string label = fmt::format("{}, {}", row.setting, crash ? "crash" : "graceful");
      for (auto& c : part.checks) {
        if (c.data.contains("lost")) {
          lost += c.data["lost"].get<long long>();
          total += c.data["sessions"].get<long long>();
        }
        c.group = "spawn-matrix";
        c.name = label + (c.name.empty() ? "" : ": " + c.name);
        run.checks.push_back(std::move(c));
      }
      const std::string verdict = lost == 0       ? "all kept"
                                  : lost == total ? "all lost"
                                                  : fmt::format("{} of {} lost", lost, total);
      cells[crash ? "crash" : "graceful"] = verdict;
      cells[crash ? "crash_lost" : "graceful_lost"] = lost;
      cells["sessions"] = total;
    }
    table.push_back(cells);
  }
  return table;
}

nlohmann::json PersistReport::to_json() const {
  nlohmann::json doc = json_document("sessionctl.persist-test", 1);
  doc["ok"] = ok();
  doc["url"] = url;
  doc["target"] = target;
  doc["started"] = rfc3339(run.started).value_or("");
  doc["duration_ms"] = std::llround(run.seconds * 1000);
  doc["summary"] = {{"passed", run.count(Verdict::pass)},
                    {"warned", run.count(Verdict::warn)},
                    {"failed", run.count(Verdict::fail)},
                    {"skipped", run.count(Verdict::skip)},
                    {"informational", run.count(Verdict::info)}};
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : run.checks) checks.push_back(check_to_json(c));
  doc["checks"] = checks;
  doc["matrix"] = matrix;
  return doc;
}

std::string PersistReport::to_table(const Terminal& term) const {
  std::string out = render_checks(run, term, false);
  if (matrix.is_array() && !matrix.empty()) {
    out += "\nsetting                          graceful restart    crash\n";
    for (const auto& row : matrix) {
      out += fmt::format("{:<32} {:<19} {}\n", row.value("setting", ""), row.value("graceful", ""),
                         row.value("crash", ""));
    }
  }
  return out;
}

std::vector<JunitSuite> PersistReport::to_junit(const std::string& hostname) const {
  return scenario::to_junit(run, false, hostname, {{"url", url}, {"target", target}});
}

}  // namespace sessionctl::scenario
