// Streams the sessions of a keyspace: SCAN with a large COUNT, keys grouped into sessions by profile,
// metadata (TYPE, PTTL, size) and, when asked, values fetched in one pipelined round trip per batch
// (planned by session/batch_codec.h). Read-only: it never writes and never changes a TTL. Memory is
// bounded by a few SCAN batches: values above a read cap are not read, aggregates are read in windows.
#pragma once

#include <functional>
#include <string>

#include "redis/client.h"
#include "session/detection.h"
#include "session/profile.h"
#include "session/session.h"
#include "session/value_read.h"

namespace sessionctl {

// A profile whose keys the ACL user may not read (NOPERM on a key): its sessions are skipped.
struct DeniedProfile {
  std::string profile;
  std::string pattern;  // the key layout that was denied ("trt:session:{id}:state")
  bool operator==(const DeniedProfile&) const = default;
};

struct ScanCounters {
  long long keys_seen = 0;  // keys SCAN returned that belong to a profile's layout
  long long sessions = 0;
  long long vanished = 0;  // expired or deleted between SCAN and the metadata read
  long long unclassified = 0;
  long long orphans = 0;
  long long too_large = 0;            // values above the read cap, listed with their size only
  std::vector<DeniedProfile> denied;  // in the order first met
};

struct ScanOptions {
  bool fetch_values = false;  // read values (for --wide, state/where/idle filters, stats, doctor)
  std::string id_glob;        // only sessions whose id matches (Redis glob rules)
  std::size_t scan_count = 10000;
  bool find_orphans = false;                          // also report index entries and related keys without a session
  bool expire_times = false;                          // KeyInfo::expire_at_ms from PEXPIRETIME (archives)
  std::function<void(const ScanCounters&)> progress;  // called after each batch, on the caller's thread
};

class SessionScanner {
 public:
  SessionScanner(redis::Client& client, const ProfileSet& profiles, ScanOptions options);

  // Calls on_session for each session (already analysed); stops when it returns false. When
  // find_orphans is set, on_orphan gets every index entry or related key whose session is missing.
  // Reading runs on other threads, a batch ahead, so Redis and the caller work at the same time (the
  // names come from Client::open_scan, the batches run on the client); the callbacks run on the calling
  // thread and must not use the client. Sessions of profiles whose keys are denied are skipped and
  // named in counters().denied.
  void run(const std::function<bool(Session&)>& on_session, const std::function<void(const Orphan&)>& on_orphan = {});

  const ScanCounters& counters() const { return counters_; }
  // The selected profiles whose session keys the ACL user may read (EXISTS of a key in each primary
  // layout, one round trip); the others are recorded in counters().denied.
  std::vector<const Profile*> readable_profiles();
  // The SCAN MATCH glob used: the one layout all selected profiles share, else "*".
  std::string scan_glob() const;

 private:
  struct Batch;
  std::string scan_glob(const std::vector<const Profile*>& profiles) const;
  // I/O half, on the fetch thread: runs the planned pipeline and the rare follow-up round trips.
  void fetch(Batch& batch);
  // CPU half, on the caller's thread: builds sessions from the replies and calls back.
  bool consume(Batch& batch, const std::function<bool(Session&)>& on_session,
               const std::function<void(const Orphan&)>& on_orphan);
  void scan_zset_indexes(const std::vector<const Profile*>& profiles,
                         const std::function<void(const Orphan&)>& on_orphan);
  void note_denied(const std::string& profile, const std::string& pattern);

  redis::Client& client_;
  const ProfileSet& profiles_;
  ScanOptions options_;
  ScanCounters counters_;
};

// The note for a profile skipped because its keys are denied: names the profile and its key pattern.
std::string denied_note(const DeniedProfile& denied);

}  // namespace sessionctl
