// The scanner's batch codec: which commands a batch of scanned key names needs and where each key's
// replies sit (decided once, at plan time), the rare follow-up round trips, and the decoding of the
// replies into KeyInfo. Pure functions of names, profiles and replies: no I/O, testable without Redis.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "redis/command_buffer.h"
#include "redis/reply.h"
#include "session/profile.h"
#include "session/session.h"

namespace sessionctl {

// String values longer than this are not read (problem `too_large_to_read`; their size comes from
// STRLEN): well below the connection's 100 MB reply limit, and no session store keeps values that big.
inline constexpr std::size_t kValueReadCap = 64u * 1024u * 1024u;
// String values are first read up to this many bytes (GETRANGE); longer ones are sized with STRLEN and
// re-read in a follow-up round trip, so a value of unknown size never reaches the connection unchecked.
inline constexpr std::size_t kFirstReadBytes = 256u * 1024u;
// Lists, hashes, sets and zsets are read as their length plus at most this many elements, so memory
// stays flat whatever their size (history_over_cap needs only the length).
inline constexpr std::size_t kAggregateWindow = 100;

// Where one key's replies sit in the batch's replies; `none` for a reply not asked for. 32 bits: a
// batch holds a few SCAN pages, and a few batches wait in queues, so the plan is kept small.
struct ReplySlots {
  using Slot = std::uint32_t;
  static constexpr Slot none = static_cast<Slot>(-1);
  Slot type = none;    // TYPE (aggregates; strings only after a WRONGTYPE)
  Slot ttl = none;     // PTTL
  Slot size = none;    // STRLEN (strings) or MEMORY USAGE (aggregates)
  Slot length = none;  // LLEN, HLEN, SCARD or ZCARD
  Slot value = none;   // GETRANGE, LRANGE, HSCAN, SSCAN or ZRANGE
  Slot expire = none;  // PEXPIRETIME (archives: the absolute expiry, no client clock involved)
};

// One key of a planned session. Its name is not kept (key_name() builds it): the plan stays small.
struct PlannedKey {
  const KeyRole* role = nullptr;
  std::uint32_t session = 0;  // index in BatchPlan::sessions
  ReplySlots at;
  bool sized = false;      // follow-up: STRLEN asked because the first read filled kFirstReadBytes
  bool too_large = false;  // follow-up: STRLEN above kValueReadCap, so the value is not read
};

struct PlannedSession {
  std::string id;
  std::uint32_t first_profile = 0, profile_count = 0;  // in BatchPlan::candidates; several under a shared layout
  std::uint32_t first_key = 0, key_count = 0;          // in BatchPlan::keys: primary first, then related
  std::uint32_t first_score = 0, score_count = 0;      // ZSCORE replies, one per zset index of the profile
  bool want_value = false;
  bool shared = false;  // the layout is shared (session:*), so the value's shape decides the profile
};

// A related key of a session whose primary key may be gone (doctor's orphans).
struct RelatedCheck {
  const Profile* profile = nullptr;
  std::string key, id;
  std::size_t exists_at = ReplySlots::none;  // EXISTS of the primary key
};

// A pointer index key (session:chat:{chat_id}) whose target may be gone.
struct PointerCheck {
  const Profile* profile = nullptr;
  std::string key;
  std::size_t target_at = ReplySlots::none, ttl_at = ReplySlots::none;  // GET, PTTL of the pointer key
  std::size_t exists_at = ReplySlots::none;                             // follow-up: EXISTS of the target
};

struct BatchPlan {
  std::vector<PlannedSession> sessions;
  std::vector<const Profile*> candidates;
  std::vector<PlannedKey> keys;
  std::vector<RelatedCheck> related_checks;
  std::vector<PointerCheck> pointer_checks;
  redis::CommandBuffer commands;  // the first round trip, in slot order
  std::size_t key_names = 0;      // scanned names that belong to a profile's layout
};

struct PlanOptions {
  bool fetch_values = false;  // read values, not only metadata
  bool find_orphans = false;  // also check related keys and pointer indexes for missing sessions
  std::string id_glob;        // only sessions whose id matches
  bool expire_times = false;  // also read each key's absolute expiry (PEXPIRETIME)
};

// Classifies scanned names by profile (in the order given) and plans the batch's first round trip.
BatchPlan plan_batch(const std::vector<std::string>& names, const std::vector<const Profile*>& profiles,
                     const PlanOptions& options);

// Given the replies so far (first round trip and earlier follow-ups, in order), plans the next follow-up:
// pointer targets, the real type of string-role keys that were not strings, and the size and rest of
// long string values. Records the new slots (past replies.size()) in `plan`; empty when nothing is left.
redis::CommandBuffer plan_follow_up(BatchPlan& plan, const std::vector<redis::Reply>& replies);

// The name of a planned key (the session's id in its role's layout).
std::string key_name(const BatchPlan& plan, const PlannedKey& key);

// Builds a key's KeyInfo, named `name`, from its replies (moving values out of them).
KeyInfo decode_key(const PlannedKey& key, std::string name, std::vector<redis::Reply>& replies, bool want_value);

// The error code of the first reply that no batch may continue past (auth, loading, a command the ACL
// user may not run); empty when every error is per-key data (WRONGTYPE, a key the ACL user may not read).
std::string fatal_error_in(const std::vector<redis::Reply>& replies, std::size_t from, std::size_t& index);

// Whether an error reply is NOPERM for a key (a key pattern the ACL user may not read), not for a command.
bool is_key_denied(const redis::Reply& reply);

}  // namespace sessionctl
