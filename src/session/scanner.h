// Streams the sessions of a keyspace: SCAN with a large COUNT, keys grouped into sessions by profile,
// metadata (TYPE, PTTL, size) and, when asked, values fetched in one pipelined round trip per batch.
// Read-only: it never writes and never changes a TTL. Memory is bounded by one SCAN batch.
#pragma once

#include <functional>
#include <string>

#include "redis/client.h"
#include "session/profile.h"
#include "session/session.h"

namespace sessionctl {

struct ScanCounters {
  long long keys_seen = 0;  // keys SCAN returned that belong to a profile's layout
  long long sessions = 0;
  long long vanished = 0;  // expired or deleted between SCAN and the metadata read
  long long unclassified = 0;
  long long orphans = 0;
};

struct ScanOptions {
  bool fetch_values = false;  // read values (for --wide, state/where/idle filters, stats, doctor)
  std::string id_glob;        // only sessions whose id matches (Redis glob rules)
  std::size_t scan_count = 10000;
  bool find_orphans = false;                          // also report index entries and related keys without a session
  std::function<void(const ScanCounters&)> progress;  // called after each batch, on the caller's thread
};

class SessionScanner {
 public:
  SessionScanner(redis::Client& client, const ProfileSet& profiles, ScanOptions options);

  // Calls on_session for each session (already analysed); stops when it returns false. When
  // find_orphans is set, on_orphan gets every index entry or related key whose session is missing.
  // Reading runs on a second thread, one batch ahead, so Redis and the caller work at the same time;
  // the callbacks run on the calling thread and must not use the client.
  void run(const std::function<bool(Session&)>& on_session, const std::function<void(const Orphan&)>& on_orphan = {});

  const ScanCounters& counters() const { return counters_; }
  // The SCAN MATCH glob used: the one layout all selected profiles share, else "*".
  std::string scan_glob() const;

 private:
  struct Batch;
  // CPU half, on the planner thread: classifies key names and builds the batch's pipeline.
  void plan(std::vector<std::string>& keys, Batch& batch) const;
  // I/O half, on the fetch thread: runs the planned pipeline and the rare follow-up round trip.
  void fetch(Batch& batch);
  // CPU half, on the caller's thread: builds sessions from the replies and calls back.
  bool consume(Batch& batch, const std::function<bool(Session&)>& on_session,
               const std::function<void(const Orphan&)>& on_orphan);
  void scan_zset_indexes(const std::function<void(const Orphan&)>& on_orphan);

  redis::Client& client_;
  const ProfileSet& profiles_;
  ScanOptions options_;
  ScanCounters counters_;
};

// Whether a known profile (ProfileSet::known(): built-ins and --profiles-file) outside `selected` (left out
// by --profile) claims a value under the same shared layout (session:*) by its shape: then it is that
// store's session, not an unknown one.
bool claimed_by_unselected_profile(const nlohmann::json& doc, const std::vector<const Profile*>& selected,
                                   const std::vector<Profile>& known);

// Appends the commands that read a key's value for its expected type.
void append_value_command(std::vector<redis::Command>& cmds, const std::string& key, const std::string& type);
// Turns a value reply into a StoredValue of the given type; false when the reply is an error (WRONGTYPE).
bool decode_value(const redis::Reply& reply, const std::string& type, StoredValue& out);

}  // namespace sessionctl
