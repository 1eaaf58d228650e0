// Sessions between a live store and an archive (archive/format.h): export (backup), import (restore)
// and verify. Sessions are selected as list does; every key of a session goes out with its exact
// value and its absolute expiry (PEXPIRETIME), big keys in windows. Works through redis::Client, so a
// Redis Cluster is read and written like one server (a session whose keys sit in several slots is
// restored key by key there).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive/io.h"
#include "redis/client.h"
#include "session/filter.h"
#include "session/profile.h"
#include "session/session.h"

namespace sessionctl::transfer {

// Items of a big aggregate per record (a window); a key with more is written as several parts.
inline constexpr std::size_t kWindow = 1000;

// ---- export ----

struct ExportCounts {
  long long sessions = 0, keys = 0, records = 0;
  long long vanished = 0;  // keys gone between SCAN and the read (expired, deleted)
};

// Writes each session it is given into the archive: the scanner's values where they were read whole,
// the rest read in windows through `reader` (a client of its own: the scanner's is busy).
class Exporter {
 public:
  Exporter(redis::Client& reader, const ProfileSet& profiles, archive::ArchiveWriter& out, bool mask);
  // The session must come from a scan with values and expire times (ScanOptions::fetch_values,
  // expire_times). Returns the records written for it.
  long long add(const Session& s);
  const ExportCounts& counts() const { return counts_; }

 private:
  void stream_key(const Session& s, std::size_t i, archive::Record& r);
  void write(archive::Record& r);
  redis::Client& reader_;
  const ProfileSet& profiles_;
  archive::ArchiveWriter& out_;
  bool mask_;
  ExportCounts counts_;
};

// --backup FILE of a destructive command: the sessions named by (profile, id) — or, for a session of
// no profile, by its keys — read now and written to FILE, which is then read back and its checksum
// checked. Throws (with nothing changed yet) when any of that fails.
struct BackupTarget {
  std::string profile, id;
  std::vector<std::string> keys;  // for sessions of no known profile
};
ExportCounts backup_sessions(redis::Client& client, const ProfileSet& profiles,
                             const std::vector<BackupTarget>& targets, const std::string& path,
                             const archive::Header& header);

// The header for an archive of this store and selection.
archive::Header make_header(redis::Client& client, const std::string& redacted_url, bool masked,
                            const nlohmann::json& selection);

// ---- import ----

enum class OnConflict { skip, replace, fail };
std::optional<OnConflict> parse_on_conflict(const std::string& s);

struct ImportOptions {
  OnConflict on_conflict = OnConflict::skip;
  bool dry_run = false;
};

struct ImportCounts {
  long long sessions = 0;  // read from the archive
  long long restored = 0;  // sessions written (or that would be, in a dry run)
  long long skipped = 0;   // a key of theirs exists (--on-conflict skip)
  long long expired = 0;   // every key's expiry had passed: nothing to restore
  long long failed = 0;
  long long keys_restored = 0, keys_expired = 0;
  long long not_atomic = 0;  // sessions written key by key (keys in several cluster slots, or windowed keys)
};

// A session as the archive holds it: its records in order (parts of a big key included).
struct ArchivedSession {
  std::string session, profile;
  std::vector<archive::Record> records;
  std::size_t bytes = 0;
  bool continued = false;  // the rest of a session too big for one group: its first piece is restored
};

// Reads sessions from an archive, one group of adjacent records at a time; a group larger than
// `max_bytes` is handed on in pieces (memory stays bounded), flagged so.
class SessionGroups {
 public:
  explicit SessionGroups(archive::ArchiveReader& reader, std::size_t max_bytes = 16u << 20);
  // The next group; false at the end (after the trailer checked).
  bool next(ArchivedSession& out);

 private:
  archive::ArchiveReader& reader_;
  std::size_t max_bytes_;
  std::optional<archive::Record> pending_;
  std::string last_session_, last_profile_;
  bool started_ = false;
};

class Importer {
 public:
  Importer(redis::Client& client, ImportOptions options);
  // Restores a batch of sessions (whole or not at all where their keys share a slot); `now_ms` decides
  // what has expired. Throws the typed error of a failure that stops everything (connection, OOM …)
  // with how far it got; counts() says what was done before.
  void restore(std::vector<ArchivedSession>& batch, long long now_ms);
  const ImportCounts& counts() const { return counts_; }

 private:
  redis::Client& client_;
  ImportOptions options_;
  ImportCounts counts_;
  std::string skipping_;  // profile + id of a session skipped whose next pieces follow
};

// ---- verify ----

struct Difference {
  std::string session, profile, key;
  std::string kind;    // missing, extra, type, value, expiry
  std::string detail;  // no values: "archived list of 50 items, live of 49", "expires later (…)"
};

struct VerifyCounts {
  long long sessions = 0, keys = 0;
  long long matching_sessions = 0, differing_sessions = 0, missing_sessions = 0, extra_sessions = 0;
};

// Compares archived sessions with the live store, batch by batch.
class Verifier {
 public:
  explicit Verifier(redis::Client& client) : client_(client) {}
  void check(const std::vector<ArchivedSession>& batch, const std::function<void(const Difference&)>& on_difference);
  // The ids (profile + id) seen, for the extra check.
  bool seen(const std::string& profile, const std::string& id) const;
  VerifyCounts& counts() { return counts_; }

 private:
  redis::Client& client_;
  VerifyCounts counts_;
  // Hashes of profile + id, sorted when first asked: 8 bytes a session, for millions of them.
  mutable std::vector<std::uint64_t> seen_;
  mutable bool sorted_ = false;
};

}  // namespace sessionctl::transfer
