// Turns what a person or a script names on the command line (a session id, a full key, a pointer
// key, the escaped or base64 form of either) into sessions read whole, so that inspect and every
// command that acts on named sessions resolve them through the same code. Read-only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "redis/client.h"
#include "session/profile.h"
#include "session/session.h"

namespace sessionctl {

struct LookupOptions {
  // Items of a list, hash, set or zset read per key when its role sets no cap (max_items); the
  // rest are counted, not read, so a key of 1M items costs no more than one of 50.
  std::size_t items = 50;
  // Strings longer than this are not read (their size comes from STRLEN): a 120 MB value would
  // otherwise exceed the connection's reply limit and end the connection.
  long long max_string_bytes = 64LL * 1024 * 1024;
  // Aggregates read up to `items` even where the role sets a lower cap (mask --in-place needs values whole).
  bool whole = false;
};

// A target whose keys exist only where the ACL user may not read.
struct Denial {
  std::string target;
  std::string message;  // the permission error, naming the command and key
};

struct Resolution {
  std::vector<Session> sessions;     // in the order of the targets
  std::vector<std::string> missing;  // targets that name nothing that exists (as given)
  std::vector<Denial> denied;        // targets that could not be read for permissions
  bool complete() const { return missing.empty() && denied.empty(); }
};

class SessionResolver {
 public:
  SessionResolver(redis::Client& client, const ProfileSet& profiles, LookupOptions options = {});

  // Resolves every target (see find()); missing and denied ones are collected, not thrown.
  Resolution resolve(const std::vector<std::string>& targets);

  // The sessions one target names: a full key of some profile's layout (its session), a pointer
  // key (the session it names, or the pointer as an orphan), or an id tried in every profile. A
  // target that names nothing as given is tried in its escaped form (as tables print it,
  // bad\xff) and as b64:BASE64; a key that exists but no profile claims comes back as an unknown
  // session holding that key, with a note. Empty when nothing exists. Throws AuthError when
  // nothing readable was found and some layouts were denied, UsageError for an index key.
  std::vector<Session> find(const std::string& target);

  // Reads one session by profile and id: every key with TYPE, PTTL, size and value (aggregates
  // windowed, see LookupOptions), its index entries, analysed. When the primary key is gone but
  // related keys or an index entry remain, returns them with the `orphan` problem; nullopt when
  // nothing of the session exists.
  std::optional<Session> lookup(const Profile& profile, const std::string& id);

  // Reads a key no profile claims, as an unknown session of one key with a note; nullopt when it
  // does not exist.
  std::optional<Session> lookup_key(const std::string& key);

  // Up to three ids close to `wanted` (containing it, contained in it, or a few edits away), from
  // a SCAN of the selected profiles' primary keys that stops after 200k keys.
  std::vector<std::string> suggestions(const std::string& wanted);

  // Reads every item of an aggregate key from the start, in windows of about `window` items
  // (LRANGE/ZRANGE ranges, HSCAN/SSCAN cursors), calling on_window with each; memory stays at one
  // window. A hash or set that changes while it is read may repeat an item (SCAN's guarantee).
  void stream_items(const KeyInfo& key, const std::function<void(StoredValue& window)>& on_window,
                    std::size_t window = 1000);

 private:
  std::vector<Session> find_as_given(const std::string& target);
  void read_values(std::vector<KeyInfo>& keys, const std::vector<std::size_t>& caps);

  redis::Client& client_;
  const ProfileSet& profiles_;
  LookupOptions options_;
};

// The other spellings a target may be given in: `b64:` followed by base64 of the bytes, or the
// escaped form printable() shows (\\, \n, \r, \t, \xNN). nullopt when it has none or it is malformed.
std::optional<std::string> decode_target(const std::string& target);

// Ranks candidate ids for "did you mean": those containing `wanted` or contained in it first, then
// by edit distance, at most max(2, |wanted|/4) edits; `wanted` itself is never suggested. Returns
// at most `n`, nearest first, ties in byte order.
std::vector<std::string> rank_suggestions(const std::string& wanted, const std::vector<std::string>& candidates,
                                          std::size_t n = 3);

}  // namespace sessionctl
