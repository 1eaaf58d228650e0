#include "redis/sentinel.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <thread>

#include "redis/connection.h"
#include "redis/reply_error.h"
#include "redis/transport.h"
#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl::redis {
namespace {

using Outcome = SentinelAttempt::Outcome;

// A replica the sentinels still name, or an address that does not answer, is asked about this often.
constexpr int kMaxRounds = 6;
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

std::optional<int> whole(const std::string& text) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The value of `field` in a flat field/value array (SENTINEL MASTER, one entry of SENTINEL SENTINELS).
const Reply* field(const Reply& pairs, const std::string& name) {
  if (pairs.type != Reply::Type::array) return nullptr;
  for (std::size_t i = 0; i + 1 < pairs.elements.size(); i += 2) {
    if (pairs.elements[i].str == name) return &pairs.elements[i + 1];
  }
  return nullptr;
}

// How to talk to one sentinel: the data nodes' TLS settings and timeouts, the sentinels' credentials,
// no db. A sentinel that accepts but stays silent is given the connect timeout, not the command timeout.
ConnectionOptions sentinel_connection(const ConnectionOptions& options, const HostPort& sentinel) {
  ConnectionOptions o = options;
  o.host = sentinel.host;
  o.port = sentinel.port;
  o.user = options.sentinel->user;
  o.password = options.sentinel->password;
  o.db = 0;
  o.command_timeout = std::min(options.command_timeout, options.connect_timeout);
  o.sentinel.reset();
  return o;
}

// "cannot connect to h:p: Connection refused; check that …" -> "Connection refused": the list names the sentinel.
std::string brief(std::string what, const std::string& where) {
  const std::string prefix = fmt::format("cannot connect to {}: ", where);
  if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
  if (auto advice = what.find("; "); advice != std::string::npos) what.erase(advice);
  return what;
}

// Sleeps for `d`, waking for Ctrl-C.
void pause(std::chrono::milliseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
    check_interrupted();
    std::this_thread::sleep_for(std::min(std::chrono::milliseconds(50),
                                         std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now())));
  }
  check_interrupted();
}

struct Answer {
  HostPort primary;
  SentinelView view;
};

// One pass over the sentinels, in the URL's order: the first that names the master wins.
Answer ask_sentinels(const ConnectionOptions& options) {
  const SentinelOptions& s = *options.sentinel;
  Answer answer;
  SentinelView& view = answer.view;
  view.master_name = s.master_name;
  for (const auto& address : s.sentinels) view.sentinels.push_back(endpoint(address));
  std::vector<SentinelAttempt> attempts;
  for (const auto& address : s.sentinels) {
    const std::string where = endpoint(address);
    auto failed = [&](Outcome outcome, std::string detail) {
      attempts.push_back({where, outcome, std::move(detail)});
      if (outcome != Outcome::unknown_master) view.unreachable.push_back(where);
    };
    try {
      Connection conn(sentinel_connection(options, address));
      // One round trip: the address, and what status and doctor show about the master's sentinels.
      std::vector<Reply> replies = conn.pipeline(std::vector<Command>{
          {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.master_name},
          {"SENTINEL", "MASTER", s.master_name},
          {"SENTINEL", "SENTINELS", s.master_name},
      });
      const Reply& addr = replies[0];
      if (addr.is_error()) {
        const ReplyErrorInfo info = classify_reply_error(addr);
        if (info.scope == ErrorScope::connection) throw_reply_error(addr, "SENTINEL GET-MASTER-ADDR-BY-NAME");
        if (info.cause == ErrorCause::permission) {
          failed(Outcome::denied, addr.str);
        } else {
          failed(Outcome::not_sentinel, addr.str);
        }
        continue;
      }
      if (addr.is_nil()) {
        failed(Outcome::unknown_master, "");
        continue;
      }
      auto primary = master_address(addr);
      if (!primary) {
        failed(Outcome::not_sentinel, "an unexpected reply to SENTINEL GET-MASTER-ADDR-BY-NAME");
        continue;
      }
      answer.primary = std::move(*primary);
      view.answered_by = where;
      view.primary = endpoint(answer.primary);
      read_master_fields(replies[1], view);
      view.reachable_sentinels = usable_sentinels(replies[2]);
      return answer;
    } catch (const AuthError&) {
      // The handshake's own message is about the data nodes' password sources; throw_no_answer says the right ones.
      failed(Outcome::auth, s.password ? "refused the sentinel credentials" : "requires a password");
    } catch (const ConnectionError& e) {
      failed(Outcome::unreachable, brief(e.what(), where));
    }
  }
  throw_no_answer(s.master_name, attempts, s.password.has_value());
}

}  // namespace

std::optional<HostPort> master_address(const Reply& reply) {
  if (reply.type != Reply::Type::array || reply.elements.size() != 2) return std::nullopt;
  const Reply& host = reply.elements[0];
  const Reply& port = reply.elements[1];
  if (!host.is_string() || host.str.empty() || !port.is_string()) return std::nullopt;
  auto p = whole(port.str);
  if (!p || *p < 1 || *p > 65535) return std::nullopt;
  return HostPort{host.str, *p};
}

void read_master_fields(const Reply& reply, SentinelView& view) {
  auto number = [&](const char* name) {
    const Reply* value = field(reply, name);
    return value ? whole(value->str).value_or(-1) : -1;
  };
  const int others = number("num-other-sentinels");
  view.known_sentinels = others < 0 ? -1 : others + 1;
  view.known_replicas = number("num-slaves");
  view.quorum = number("quorum");
}

int usable_sentinels(const Reply& reply) {
  if (reply.type != Reply::Type::array) return -1;
  int usable = 1;  // the sentinel that answered
  for (const auto& peer : reply.elements) {
    const Reply* flags = field(peer, "flags");
    const std::string f = flags ? flags->str : "";
    if (f.find("s_down") == std::string::npos && f.find("o_down") == std::string::npos) ++usable;
  }
  return usable;
}

std::string role_name(const Reply& reply) {
  if (reply.type != Reply::Type::array || reply.elements.empty() || !reply.elements[0].is_string()) return "";
  return reply.elements[0].str;
}

void throw_no_answer(const std::string& master, const std::vector<SentinelAttempt>& attempts,
                     bool sentinel_password_given) {
  auto said = [](const SentinelAttempt& a) -> std::string {
    switch (a.outcome) {
      case Outcome::unreachable:
        return a.detail.empty() ? "unreachable" : a.detail;
      case Outcome::auth:
        return a.detail;
      case Outcome::denied:
        return "NOPERM";
      case Outcome::not_sentinel:
        return "not a Sentinel";
      case Outcome::unknown_master:
        return "does not know it";
    }
    return "";
  };
  std::string asked;
  for (const auto& a : attempts) asked += fmt::format("{}{} ({})", asked.empty() ? "" : ", ", a.sentinel, said(a));
  auto first = [&](Outcome o) {
    return std::find_if(attempts.begin(), attempts.end(), [o](const SentinelAttempt& a) { return a.outcome == o; });
  };
  if (auto a = first(Outcome::auth); a != attempts.end()) {
    throw AuthError(
        sentinel_password_given
            ? fmt::format("sentinel {} refused the sentinel credentials: check --sentinel-user and the password in "
                          "--sentinel-password-file or SESSIONCTL_SENTINEL_PASSWORD (sentinels asked: {})",
                          a->sentinel, asked)
            : fmt::format("sentinel {} requires a password (NOAUTH): give the sentinels' password with "
                          "--sentinel-password-file or SESSIONCTL_SENTINEL_PASSWORD; the URL's password and "
                          "--password-file are the data nodes' (sentinels asked: {})",
                          a->sentinel, asked));
  }
  if (auto a = first(Outcome::denied); a != attempts.end()) {
    throw AuthError(fmt::format(
        "sentinel {} does not let the sentinel user ask for master '{}' ({}): grant it +sentinel, or use another "
        "--sentinel-user (sentinels asked: {})",
        a->sentinel, master, a->detail, asked));
  }
  if (first(Outcome::unknown_master) != attempts.end()) {
    std::string answered, unreachable;
    for (const auto& a : attempts) {
      std::string& into = a.outcome == Outcome::unknown_master ? answered : unreachable;
      into += (into.empty() ? "" : ", ") + a.sentinel;
    }
    throw UsageError(fmt::format(
        "no sentinel knows master '{}' (answered: {}{}): check the master name in the URL; SENTINEL MASTERS on a "
        "sentinel lists the names it monitors",
        master, answered, unreachable.empty() ? "" : fmt::format("; no answer from {}", unreachable)));
  }
  if (auto a = first(Outcome::not_sentinel); a != attempts.end()) {
    throw UsageError(fmt::format(
        "{} is not a Sentinel ({}): a redis+sentinel:// URL names the sentinels' addresses (usually port 26379); "
        "a data node is reached with redis:// (sentinels asked: {})",
        a->sentinel, a->detail, asked));
  }
  throw ConnectionError(fmt::format(
      "cannot reach any sentinel of master '{}': {}; check that the sentinels run and that the URL names them, or "
      "raise --connect-timeout",
      master, asked));
}

SentinelPrimary find_primary(const ConnectionOptions& options) {
  // A failover moves the primary within seconds: retry for about the connect timeout, then say so.
  const auto started = Clock::now();
  const auto deadline = started + options.connect_timeout;
  auto backoff = kFirstBackoff;
  for (int round = 1;; ++round) {
    Answer answer = ask_sentinels(options);
    SentinelPrimary found{options, std::move(answer.view)};
    found.options.host = answer.primary.host;
    found.options.port = answer.primary.port;
    std::string problem;
    try {
      Connection conn(found.options);
      Reply role = conn.command({"ROLE"});
      if (role.is_error()) {
        // A user who may not run ROLE (or a server without it) cannot check: the sentinels' word stands.
        if (classify_reply_error(role).scope == ErrorScope::connection) throw_reply_error(role, "ROLE");
        return found;
      }
      const std::string name = role_name(role);
      if (name == "master") return found;
      problem = fmt::format("it answers ROLE {}", name.empty() ? "?" : name);
    } catch (const ConnectionError& e) {
      problem = "connecting to it failed: " + brief(e.what(), found.view.primary);
    }
    if (round >= kMaxRounds || Clock::now() + backoff > deadline) {
      const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
      throw ConnectionError(fmt::format(
          "sentinel {} names {} as the primary of '{}', but {} (asked {} times in {} ms: a failover may be in "
          "progress); retry in a few seconds",
          found.view.answered_by, found.view.primary, options.sentinel->master_name, problem, round, spent.count()));
    }
    pause(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

}  // namespace sessionctl::redis
