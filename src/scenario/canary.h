// Canary sessions: a session of a profile written the way its app writes it (its own key layout, value
// type, TTL and index entries), read back and compared, then removed. Used by `smoke` and `persist-test`.
// Every canary id is unique and marked as sessionctl's (a "sessionctl-" id, or a value field
// "sessionctl_canary" where the profile's ids are UUIDs), and every canary key carries a TTL, even where the
// app sets none, so that a canary the tool could not remove still goes away by itself.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "redis/client.h"
#include "session/profile.h"

namespace sessionctl::scenario {

// One key as the canary wrote it: what a read must give back.
struct CanaryKey {
  std::string key;
  std::string role;  // "state", "history", "meta", or an index role ("active_sessions", "chat")
  ValueType type = ValueType::string;
  std::vector<std::string> items;    // string: one value; hash: field, value…; list: items; set: members;
                                     // zset: member, score…; a shared index (zset of ids): our member, score
  bool shared_index = false;         // a key other sessions use too (trt:active_sessions): only our member is ours
  std::chrono::milliseconds ttl{0};  // what was set; 0 for none (a shared index's TTL is not ours either)
};

struct Canary {
  const Profile* profile = nullptr;
  std::string id;
  std::string node;  // on a cluster, the primary its first key lives on; "" otherwise
  std::vector<CanaryKey> keys;
};

// What a check found wrong with one key.
struct Mismatch {
  std::string key;
  std::string expected;
  std::string got;
};

// An id for `profile` ("sessionctl-<tag>-<hex>", or a UUID where the profile's ids are UUIDs) and the keys
// and values its app would write, with `ttl` (the profile's default when nullopt; 1 h when it has none).
Canary make_canary(const Profile& profile, const std::string& tag, std::optional<std::chrono::milliseconds> ttl = {});

// The canary's keys without a TTL where the app sets none (TRT's :meta), as persist-test's ttl scenario
// needs them to see what expiry leaves behind.
void use_app_ttls(Canary& canary);

// make_canary, with an id whose first key hashes to a slot in `slots` (a cluster primary's ranges).
Canary make_canary_on(const Profile& profile, const std::string& tag, const std::vector<std::pair<int, int>>& slots,
                      std::optional<std::chrono::milliseconds> ttl = {});

// The commands that write the canary as its app would (SET … PX, HSET then PEXPIRE, RPUSH, ZADD, the pointer key).
std::vector<redis::Command> write_commands(const Canary& canary);

// Writes the canary. Returns the first error reply (READONLY, NOPERM, OOM…) as text, or "" when every write
// was accepted.
std::string write_canary(redis::Client& client, const Canary& canary);

// Reads every key back and compares value and TTL: values byte-identical, TTL above 0 and at most what was
// set (and at least `min_ttl_left` of it, when given). Empty when all match.
std::vector<Mismatch> check_canary(redis::Client& client, const Canary& canary,
                                   std::optional<std::chrono::milliseconds> min_ttl_left = {});

// Removes the canary's keys (UNLINK) and its index members (ZREM), then checks that nothing is left.
// Returns what is left, by key; throws only when the connection itself fails.
std::vector<std::string> remove_canary(redis::Client& client, const Canary& canary);

// Canaries written so far, removed at the end of the run whatever happens: on success through the run's
// client; after an error or Ctrl-C (when that client may be mid-reply) through a fresh connection.
class CanaryGuard {
 public:
  using Connect = std::function<std::unique_ptr<redis::Client>()>;
  explicit CanaryGuard(Connect connect) : connect_(std::move(connect)) {}
  ~CanaryGuard();
  CanaryGuard(const CanaryGuard&) = delete;
  CanaryGuard& operator=(const CanaryGuard&) = delete;
  CanaryGuard(CanaryGuard&&) = delete;
  CanaryGuard& operator=(CanaryGuard&&) = delete;

  // Records the canary before its first write, so that a write cut short is removed too.
  void add(const Canary& canary) { canaries_.push_back(canary); }
  // Forgets a canary removed by the run itself.
  void removed(const std::string& id);
  // Removes what is left through a fresh connection; returns the keys it could not remove.
  std::vector<std::string> remove_all();

 private:
  Connect connect_;
  std::vector<Canary> canaries_;
};

}  // namespace sessionctl::scenario
