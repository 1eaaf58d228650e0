// What an error reply means, decided once for every caller: whether the connection, the command or only
// one key's data is affected, and where MOVED and ASK point. Callers never compare error codes themselves.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "redis/reply.h"

namespace sessionctl::redis {

// How far an error reply reaches.
enum class ErrorScope {
  connection,  // nothing more will work on this connection now (auth, loading, busy script, refused)
  command,     // this command failed; the connection is fine (NOPERM, syntax, unknown command, TRYAGAIN)
  data,        // a fact about the key the command touched (WRONGTYPE): record it and go on
  redirect,    // the key is served by another cluster node (MOVED, ASK)
};

// Why, in the terms an exit code and a message need.
enum class ErrorCause {
  auth,         // WRONGPASS, NOAUTH, Redis < 6 "ERR invalid password": exit 4
  permission,   // NOPERM (ACL): exit 4
  loading,      // LOADING: the dataset is still being read from disk; exit 3
  unavailable,  // BUSY, MASTERDOWN, CLUSTERDOWN, TRYAGAIN: cannot serve now, retry later; exit 3
  refused,      // "ERR max number of clients reached", DENIED (protected mode): exit 3
  wrong_type,   // WRONGTYPE: the key holds another type
  moved,        // MOVED slot host:port: the slot lives elsewhere for good
  ask,          // ASK slot host:port: this one command goes elsewhere (slot migrating)
  other,        // any other error: the command failed
};

// Where a MOVED or ASK reply points.
struct Redirect {
  int slot = 0;      // 0..16383
  std::string host;  // empty: the host of the node that answered (cluster-preferred-endpoint-type unknown)
  int port = 0;
};

// One error reply, classified.
struct ReplyErrorInfo {
  ErrorScope scope = ErrorScope::command;
  ErrorCause cause = ErrorCause::other;
  std::string code;                  // the first word: "WRONGTYPE", "ERR", "BUSY"…
  std::optional<Redirect> redirect;  // set exactly when cause is moved or ask
};

// Classifies an error reply's text ("BUSY Redis is busy…"). A MOVED/ASK whose slot or address does not
// parse is not a redirect anyone could follow: scope command, cause other.
ReplyErrorInfo classify_reply_error(std::string_view text);

// classify_reply_error(reply.str); precondition: reply.is_error().
ReplyErrorInfo classify_reply_error(const Reply& reply);

// Whether the reply is an error that is only a fact about one key (WRONGTYPE), to be recorded as data.
bool is_data_error(const Reply& reply);

// Whether the reply is MOVED or ASK: the key lives on another cluster node. Only a client reading one
// node of a cluster (--single-node) passes these on; the cluster client follows them.
bool is_redirect(const Reply& reply);

// Throws the typed error for an error reply unless it is a data error; does nothing for other replies.
void throw_if_fatal(const Reply& reply, const std::string& context);

}  // namespace sessionctl::redis
