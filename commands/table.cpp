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
      {"extend",
       {},
       "Set (--ttl) or add to (--by) the TTL of whole sessions: every key of each",
       "Picks sessions as list does (ids or filters; --all for every session of the selected profiles) and changes "
       "the TTL of each of their keys: TRT's state and history, and meta when it has a TTL. A key without a TTL keeps "
       "none unless --include-persistent. --ttl is PEXPIRE … XX per key, so a key that expired or was deleted "
       "meanwhile is not brought back; --by adds to the TTL the key has at that moment, in one server-side step "
       "(a script), so a TTL the app refreshes meanwhile is added to, never replaced. A TTL above the profile's "
       "max_ttl is refused, with nothing changed, unless --force. On one server the keys of a session change in one "
       "MULTI … EXEC; on a Redis Cluster that holds only for keys in one slot: TRT's keys have no hash tag, so there "
       "each key changes atomically on its own (--dry-run says so per session). --dry-run prints the plan; on a "
       "terminal the command asks once, elsewhere it needs --yes (exit 2 without). The result shows each session's "
       "TTL before and after; exit 1 when some failed.",
       {"sessionctl extend --profile channels --ttl-below 10m --by 1h --yes",
        "sessionctl extend test-session-123 --ttl 2h --dry-run"},
       setup_extend},
      {"delete",
       {"rm"},
       "Delete whole sessions with their index entries (UNLINK)",
       "Picks sessions as list does, --where data.email=… included: this is how one user's sessions are erased on "
       "request, and -o json is the record to file for it. Every key of each session is UNLINKed, its "
       "trt:active_sessions member removed, and Telegram's session:chat:{chat_id} mapping deleted only while it "
       "still points at this session (a compare-and-delete script), not at another. No other key is touched. On one "
       "server a session's keys go in one MULTI … EXEC; on a Redis Cluster, keys in several slots go one by one, "
       "and so do they on a server at maxmemory under noeviction (it refuses whatever is queued in a MULTI, though "
       "UNLINK alone needs no memory). "
       "--dry-run prints the plan; on a terminal the command asks once, elsewhere it needs --yes (exit 2 without). "
       "When the server goes away part way, the error says how many sessions were deleted; run the same command "
       "again to finish.",
       {"sessionctl delete --where data.email=jo@example.com --dry-run",
        "sessionctl delete --profile trt --idle-over 7d --yes -o json > erased.json"},
       setup_delete},
      {"mask",
       {},
       "Show sessions masked, or with --in-place rewrite their stored PII in masked form",
       "Without --in-place it shows the named sessions as inspect does, masked whatever --reveal says, and changes "
       "nothing. With --in-place it picks sessions as list does and rewrites each value the masking engine changes "
       "(the profile's PII rules, field names that are personal data, e-mail addresses, phones and card numbers in "
       "free text) with its masked form: the Redis type, the JSON structure (keys, types, array lengths) and the "
       "TTL stay as they were (SET … KEEPTTL, HSET, LSET), so the app still loads the session. Values already "
       "masked stay as they are: a second run changes nothing. Values the app cannot read either (corrupt JSON, "
       "binary bytes, opaque encodings) are left alone. One script per session checks every value against what "
       "was read and writes all of them or none; when the app wrote meanwhile, the session is read again and "
       "masked as it is now (up to 5 times), so no app write is lost and no deleted session comes back. On a Redis "
       "Cluster, keys in different slots are masked one by one, each atomically. --dry-run lists each key and "
       "where in it a value would be masked; on a terminal the command asks once, elsewhere it needs --yes.",
       {"sessionctl mask test-session-123", "sessionctl mask --in-place --profile telegram --dry-run",
        "sessionctl mask --in-place --where data.email=jo@example.com --yes"},
       setup_mask},
      {"cleanup",
       {},
       "Remove orphans (index entries and related keys without their session), and idle sessions",
       "Removes what doctor reports as orphans: trt:active_sessions members, :history and :meta keys whose "
       "session's primary key is gone, and Telegram session:chat:{chat_id} mappings that point at a missing "
       "session. Each is removed only while the session is still missing: in the same server-side step where the "
       "two keys share a slot, else checked right before (on a Redis Cluster, a session created in that instant is "
       "the one race left); a mapping only while it still names the missing session. --idle-over DURATION also "
       "deletes whole sessions idle for longer, as delete does (seed 004's cleanup_inactive_sessions). --dry-run "
       "prints the plan; on a terminal the command asks once, elsewhere it needs --yes.",
       {"sessionctl cleanup --dry-run", "sessionctl cleanup --profile trt --idle-over 24h --yes"},
       setup_cleanup},
      {"export",
       {"backup"},
       "Write sessions to an archive: every key with its exact value and absolute expiry",
       "Picks sessions as list does (all of the selected profiles when no filter is given) and writes each key of "
       "each session as one JSON line: key, type, value (text when it is UTF-8, else base64 and marked), its "
       "absolute expiry read with PEXPIRETIME (so no clock skews it), and the session and profile it belongs to; a "
       "header says where from and what was selected, and a trailer carries the record count and a SHA-256 over the "
       "records (see docs/archive-format.md). Big hashes, lists, sets and sorted sets are read and written in windows "
       "of 1000 items, so memory stays flat. To a file, the archive is written under a temporary name with mode "
       "0600 and renamed only when complete; *.gz and *.zst are compressed with gzip or zstd. Without --file it goes "
       "to stdout (| age, | gpg). --mask writes the values as mask --in-place would make them: a shareable archive, "
       "marked so in its header. On a Redis Cluster every primary is read.",
       {"sessionctl export --profile btrix --file btrix.jsonl.zst", "sessionctl backup | age -r KEY > s.age",
        "sessionctl export --mask --where data.email=jo@example.com --file case-123.jsonl"},
       setup_export},
      {"import",
       {"restore"},
       "Restore sessions from an archive, each whole or not at all",
       "Checks the header, the version and, before anything is written, the trailer's count and SHA-256 (from stdin "
       "the check comes at the end); an incomplete or damaged archive is refused with exit 2, naming the line, unless "
       "--partial. Each session is restored in one MULTI … EXEC (SET, HSET, RPUSH, SADD, ZADD, then PEXPIREAT); on a "
       "Redis Cluster a session whose keys sit in several slots is restored key by key, and the summary says how "
       "many. A session any key of which exists is skipped (--on-conflict skip, the default), replaced (replace) or "
       "stops the import (fail). Keys whose expiry has passed are not restored and are counted as expired. A masked "
       "archive is refused unless --allow-masked. When the store goes away part way, the summary says what was "
       "restored; running the same import again with --on-conflict skip finishes the job.",
       {"sessionctl import btrix.jsonl.zst --dry-run", "sessionctl -u redis://new:6379 restore backup.jsonl.gz"},
       setup_import},
      {"verify",
       {},
       "Compare an archive with the live store; exit 1 when they differ",
       "Reads the archive (checking it as import does) and looks up every archived key in the store: missing keys, "
       "another type, another value, or an expiry later than the archived one are differences (an earlier expiry is "
       "not: TTLs only shrink). Sessions of the archive's profiles that the store holds and the archive does not are "
       "extra, when the archive's selection was profiles and --match only. Differences are listed as a table or "
       "JSON, ids masked unless --reveal; exit 0 when the store matches, 1 when it does not.",
       {"sessionctl verify backup.jsonl.zst", "sessionctl -u redis://new:6379 verify backup.jsonl.gz -o json"},
       setup_verify},
      {"smoke",
       {},
       "The deploy pipeline's check: connect, canary sessions per profile, config risks; exit 0/1",
       "Runs these checks in order: connect (TLS and auth included) and PING; the server's version and role, and on a "
       "Redis Cluster its cluster_state and slot coverage; for each selected profile a canary session written the way "
       "its app writes it (its own key prefix, value type, TTL and index entries, with a unique id marked as "
       "sessionctl's), read back, compared and removed, on a cluster one canary on every primary; config risks as "
       "doctor sees them; PING latency sampled for --latency-window (p50, p99, max). A failure in connect, server or "
       "canary fails the run, including a write the server refuses (READONLY, NOPERM, OOM): exit 1. A config risk "
       "warns, and fails with --strict; a denied CONFIG (managed services) is a note. A store that cannot be reached "
       "is exit 3. Canaries are removed whatever happens, Ctrl-C and SIGTERM included, and each carries a TTL so that "
       "one the tool could not remove expires by itself. --junit FILE also writes the results as Ant JUnit XML "
       "(one testsuite per group, a testcase per check) for CI test reporters.",
       {"sessionctl smoke", "sessionctl -u rediss://cache.internal:6380 smoke --junit smoke.xml --strict",
        "sessionctl smoke --profile btrix -o json"},
       setup_smoke},
      {"persist-test",
       {},
       "The seeds' restart scenarios: do sessions survive app and Redis restarts? exit 0/1",
       "Acts as each selected profile's app would and checks what the seeds checked by hand. app-restart: a session "
       "written by one client is continued by a fresh connection (btrix: WELCOME, MENU, BOOK_NAME, BOOK_EMAIL, then "
       "BOOK_PHONE from the new client, not back to WELCOME), TTLs within the window. redis-restart: --sessions canary "
       "sessions are written, Redis is restarted by --restart-cmd (or by the runner, with --spawn), and every value "
       "must be byte-identical and every TTL neither lost nor reset (at most what it was, at least that less the time "
       "since the write and 2 s); each loss is listed key by key. The runner waits 1 s after the writes, as much as "
       "appendfsync everysec may lose. multi-instance: 4 clients take turns on one session and it must hold every "
       "turn in order; then 4 instances do read-modify-write without a lock (telegram's vote, trt's exchange count) "
       "and "
       "the lost-update rate is reported, as information (result info), not judged. redis-unavailable: while Redis is "
       "down (the restart command runs, or the spawned server is stopped), every operation must fail within the "
       "connect timeout and 1 s, as a connection error (exit 3), never hang; after it is back the sessions are intact "
       "and a new connection writes. ttl: each profile's TTL as its seed says, extension works, a short-lived "
       "session expires, and what expiry leaves behind (the trt zset member, the :meta hash) is found. --spawn starts "
       "redis-server (from PATH or --redis-server) on a free loopback port in a temp dir with the --spawn-config "
       "settings and restarts it with SHUTDOWN, or SIGKILL with --crash. --spawn-matrix runs redis-restart for no "
       "persistence, RDB only and AOF everysec, each against a graceful restart and a crash, and prints the table: "
       "FAIL where sessions are lost. The runner writes only canary sessions (ids marked as sessionctl's) and removes "
       "them at the end, on success, failure and Ctrl-C. Exit 1 when any check fails; 2 for a restart command that "
       "fails; 3 when Redis does not come back within --restart-timeout.",
       {"sessionctl persist-test --spawn --spawn-config appendonly=yes --crash",
        "sessionctl persist-test --spawn-matrix",
        "sessionctl persist-test --scenario redis-restart --restart-cmd 'systemctl restart redis' --junit persist.xml"},
       setup_persist_test},
      {"profiles",
       {},
       "The profiles sessionctl knows, with their key layouts; --detect finds which a live store holds",
       "Without --detect it needs no server: it lists every profile, built-in and from --profiles-file (which come "
       "first where they share a layout), with where it was defined, its primary, related and index keys, the keys "
       "its layout excludes, the value type and encoding or serialization format, and the TTL its app sets. "
       "--detect samples the selected db (SCAN, at most --sample keys, TYPE and PTTL pipelined; values only under a "
       "layout several profiles share, such as session:*, and a few per unexplained prefix, each read at most 64 KiB) "
       "and reports how many sessions, keys and bookkeeping keys (indexes, lock keys, expiry markers) of each "
       "profile it found, and the key prefixes no profile explains, with their types, how many carry a TTL and "
       "example keys (masked unless --reveal). For those it prints a starter profiles file: one profile per prefix "
       "with the type seen most, an encoding guessed from the values read, and a TTL rounded up from the longest "
       "remaining one; check it against the app before relying on it. Read-only; on a Redis Cluster every primary "
       "is sampled.",
       {"sessionctl profiles", "sessionctl profiles --detect --sample 50000",
        "sessionctl profiles --detect -o json | jq .starter > my-profiles.json"},
       setup_profiles},
  };
  return table;
}

}  // namespace sessionctl::cli
