// Finding the primary through Redis Sentinel: ask the URL's sentinels in order which server is the master
// of the name, check with ROLE that it is, and keep what the sentinels said for status and doctor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "redis/client.h"
#include "redis/options.h"
#include "redis/reply.h"

namespace sessionctl::redis {

// The primary the sentinels named, and how they were found.
struct SentinelPrimary {
  ConnectionOptions options;  // the input, with host and port set to the primary's
  SentinelView view;
};

// Asks options.sentinel's sentinels in order (SENTINEL GET-MASTER-ADDR-BY-NAME; each within the connect
// timeout, with the sentinels' own credentials) until one names the master, then checks that it answers
// ROLE master. A replica or an unreachable address (a failover in progress) is asked again, with a short
// back-off, for about the connect timeout. Throws UsageError when no sentinel knows the master (exit 2),
// AuthError when a sentinel refuses the sentinel credentials, ConnectionError when none can be reached or
// the primary is not found in time (exit 3). Precondition: options.sentinel.
SentinelPrimary find_primary(const ConnectionOptions& options);

// What asking one sentinel came to.
struct SentinelAttempt {
  enum class Outcome {
    unreachable,     // could not connect or talk to it
    auth,            // NOAUTH or WRONGPASS with the sentinel credentials
    denied,          // NOPERM: the sentinel user may not ask
    not_sentinel,    // it does not speak SENTINEL (a data node?)
    unknown_master,  // it answered nil: it does not monitor that name
  };
  std::string sentinel;  // "host:port"
  Outcome outcome = Outcome::unreachable;
  std::string detail;  // a short reason: "Connection refused", the error reply; never a password
};

// Throws the one error for a master no sentinel named, chosen by what is most actionable: auth or permission
// (exit 4), a master no sentinel knows or no sentinel at the address (exit 2), else unreachable (exit 3).
// The line names every sentinel asked and what it said. `sentinel_password_given` picks the auth advice.
[[noreturn]] void throw_no_answer(const std::string& master_name, const std::vector<SentinelAttempt>& attempts,
                                  bool sentinel_password_given);

// The address in a GET-MASTER-ADDR-BY-NAME reply ["host", "port"]; nullopt for nil or anything malformed.
std::optional<HostPort> master_address(const Reply& reply);

// Fills known_sentinels, known_replicas and quorum from a SENTINEL MASTER reply (flat field/value pairs);
// leaves them -1 when the reply is an error or lacks them.
void read_master_fields(const Reply& reply, SentinelView& view);

// The sentinels usable for a failover, from a SENTINEL SENTINELS reply: the answering sentinel itself plus
// every peer whose flags say neither s_down nor o_down (as SENTINEL CKQUORUM counts them); -1 on an error.
int usable_sentinels(const Reply& reply);

// ROLE's first element: "master", "slave", "sentinel"; "" when the reply is not a ROLE answer.
std::string role_name(const Reply& reply);

}  // namespace sessionctl::redis
