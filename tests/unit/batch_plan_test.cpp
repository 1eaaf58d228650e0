// The scanner's batch plan: for given key names and profiles, which commands a batch sends and where
// each key's replies sit; the follow-up round trips and the decoding of replies. No Redis: the plan is
// a pure function, and replies are built by hand.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "redis/reply.h"
#include "session/batch_codec.h"
#include "session/profile.h"

using namespace sessionctl;
using redis::Command;
using redis::Reply;

namespace {

const ProfileSet& builtin() {
  static const ProfileSet set = ProfileSet::builtin();
  return set;
}

std::vector<const Profile*> only(const std::vector<std::string>& names) {
  std::vector<const Profile*> out;
  for (const auto& n : names) out.push_back(builtin().find(n));
  return out;
}

// Reads the RESP a CommandBuffer holds back into argv vectors.
std::vector<Command> commands_of(const redis::CommandBuffer& buffer) {
  const std::string& r = buffer.resp();
  std::vector<Command> out;
  std::size_t i = 0;
  auto number = [&](char kind) {
    REQUIRE(r[i] == kind);
    std::size_t end = r.find("\r\n", i);
    long n = std::stol(r.substr(i + 1, end - i - 1));
    i = end + 2;
    return static_cast<std::size_t>(n);
  };
  while (i < r.size()) {
    std::size_t argc = number('*');
    Command c;
    for (std::size_t a = 0; a < argc; ++a) {
      std::size_t len = number('$');
      c.push_back(r.substr(i, len));
      i += len + 2;
    }
    out.push_back(std::move(c));
  }
  REQUIRE(out.size() == buffer.size());
  return out;
}

Reply integer(long long n) {
  Reply r;
  r.type = Reply::Type::integer;
  r.integer = n;
  return r;
}
Reply bulk(std::string s) {
  Reply r;
  r.type = Reply::Type::string;
  r.str = std::move(s);
  return r;
}
Reply status(std::string s) {
  Reply r = bulk(std::move(s));
  r.type = Reply::Type::status;
  return r;
}
Reply error(std::string s) {
  Reply r;
  r.type = Reply::Type::error;
  r.str = std::move(s);
  return r;
}
Reply array(std::vector<Reply> elements) {
  Reply r;
  r.type = Reply::Type::array;
  r.elements = std::move(elements);
  return r;
}

constexpr auto none = ReplySlots::none;

PlanOptions with_values() {
  PlanOptions o;
  o.fetch_values = true;
  return o;
}
PlanOptions with_orphans(std::string id_glob = "") {
  PlanOptions o;
  o.find_orphans = true;
  o.id_glob = std::move(id_glob);
  return o;
}

}  // namespace

TEST_CASE("plan: metadata of string sessions is PTTL then STRLEN per key, other names are not planned",
          "[scanner][plan]") {
  auto profiles = only({"btrix"});
  std::vector<std::string> names{"state:a", "cache:x", "state:b"};
  BatchPlan plan = plan_batch(names, profiles, PlanOptions{});
  CHECK(commands_of(plan.commands) ==
        std::vector<Command>{{"PTTL", "state:a"}, {"STRLEN", "state:a"}, {"PTTL", "state:b"}, {"STRLEN", "state:b"}});
  REQUIRE(plan.sessions.size() == 2);
  CHECK(plan.key_names == 2);
  CHECK(plan.sessions[0].id == "a");
  CHECK(plan.sessions[1].id == "b");
  CHECK_FALSE(plan.sessions[0].want_value);
  CHECK_FALSE(plan.sessions[0].shared);
  REQUIRE(plan.keys.size() == 2);
  CHECK(key_name(plan, plan.keys[1]) == "state:b");
  CHECK(plan.keys[1].at.ttl == 2);
  CHECK(plan.keys[1].at.size == 3);
  CHECK(plan.keys[1].at.value == none);
  CHECK(plan.keys[1].at.type == none);
}

TEST_CASE("plan: with values, a string is read (first window) before its PTTL", "[scanner][plan]") {
  auto profiles = only({"btrix"});
  std::vector<std::string> names{"state:a"};
  BatchPlan plan = plan_batch(names, profiles, with_values());
  CHECK(commands_of(plan.commands) ==
        std::vector<Command>{{"GETRANGE", "state:a", "0", std::to_string(kFirstReadBytes - 1)}, {"PTTL", "state:a"}});
  CHECK(plan.keys[0].at.value == 0);
  CHECK(plan.keys[0].at.ttl == 1);
  CHECK(plan.keys[0].at.size == none);
}

TEST_CASE("plan: an aggregate session reads TYPE, PTTL, MEMORY USAGE, its length and a window of each key",
          "[scanner][plan]") {
  auto profiles = only({"trt"});
  // Only the primary key starts a session; related keys and the index are not scanned names of their own.
  std::vector<std::string> names{"trt:session:u1:state", "trt:session:u1:history", "trt:active_sessions"};
  BatchPlan plan = plan_batch(names, profiles, with_values());
  const std::string w = std::to_string(kAggregateWindow), last = std::to_string(kAggregateWindow - 1);
  const std::string s = "trt:session:u1:state", h = "trt:session:u1:history", m = "trt:session:u1:meta";
  CHECK(commands_of(plan.commands) == std::vector<Command>{
                                          {"TYPE", s},
                                          {"PTTL", s},
                                          {"MEMORY", "USAGE", s, "SAMPLES", "0"},
                                          {"HLEN", s},
                                          {"HSCAN", s, "0", "COUNT", w},
                                          {"TYPE", h},
                                          {"PTTL", h},
                                          {"MEMORY", "USAGE", h, "SAMPLES", "0"},
                                          {"LLEN", h},
                                          {"LRANGE", h, "0", last},
                                          {"TYPE", m},
                                          {"PTTL", m},
                                          {"MEMORY", "USAGE", m, "SAMPLES", "0"},
                                          {"HLEN", m},
                                          {"HSCAN", m, "0", "COUNT", w},
                                          {"ZSCORE", "trt:active_sessions", "u1"},
                                      });
  REQUIRE(plan.sessions.size() == 1);
  const PlannedSession& ps = plan.sessions[0];
  CHECK(ps.key_count == 3);
  CHECK(ps.first_score == 15);
  CHECK(ps.score_count == 1);
  const ReplySlots& hist = plan.keys[1].at;
  CHECK(plan.keys[1].role->role == "history");
  CHECK(key_name(plan, plan.keys[1]) == h);
  CHECK(hist.type == 5);
  CHECK(hist.ttl == 6);
  CHECK(hist.size == 7);
  CHECK(hist.length == 8);
  CHECK(hist.value == 9);

  // Without values: metadata only, no length or window.
  BatchPlan meta = plan_batch(names, profiles, PlanOptions{});
  CHECK(meta.commands.size() == 3 * 3 + 1);
  CHECK(meta.keys[2].at.length == none);
  CHECK(meta.keys[2].at.value == none);
}

TEST_CASE("plan: a shared layout reads the value for detection, ids are filtered, orphans are checked",
          "[scanner][plan]") {
  auto profiles = only({"channels", "telegram"});
  std::vector<std::string> names{"session:abc", "session:chat:42", "session:zzz"};
  BatchPlan plan = plan_batch(names, profiles, with_orphans("a*"));
  REQUIRE(plan.sessions.size() == 1);
  const PlannedSession& s = plan.sessions[0];
  CHECK(s.id == "abc");
  CHECK(s.shared);
  CHECK(s.want_value);  // the shape decides the profile, so the value is read without --wide
  CHECK(s.profile_count == 2);
  CHECK(plan.candidates[s.first_profile]->name == "channels");
  CHECK(plan.candidates[s.first_profile + 1]->name == "telegram");
  REQUIRE(plan.pointer_checks.size() == 1);  // session:chat:42 is telegram's pointer index
  const PointerCheck& pc = plan.pointer_checks[0];
  auto cmds = commands_of(plan.commands);
  CHECK(cmds[pc.target_at] == Command{"GET", "session:chat:42"});
  CHECK(cmds[pc.ttl_at] == Command{"PTTL", "session:chat:42"});
  CHECK(plan.key_names == 2);  // session:zzz is left out by the id glob
}

TEST_CASE("plan: related keys of a missing session are checked with EXISTS of the primary key", "[scanner][plan]") {
  auto profiles = only({"trt"});
  std::vector<std::string> names{"trt:session:u9:history"};
  BatchPlan plan = plan_batch(names, profiles, with_orphans());
  CHECK(plan.sessions.empty());
  REQUIRE(plan.related_checks.size() == 1);
  CHECK(commands_of(plan.commands)[plan.related_checks[0].exists_at] == Command{"EXISTS", "trt:session:u9:state"});
}

TEST_CASE("follow-up: a string-role key that is not a string gets TYPE and MEMORY USAGE", "[scanner][plan]") {
  auto profiles = only({"btrix"});
  std::vector<std::string> names{"state:a", "state:h"};
  BatchPlan plan = plan_batch(names, profiles, PlanOptions{});
  std::vector<Reply> replies{integer(-1), integer(12), integer(5000),
                             error("WRONGTYPE Operation against a key holding the wrong kind of value")};
  redis::CommandBuffer more = plan_follow_up(plan, replies);
  CHECK(commands_of(more) == std::vector<Command>{{"TYPE", "state:h"}, {"MEMORY", "USAGE", "state:h", "SAMPLES", "0"}});
  CHECK(plan.keys[1].at.type == 4);
  CHECK(plan.keys[1].at.size == 5);
  replies.push_back(status("hash"));
  replies.push_back(integer(96));
  CHECK(plan_follow_up(plan, replies).empty());

  KeyInfo a = decode_key(plan.keys[0], "state:a", replies, false);
  CHECK(a.type == KeyType::string);
  CHECK(a.size == 12);
  CHECK(a.ttl_ms == -1);
  KeyInfo h = decode_key(plan.keys[1], "state:h", replies, false);
  CHECK(h.type == KeyType::hash);
  CHECK(h.type_name() == "hash");
  CHECK(h.size == 96);
  CHECK(h.ttl_ms == 5000);
}

TEST_CASE("follow-up: a long string is sized first, re-read up to the cap, never read above it",
          "[scanner][plan][big]") {
  auto profiles = only({"btrix"});
  std::vector<std::string> names{"state:small", "state:long", "state:huge"};
  BatchPlan plan = plan_batch(names, profiles, with_values());
  const std::string window(kFirstReadBytes, 'x');
  std::vector<Reply> replies{bulk("{}"), integer(1000), bulk(window), integer(1000), bulk(window), integer(1000)};
  redis::CommandBuffer sizes = plan_follow_up(plan, replies);
  CHECK(commands_of(sizes) == std::vector<Command>{{"STRLEN", "state:long"}, {"STRLEN", "state:huge"}});
  replies.push_back(integer(static_cast<long long>(kFirstReadBytes) * 2));
  replies.push_back(integer(120LL * 1000 * 1000));
  redis::CommandBuffer rest = plan_follow_up(plan, replies);
  CHECK(commands_of(rest) == std::vector<Command>{{"GETRANGE", "state:long", "0", std::to_string(kValueReadCap - 1)}});
  CHECK(plan.keys[2].too_large);
  replies.push_back(bulk(std::string(kFirstReadBytes * 2, 'y')));
  CHECK(plan_follow_up(plan, replies).empty());

  KeyInfo small = decode_key(plan.keys[0], "state:small", replies, true);
  REQUIRE(small.value);
  CHECK(small.value->raw == "{}");
  CHECK(small.size == 2);
  KeyInfo long_one = decode_key(plan.keys[1], "state:long", replies, true);
  REQUIRE(long_one.value);
  CHECK(long_one.value->raw.size() == kFirstReadBytes * 2);
  KeyInfo huge = decode_key(plan.keys[2], "state:huge", replies, true);
  CHECK(huge.exists());
  CHECK_FALSE(huge.value);  // not read, and no truncated value either
  CHECK(huge.size == 120LL * 1000 * 1000);
}

TEST_CASE("decode: a window of a long list keeps its length, a key that expired between reads is gone",
          "[scanner][plan]") {
  auto profiles = only({"trt"});
  std::vector<std::string> names{"trt:session:u1:state"};
  BatchPlan plan = plan_batch(names, profiles, with_values());
  std::vector<Reply> items;
  for (std::size_t i = 0; i < kAggregateWindow; ++i) items.push_back(bulk("{}"));
  std::vector<Reply> replies{status("hash"),
                             integer(1000),
                             integer(200),
                             integer(2),
                             array({bulk("0"), array({bulk("f"), bulk("v")})}),
                             status("list"),
                             integer(1000),
                             integer(9000000),
                             integer(1000000),
                             array(items),
                             status("none"),
                             integer(-2),
                             error("ERR no such key"),
                             integer(0),
                             array({bulk("0"), array({})}),
                             bulk("1763780500")};
  CHECK(plan_follow_up(plan, replies).empty());
  KeyInfo state = decode_key(plan.keys[0], "s", replies, true);
  REQUIRE(state.value);
  CHECK(state.value->type == ValueType::hash);
  CHECK(state.value->fields == std::vector<std::pair<std::string, std::string>>{{"f", "v"}});
  KeyInfo hist = decode_key(plan.keys[1], "h", replies, true);
  REQUIRE(hist.value);
  CHECK(hist.value->items.size() == kAggregateWindow);
  CHECK(hist.value->total == 1000000);
  CHECK(hist.size == 9000000);
  KeyInfo meta = decode_key(plan.keys[2], "m", replies, true);
  CHECK_FALSE(meta.exists());
  CHECK(meta.type_name() == "none");
}

TEST_CASE("replies: a key the ACL user may not read is data, a command it may not run is fatal", "[scanner][plan]") {
  Reply key70 = error("NOPERM this user has no permissions to access one of the keys used as arguments");
  Reply key72 = error("NOPERM No permissions to access a key");
  Reply cmd = error("NOPERM this user has no permissions to run the 'pttl' command");
  CHECK(is_key_denied(key70));
  CHECK(is_key_denied(key72));
  CHECK_FALSE(is_key_denied(cmd));
  std::size_t at = 0;
  CHECK(fatal_error_in({key70, key72, integer(1)}, 0, at).empty());
  CHECK(fatal_error_in({key70, cmd}, 0, at) == "NOPERM");
  CHECK(at == 1);
  CHECK(fatal_error_in({error("WRONGTYPE x"), error("LOADING y")}, 0, at) == "LOADING");
  CHECK(fatal_error_in({error("LOADING y")}, 1, at).empty());
}
