// The command table: name, help, man page text and setup of every subcommand.
#include "registry.h"

namespace sessionctl::cli {

const std::vector<CommandDef>& command_table() {
  static const std::vector<CommandDef> table = {
      {"status",
       {},
       "Is the session store reachable and healthy? Server, persistence, memory, sessions per profile",
       "Connects, then reports the redacted URL, server version, mode and role, persistence (AOF and the RDB "
       "snapshot schedule), memory against maxmemory, the eviction policy and evicted keys, the keys in the "
       "selected db, and the number of sessions of each profile with the TTL its app sets. A user who may not run "
       "CONFIG or INFO still gets everything else, with a note saying what is missing.",
       {"sessionctl status", "sessionctl -u rediss://app@redis.internal:6380/0 --cacert ca.pem status -o json"},
       setup_status},
      {"list",
       {"ls"},
       "List sessions (not keys): id, profile, keys, TTL, size; --wide adds state and idle time",
       "Streams sessions from SCAN (never KEYS) with a large COUNT; TYPE, PTTL and size are fetched in pipelined "
       "batches. Values are read only when --wide, --state, --idle-over or --where need them, or to tell channels "
       "from telegram sessions under session:*. Without --sort the output streams and memory stays flat.",
       {"sessionctl list --profile btrix --ttl-below 5m", "sessionctl list --where data.email=jo@example.com -o jsonl",
        "sessionctl list --wide --state BOOK_EMAIL --sort idle --limit 20"},
       setup_list},
      {"inspect",
       {"show"},
       "Show every key of a session with type, TTL, size and decoded value, PII masked",
       "Takes session ids or full keys (see OUTPUT for the escaped and b64: forms of ids that are not UTF-8). "
       "JSON values are pretty-printed, hashes shown as field tables, lists numbered, sorted sets with scores; "
       "index entries (trt:active_sessions) are shown too. A key that exists but no profile claims is shown as it "
       "is, with a note. Lists, hashes, sets and sorted sets show their first 50 items (or the profile's cap, such "
       "as trt's 50 history entries) and how many more there are; --all-items streams every item with memory "
       "staying flat. A string above 64 MiB is not read: its size is shown with a note. Personal data is masked "
       "unless --reveal. A missing session exits 5 and suggests close matches.",
       {"sessionctl inspect test-session-123", "sessionctl inspect trt:session:user_12345:history -o json"},
       setup_inspect},
      {"stats",
       {},
       "Per-profile figures: counts, TTL and size histograms, states, keys without TTL, orphans, corrupt values",
       "Scans every session (values included) and every index. TTL buckets are those RedisInsight draws: none, <1h, "
       "1-4h, 4-12h, 12-24h, 1-7d, >7d. The average size is per session (seed 000 expects 500-2000 bytes for btrix). "
       "On a terminal histograms are drawn as bars; -o json carries the same figures.",
       {"sessionctl stats", "sessionctl stats --profile trt -o json | jq '.profiles[0].ttl_histogram'"},
       setup_stats},
      {"doctor",
       {},
       "Find everything wrong, each with the command that fixes it; exit 1 when anything is",
       "Checks every session and index: keys without TTL, orphaned index entries and related keys, corrupt JSON, "
       "TTLs longer than the profile allows, openvaa ids that are not UUIDs, oversized sessions, keys of the wrong "
       "type; and the server's configuration: persistence off, an allkeys-* eviction policy (evicts live sessions), "
       "evicted keys above 0, memory above 80% of maxmemory. Findings are grouped by kind and profile with a count, "
       "examples and one fix.",
       {"sessionctl doctor", "sessionctl doctor -o json | jq '.findings[] | .fix'"},
       setup_doctor},
  };
  return table;
}

}  // namespace sessionctl::cli
