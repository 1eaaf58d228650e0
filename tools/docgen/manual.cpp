// The man page's prose sections. Numbers come from the types that define them (ExitCode), examples
// of masking from the masking code, the built-in profiles from ProfileSet::builtin(), so the text
// only has to be right about what it explains.
#include "manual.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "json/probe.h"
#include "mask/mask.h"
#include "session/batch_codec.h"
#include "session/profile.h"
#include "util/duration.h"
#include "util/errors.h"

namespace sessionctl::cli::manual {
namespace {

using Kind = Block::Kind;

Block para(std::string text) { return {Kind::paragraph, "", std::move(text), {}}; }
Block item(std::string term, std::string text) { return {Kind::item, std::move(term), std::move(text), {}}; }
Block bullet(std::string text) { return {Kind::bullet, "", std::move(text), {}}; }
Block example(std::vector<std::string> lines) { return {Kind::example, "", "", std::move(lines)}; }
Block subsection(std::string title) { return {Kind::subsection, "", std::move(title), {}}; }

bool has(const Facts& facts, const std::string& command) {
  return std::find(facts.commands.begin(), facts.commands.end(), command) != facts.commands.end();
}

// "`a`, `b` and `c`"
std::string join_code(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out += i + 1 == words.size() ? " and " : ", ";
    out += "`" + words[i] + "`";
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) {
      if (start < text.size()) out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string code(ExitCode c) { return std::to_string(static_cast<int>(c)); }

Section exit_status() {
  return {
      "EXIT STATUS",
      {
          item(code(ExitCode::ok), "Success."),
          item(code(ExitCode::check_failed),
               "A check failed (`doctor` found a problem), or some of the items a command worked on failed. An "
               "error reply from the server that none of the codes below names also exits 1, and so does "
               "output that could not be written (a full disk, a closed standard output): `sessionctl: error: "
               "cannot write to standard output: ...`, and the command stops at that write."),
          item(code(ExitCode::usage),
               "Usage error or bad input: an unknown command or flag, a malformed URL, duration or profiles file, "
               "an unknown profile name, TLS flags without TLS. Also a refusal to act, for example when a change "
               "needs confirmation and there is no terminal to ask on, or `--replicas` for a server that is not a "
               "cluster node. Behind sentinels: no sentinel knows the master's name (see SENTINEL)."),
          item(code(ExitCode::connect),
               "Cannot connect: the server refused or did not answer, the host name did not resolve, the TLS "
               "handshake or certificate check failed, or a connect or command timeout expired "
               "(`--connect-timeout`, `--timeout`), no sentinel could be reached, or the primary the sentinels name is "
               "not the primary yet (a failover under way). Also a server that answers but cannot serve now: still "
               "loading its data (`LOADING`), busy running a script (`BUSY`), a replica cut off from its master "
               "(`MASTERDOWN`), a cluster that is down (`CLUSTERDOWN`, `TRYAGAIN`), or one that refuses clients "
               "(`ERR max number of clients reached`, `DENIED` in protected mode). These stop a command whenever "
               "they come, also in the middle of a scan: they are never taken for one key's data."),
          item(code(ExitCode::auth),
               "Authentication or permission: the server answered `WRONGPASS`, `NOAUTH` or `NOPERM`. Check the "
               "password source (see ENVIRONMENT) and the ACL user's permissions."),
          item(code(ExitCode::not_found),
               "The named session does not exist (for example `inspect` with an id no "
               "profile has); the error suggests close matches."),
          item(code(ExitCode::interrupted), "Interrupted by SIGINT (Ctrl-C) or SIGTERM."),
          para("Every error is one line on standard error, `sessionctl: error: ...`, naming what to do next."),
          para("A reader that stops reading (`sessionctl list | head -1`) is not an error: at the first write "
               "after the pipe closed, sessionctl stops the scan and exits quietly with 0, as ripgrep does, so "
               "the rest of the keyspace is not read. `doctor` keeps its verdict: 1 when it found problems."),
      }};
}

Section environment() {
  return {"ENVIRONMENT",
          {
              item("`SESSIONCTL_URL`",
                   "The Redis URL, when `--url` is not given. Takes precedence over the "
                   "variables below, so it can point sessionctl elsewhere than the app."),
              item("`REDIS_URL`",
                   "The Redis URL, when neither `--url` nor `SESSIONCTL_URL` is set (the variable the "
                   "btrix, openvaa and telegram apps read)."),
              item("`CHANNEL_REDIS_URL`",
                   "The Redis URL, when none of the above is set (the variable the Django "
                   "Channels app reads)."),
              item("`REDISCLI_AUTH`",
                   "The password, when no flag and no URL gives one (the variable redis-cli "
                   "reads)."),
              item("`REDIS_PASSWORD`", "The password, when nothing above gives one."),
              item("`SESSIONCTL_SENTINEL_PASSWORD`",
                   "The sentinels' password for a `redis+sentinel://` URL, when `--sentinel-password-file` is not "
                   "given (see SENTINEL). Never the data nodes' password, and ignored for other URLs."),
              item("`NO_COLOR`",
                   "When set to anything but the empty string, no colour is used, as with "
                   "`--no-color`."),
              item("`TERM`", "`TERM=dumb` turns colour off."),
              item("`COLUMNS`", "The width tables are fitted to when standard output is a terminal."),
              subsection("Precedence"),
              para("The URL is the first of: `--url`, `SESSIONCTL_URL`, `REDIS_URL`, `CHANNEL_REDIS_URL`; without "
                   "any of them sessionctl connects to `redis://127.0.0.1:6379/0`. A variable set to the empty "
                   "string counts as unset. `--user` and `--db` override the user and database named in the URL, and "
                   "`--tls` upgrades a `redis://` URL to TLS."),
              para("In the URL's user-info, what comes before `:` is the user name and what follows it the password. "
                   "User-info without `:` (`redis://stateonly@host`) is a user name alone, as ioredis, node-redis and "
                   "redis-py read the `REDIS_URL` the apps share, so the same URL logs in as the same user; the "
                   "password then comes from the sources below. This is the one difference from `redis-cli -u`, "
                   "which reads a lone user-info as the password: write `redis://:PASSWORD@host` for a password "
                   "without a user name."),
              para("The password is the first of: `--password-file`, `--askpass`, the password in the URL, "
                   "`REDISCLI_AUTH`, `REDIS_PASSWORD`. No flag takes the password itself, because any user on the "
                   "host can read a process's arguments. The password is never printed: URLs are shown with it "
                   "replaced by `***`."),
              para("`--askpass` asks on the terminal without echo. Ctrl-C at the prompt exits 130 without "
                   "connecting, and nothing typed is sent; an empty answer is no password (the URL's or the "
                   "environment's then applies, if any), never the empty password."),
          }};
}

Section cluster() {
  return {
      "REDIS CLUSTER",
      {
          para("Point `--url` at any node of a Redis Cluster, primary or replica: sessionctl sees `cluster_enabled:1` "
               "in `INFO cluster`, reads the slot map (`CLUSTER SLOTS`, checked against `CLUSTER NODES`) and from "
               "then on talks to every primary. Nothing else changes: every command works as on one server. A "
               "cluster has only db 0. When the user may not run `INFO`, the node cannot be recognised and is read "
               "as a single server; `--single-node` reads one node alone on purpose (its share of the sessions: a "
               "session key or index that hashes to another node, such as TRT's history, counts as absent)."),
          para("Commands go to the primary that owns their key's slot (CRC16, `{hash tag}` respected), one "
               "pipeline per primary, all primaries at once. `MOVED` re-reads the slot map and sends again, `ASK` is "
               "followed with `ASKING`; `TRYAGAIN`, `CLUSTERDOWN` and a node that stops answering are retried with "
               "a growing pause for up to `--timeout` (at least 5 s, at most 30 s: long enough for a replica to "
               "take over), then the command fails with exit 3 naming the node. More than 16 redirects in a row "
               "are a loop: exit 3."),
          para("Listing reads every primary in parallel, slot by slot (`CLUSTER GETKEYSINSLOT`, a snapshot of one "
               "slot), and checks each node's own view of its slots before and after every batch. A slot that "
               "moved, was migrating or lost its node meanwhile is read again at the end from its owner, and while "
               "it migrates from the importing node too, de-duplicated within that slot: no session is missed or "
               "listed twice during a resharding or a failover. Keys a node still holds for slots it no longer "
               "owns are never read. If a slot's node fails and no replica takes over within the time above, the "
               "command ends with exit 3 naming the slots not read, after the sessions that were."),
          para("A user who may not run `CLUSTER GETKEYSINSLOT` and `CLUSTER NODES` gets a `SCAN` of every "
               "primary instead, kept to the slots each owns; if the slot map changed during it, the command ends "
               "with exit 3 naming the slots that moved, because sessions in them may be missing or repeated. A "
               "slot without any owner (cluster_state:fail) is exit 3 before anything is listed."),
          para("`--replicas` reads key names and values from each primary's replica (`READONLY`) to spare the "
               "primaries during big scans; stability is still judged by the primaries. Replicas may lag their "
               "primary by a moment. `status` shows every node with its role, slots, keys and memory, and "
               "`cluster_state`; its keyspace keys and memory are summed over the primaries, and persistence is "
               "off only when it is off on every primary. In JSON the `cluster` object (`null` outside a cluster) "
               "carries `state`, `slots_covered` and `nodes`, each node with `endpoint`, `id`, `role` (`primary` "
               "or `replica`), `primary_id`, `slots` (a count), `slot_ranges` (inclusive pairs), `reachable`, "
               "`keys`, `used_bytes`, `maxmemory_policy`, `evicted_keys` and `persistence` (`aof_enabled`, "
               "`rdb_save`, `off`), `null` where the node could not tell. `doctor` adds cluster risks: "
               "`cluster_state` not ok (`cluster_state`), slots not covered (`slots_uncovered`, naming the "
               "ranges), a primary without a replica (`primary_without_replica`), nodes that disagree on "
               "`maxmemory-policy` or persistence (`maxmemory_policy_differs`, `persistence_differs`, naming "
               "them) and a node that cannot be reached (`cluster_node_unreachable`)."),
      }};
}

Section sentinel() {
  return {"SENTINEL",
          {
              para("With Redis Sentinel, the URL names the sentinels and the master's name instead of a server:"),
              example({"redis+sentinel://[user[:password]@]host:port[,host:port...]/master-name[/db]"}),
              para("or `rediss+sentinel://...` for TLS to the sentinels and the data nodes alike (the TLS flags "
                   "apply to both; `--tls` upgrades a `redis+sentinel://` URL). A sentinel's port defaults to 26379. "
                   "Every command works as it does on a single server, on the primary the sentinels name:"),
              example({"sessionctl -u 'redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/sessions' status"}),
              subsection("Credentials"),
              para("The user and password in the URL, `--user`, `--password-file`, `--askpass`, `REDISCLI_AUTH` and "
                   "`REDIS_PASSWORD` are the data nodes' (the primary's). Sentinels often run without a password, "
                   "or with another one: without `--sentinel-password-file` or `SESSIONCTL_SENTINEL_PASSWORD` they "
                   "are asked with none, and `--sentinel-user` names their ACL user. A sentinel that answers "
                   "`NOAUTH` exits 4 with a line saying to give `--sentinel-password-file` or "
                   "`SESSIONCTL_SENTINEL_PASSWORD`."),
              subsection("Finding the primary"),
              para("The sentinels are asked in the URL's order (`SENTINEL GET-MASTER-ADDR-BY-NAME`), each within "
                   "`--connect-timeout`, and the first that names the master wins: a dead sentinel first in the "
                   "list costs one refused connection, or one connect timeout when its host does not answer. The "
                   "primary it names must answer `ROLE` with `master`. While a failover is under way it may still "
                   "be a replica, or not answer: the sentinels are asked again, with a short back-off, for about "
                   "the connect timeout, and then the command exits 3 saying so."),
              para("When no sentinel knows the master's name, the command exits 2 naming the sentinels that "
                   "answered; when none can be reached, it exits 3 naming each and why. A URL that names a data "
                   "node instead of a sentinel exits 2."),
              subsection("Failover"),
              para("Every command asks the sentinels afresh, so the command after a failover finds the new "
                   "primary. A command that is running when the primary goes away fails with exit 3, because its "
                   "connection is lost (the sentinels close the clients of a server they turn into a replica, or the "
                   "server is gone), and is not retried: run it again."),
              subsection("What status and doctor show"),
              para("`status` shows the master's name, the primary and which sentinel named it, the sentinels known "
                   "to that sentinel, how many of them are up and the quorum, the replicas the sentinels know and "
                   "the sentinels in the URL that did not answer; in JSON the `sentinel` object carries "
                   "`master_name`, `primary`, `answered_by`, `sentinels`, `unreachable`, `known_sentinels`, "
                   "`reachable_sentinels`, `quorum` and `known_replicas` (`null` for a count the sentinel did not "
                   "give, and `sentinel` is `null` without sentinels). `doctor` reports `sentinel_quorum` when "
                   "fewer sentinels are up than the quorum or the majority a failover needs, `sentinel_no_replica` "
                   "when the sentinels know no replica to promote, and `sentinel_unreachable` for sentinels in the "
                   "URL that did not answer."),
          }};
}

Section output() {
  return {
      "OUTPUT",
      {
          para("Results go to standard output and nothing else does; progress, notes, warnings and errors go to "
               "standard error. `-o` picks the format:"),
          item("`table`",
               "The default: aligned columns for people, coloured on a terminal. Its layout may change "
               "between versions; scripts should use `json` or `jsonl`. On a terminal a table fits `COLUMNS` "
               "(or the window): the widest text columns are cut with `…`, numbers never. Control characters, "
               "C1 controls and bidirectional controls in ids, keys, values and profile names are shown "
               "escaped (`\\x1b`, `\\u202e`) in tables and in messages on standard error, so a stored "
               "value cannot move the cursor, retitle the window or reorder what is shown; JSON carries them "
               "as they are."),
          item("`json`",
               "One JSON document. Every document is an object whose `\"schema\"` names it (for "
               "example `\"sessionctl.list\"`) and whose `\"version\"` is an integer. Changing or "
               "removing a field, or changing what it means, increases the version."),
          item("`jsonl`",
               "One JSON object a line, one line per item (a session for `list` and `inspect`), with "
               "no envelope: no schema, version or summary around the items, so that millions of "
               "sessions stream in flat memory and each line can go to `jq -c` or a log pipeline. A "
               "command whose result is a single report prints that report on one line."),
          para("Conventions of every JSON document:"),
          bullet("Durations are integer milliseconds in fields ending in `_ms`, such as `ttl_ms` and `idle_ms`. "
                 "`ttl_ms` is `-1` for a key with no expiry."),
          bullet("Times are RFC 3339 strings in UTC, such as `\"2026-05-01T09:30:00Z\"`; a time that is "
                 "not known or not valid is `null`."),
          bullet("Sizes are bytes, in fields ending in `_bytes` such as `size_bytes`."),
          bullet("A value that is not valid UTF-8 is given in base64 and its `encoding` says so."),
          bullet("`doctor`'s findings (`sessionctl.doctor`, one per line with `jsonl`) have `severity` "
                 "(`error` or `warning`), `code`, `profile` (null for the server's configuration), `message`, "
                 "`count`, `examples`, `fix` and, when there is something to say, `note`. `fix` is one command "
                 "line to run as it is, no prose around it; words in capitals (`ID…`, `KEY`, `USER`, `BYTES`) "
                 "are placeholders to fill in, and when every affected id is known they are already filled in. "
                 "`note` is the prose that goes with the fix (what to look at first, an alternative, why no "
                 "ids are named)."),
          bullet("`smoke` (`sessionctl.smoke`) and `persist-test` (`sessionctl.persist-test`) report checks: "
                 "`ok`, `url` (redacted), `started`, `duration_ms`, `summary` (`passed`, `warned`, `failed`, "
                 "`skipped`; persist-test also `informational`) and `checks`, each with `group` (`connect`, "
                 "`server`, `cluster`, `canary`, `config`, `latency`; a scenario's name), `name`, `target` (the "
                 "cluster node, or null), `result` (`pass`, `warn`, `fail`, `skip`, `info`), `message`, "
                 "`duration_ms`, `evidence` (`key`, `expected`, `got`) and `data` (figures: latency "
                 "`p50_us`/`p99_us`/`max_us`, `lost`, `downtime_ms`…). `persist-test --spawn-matrix` adds `matrix`: "
                 "one row per setting with `graceful` and `crash` (`all kept`, `all lost`, `N of M lost`). "
                 "`--junit FILE` writes the same checks as Ant JUnit XML, one testsuite per group."),
          bullet("An id or key that is not valid UTF-8 is written in the escaped form tables show "
                 "(`bad\\xff\\xfeutf8`), and a field of the same name ending in `_base64` (`id_base64`, "
                 "`key_base64`, `points_to_base64`) carries its exact bytes. Fields without it hold the bytes "
                 "as they are."),
          bullet("A value (or list item) that should be JSON but does not parse is corrupt: it is shown as "
                 "`[redacted: N chars]` with `encoding` `corrupt`, because the profile's field rules can no "
                 "longer find the personal data in it; `--reveal` shows it as `text`. Its `reason` says why, "
                 "with a byte offset. JSON nested deeper than the limit (see PROFILES) is corrupt even with "
                 "`--reveal`."),
          para("Commands that take session ids (`list`, `inspect`) accept each one as given, as a full key "
               "(`state:abc`, which names that layout's session only), in the escaped form tables show "
               "(`\\xNN`, `\\n`, `\\t`, `\\r`, `\\\\`), or as `b64:` followed by the base64 of its "
               "bytes. The id as given is tried first. A script that must never lose a byte uses the "
               "base64 form: `sessionctl list -o jsonl | jq -r 'if .id_base64 then \"b64:\" + .id_base64 "
               "else .id end' | xargs -d '\\n' sessionctl inspect --`."),
          para("Personal data in values is masked in every format unless `--reveal` is given (see PII MASKING)."),
      }};
}

Section pii_masking() {
  struct Sample {
    mask::Rule rule;
    const char* input;
    const char* what;
  };
  const std::vector<Sample> samples = {
      {mask::Rule::email, "john@example.com",
       "An e-mail address keeps the first two characters of its local part and the domain; a local part of two "
       "characters keeps one and a local part of one keeps none (`x@y.com` becomes `***@y.com`)."},
      {mask::Rule::phone, "+1 555 123 7890", "A phone number keeps its last four digits."},
      {mask::Rule::name, "John Doe", "A name keeps its first character."},
      {mask::Rule::username, "@user1", "A Telegram user name keeps the @ and the first character."},
      {mask::Rule::text, "I could not sleep again",
       "Free text a person wrote in confidence (the trt profile's "
       "`client_input` and `therapist_response`) is replaced by a "
       "placeholder with its length in characters."},
      {mask::Rule::free_text, "call +1 (555) 123-4567 or 07700900123, card 4111 1111 1111 1111, jane@example.org",
       "Prose is kept, with the e-mail addresses, phone numbers and payment card numbers inside it masked. A phone "
       "number has 7 to 15 digits and a `+`, parentheses or separators; a bare run of digits is one only with a "
       "trunk prefix (`0` and a non-zero digit, 10 to 12 digits in all), `00` and a country code, or a word such as "
       "`phone`, `tel` or `mobile` just before it. A card number is 13 to 19 digits, bare or grouped by spaces or "
       "dashes, starting with 2 to 6 and passing the Luhn check. Dates, UUIDs, ids, version numbers, decimals, "
       "timestamps, counts, scores and IPv4 addresses are left alone, because rewriting them would corrupt data."},
      {mask::Rule::redact, "Mozilla/5.0 (X11; Linux x86_64)", "Nothing is kept."},
  };
  Section s{"PII MASKING",
            {para("sessionctl masks personal data by default, wherever it shows a value and in every output format. "
                  "Each profile names the fields that hold personal data and a rule for each (the `pii` field, see "
                  "PROFILES FILE). Fields no rule covers are masked by their names, at any depth and in every "
                  "profile, built-in or from `--profiles-file` (case, `_`, `-` and `.` ignored): names ending in "
                  "`email` by `email`; names containing `phone` or `mobile`, and `tel`, `cell`, `fax`, `msisdn`, "
                  "by `phone`; `username`, `login` and `handle` by `username`; names ending in `name` "
                  "(`name`, `firstName`, `last_name`, `surname`, `full_name`, `display_name`, `createdByName`, "
                  "but not `fileName`, `hostname`, `stateName` and other names of things) by `name`; `street`, "
                  "`address`, `address_line_1` (not `ipAddress`) by `text`; `postcode`, `zip`, `city`, `town`, "
                  "`dob`, `dateOfBirth`, `cardNumber` and `iban` by `redact`. A rule of the profile, on the field "
                  "or on an object around it, wins over the field's name. Every other string, and every value of a "
                  "key no profile claims, is still scanned for e-mail addresses, phone numbers and card numbers. "
                  "The rules:")}};
  for (const auto& sample : samples) {
    s.blocks.push_back(item(fmt::format("`{}`", mask::rule_name(sample.rule)),
                            fmt::format("{} \"`{}`\" becomes \"`{}`\".", sample.what, sample.input,
                                        mask::apply_rule(sample.rule, sample.input))));
  }
  s.blocks.push_back(
      para("Masking never changes a JSON value's structure: the same keys, the same array lengths, the same types; "
           "numbers, booleans and null are untouched (so a phone number stored as a JSON number is shown as it is). A "
           "masked value written back can still be loaded by its app. Masked "
           "object keys that would collide (Telegram votes keyed by user name) get `#2`, `#3`, ... so that no entry is "
           "lost. Masking a masked value gives it back unchanged."));
  s.blocks.push_back(para(
      "Stored text shown outside a value is masked like prose too: the state (the `inspect` header, `list --wide`'s "
      "STATE column and `state` field, the states of `stats`), index members and pointer targets, and `doctor`'s "
      "examples. So are session ids and keys: a session stored as `state:john.doe@example.com` is listed as "
      "`jo***@example.com`, and its JSON record carries `\"id_masked\": true`. A masked id names no session; "
      "`--reveal` shows the real one, which every command accepts (JSON carries the raw id and key only then). "
      "`doctor` never puts a masked id in a fix line: the fix keeps `ID…` and a `note` says that `doctor "
      "--reveal` names the ids. `inspect`'s suggestions for a missing id are masked as well."));
  s.blocks.push_back(para(
      "`--reveal` shows raw values and says so on standard error (`sessionctl: warning: --reveal: personal data is "
      "shown unmasked`, which `--quiet` silences). Filters always compare raw values: `list --where "
      "data.email=john@example.com` finds the session although its e-mail is shown masked."));
  return s;
}

Section read_only(const Facts& facts) {
  std::vector<std::string> cmds;
  for (const char* c : {"status", "list", "inspect", "stats", "doctor", "export"}) {
    if (has(facts, c)) cmds.push_back(c);
  }
  std::string which = join_code(cmds);
  if (has(facts, "mask")) which += ", and `mask` without `--in-place`,";
  Section s{"READ-ONLY GUARANTEE",
            {para(fmt::format(
                 "{} never write to Redis and never change a TTL. They find keys with `SCAN`, never `KEYS` (which "
                 "blocks the server while it walks the whole keyspace), and read them with pipelined read commands "
                 "such as `TYPE`, `PTTL`, `GET`, `HGETALL` and `LRANGE`; `status` also reads `INFO` and `CONFIG GET`.",
                 which)),
             para(fmt::format(
                 "Values of unknown size are read with care, so that one huge key cannot stop a command or use up "
                 "memory. A string is first read up to {} KiB (`GETRANGE`); a longer one is measured with `STRLEN` "
                 "before it is read, and one above {} MiB is not read at all: the session is listed with its size "
                 "and the problem `too_large_to_read`, which `doctor` reports, and the scan goes on. Lists, hashes, "
                 "sets and sorted sets are read as their length (`LLEN`, `HLEN`, `SCARD`, `ZCARD`) and their first "
                 "{} elements (`LRANGE`, `HSCAN`, `SSCAN`, `ZRANGE`); `history_over_cap` counts the whole list.",
                 kFirstReadBytes / 1024, kValueReadCap / (1024 * 1024), kAggregateWindow)),
             para("An ACL user that may read only some key patterns (such as `~state:*`) gets what it may read: a "
                  "profile whose keys are denied is skipped with a note naming the profile and its key layout, and "
                  "the command exits 4 only when it may read none of the selected profiles."),
             para("On Redis 7.2 and later they first turn on `CLIENT NO-TOUCH` for their connection, so that "
                  "reading does not update the keys' LRU/LFU idle clock and browsing sessions does not change which "
                  "keys `maxmemory` eviction picks."),
             para("Older servers do not have `CLIENT NO-TOUCH`. There, reading a value (`GET`, `HGETALL`, ...) "
                  "updates that key's LRU/LFU idle clock, as any client's read does. It does NOT change the key's "
                  "TTL: no expiry is extended or shortened, on any server version. `status` shows which case "
                  "applies (`no-touch reads`).")}};
  std::vector<std::string> sliding;
  const ProfileSet builtin = ProfileSet::builtin();
  for (const auto& p : builtin.all()) {
    if (p.sliding_ttl) sliding.push_back(p.name);
  }
  if (!sliding.empty()) {
    s.blocks.push_back(para(fmt::format(
        "sessionctl reads Redis directly, not through the app, so apps that refresh a session's TTL whenever they "
        "read it ({}) do not refresh it for sessionctl's reads either.",
        join_code(sliding))));
  }
  return s;
}

// "BTRIX chatbot booking flow (seed 000): state:{id}, ..." -> "BTRIX chatbot booking flow": the rest
// repeats the layout, which the manual spells out from the profile itself, and seeds mean nothing to users.
std::string profile_title(const Profile& p) {
  std::string t = p.description.substr(0, p.description.find(':'));
  if (auto seed = t.find(" (seed "); seed != std::string::npos) t.erase(seed);
  return t.empty() ? "Custom profile" : t;
}

std::string encoding_text(const KeyRole& role) {
  switch (role.encoding) {
    case Encoding::json:
      return role.type == ValueType::string ? "JSON" : "";
    case Encoding::json_or_opaque:
      return "JSON, or opaque bytes when encrypted";
    case Encoding::opaque:
      return "opaque";
    case Encoding::fields:
      return "";
    case Encoding::json_items:
      return "JSON items";
  }
  return "";
}

std::string key_text(const KeyRole& role) {
  std::string out = fmt::format("`{}` ({}", role.pattern.text(), value_type_name(role.type));
  if (std::string enc = encoding_text(role); !enc.empty()) out += ", " + enc;
  if (!role.format.empty()) out += fmt::format(", {} serialization", role.format);
  if (role.max_items) out += fmt::format(", newest {} items", *role.max_items);
  if (!role.expects_ttl) out += ", no TTL";
  return out + ")";
}

std::string profile_text(const Profile& p) {
  std::string text = profile_title(p) + ". Keys: " + key_text(p.primary);
  for (const auto& r : p.related) text += ", " + key_text(r);
  text += ".";
  for (const auto& ix : p.indexes) {
    text += ix.kind == IndexSpec::Kind::zset_of_ids
                ? fmt::format(" Index `{}`: a sorted set of session ids{}.", ix.pattern.text(),
                              ix.score_is_activity ? " scored by last activity" : "")
                : fmt::format(" Index `{}`: a key holding the session id.", ix.pattern.text());
  }
  if (p.default_ttl) {
    text += fmt::format(" TTL set by the app: `{}`", format_duration(*p.default_ttl));
    if (p.max_ttl && *p.max_ttl != *p.default_ttl) text += fmt::format(", at most `{}`", format_duration(*p.max_ttl));
    text += p.sliding_ttl ? ", refreshed when the session is used." : ".";
  }
  if (p.id_format == "uuid") text += " Ids are UUIDs made by the server.";
  if (!p.state_field.empty()) text += fmt::format(" State: `{}`.", p.state_field);
  if (!p.pii.empty()) {
    text += " Personal data:";
    for (std::size_t i = 0; i < p.pii.size(); ++i) {
      text += fmt::format("{} `{}` ({})", i ? "," : "", p.pii[i].path, mask::rule_name(p.pii[i].rule));
    }
    text += ".";
  }
  return text;
}

Section profiles() {
  Section s{"PROFILES",
            {para("A profile describes one session store: the layout of its keys, the type and encoding of each "
                  "value, the TTL its app sets, where the state and the last activity are, and which fields hold "
                  "personal data. A session is the group of keys one app session uses, with the index entries "
                  "that point at it; commands act on whole sessions. `--profile NAME` (repeatable, or "
                  "comma-separated) limits a command to some profiles. The built-in profiles:")}};
  const ProfileSet builtin = ProfileSet::builtin();
  for (const auto& p : builtin.all()) s.blocks.push_back(item(fmt::format("`{}`", p.name), profile_text(p)));
  s.blocks.push_back(para(
      "`channels` and `telegram` share the layout `session:{id}`: a value is claimed by the profile whose `shape` it "
      "has, and `session:chat:{chat_id}` is an index, never a session. Index entries can outlive their session (a "
      "`trt:active_sessions` member whose state expired, a `:meta` hash, a chat mapping to a missing session); "
      "these are orphans, reported by `stats` and `doctor`. A session whose value has no profile's shape is listed "
      "with the profile `unknown`."));
  s.blocks.push_back(para(fmt::format(
      "Problems on a session, as `list`, `stats` and `doctor` name them, include `corrupt_json` (a value that "
      "should be JSON and does not parse, or whose arrays and objects nest deeper than {} levels; `inspect` gives "
      "the reason and shows the value only by its length), `wrong_shape` (valid JSON that does not fit the "
      "profile: not an object, a state that is an object or a list, or a list where the profile's paths such as "
      "`data.email` need an object) and `bad_timestamp` (an activity time that cannot be read, lies before "
      "2000-01-01 or more than 5 minutes in the future: the idle time is then unknown, shown as `-` and `null`, "
      "never a wrapped date or a negative time).",
      kMaxJsonDepth)));
  return s;
}

constexpr const char* kExampleProfiles = R"json({
  "profiles": [
    {
      "name": "express",
      "description": "Express apps with connect-redis: sess:{id}, JSON",
      "key": "sess:{id}",
      "type": "string",
      "encoding": "json",
      "ttl": {"default": "1d", "sliding": true},
      "max_size": 4096,
      "pii": {"user.email": "email", "user.name": "name"}
    }
  ]
})json";

constexpr const char* kExampleValue =
    R"json({"cookie":{"originalMaxAge":86400000,"expires":"2026-05-02T09:30:00.000Z","httpOnly":true,"path":"/"},)json"
    R"json("user":{"id":42,"email":"john@example.com","name":"John Doe"},"cart":["sku-1042"]})json";

Section profiles_file() {
  Section s{
      "PROFILES FILE",
      {para("`--profiles-file FILE` loads more profiles from a JSON file, in the same format the built-in profiles "
            "are written in. A profile with the name of a built-in one replaces it; the others are added. Errors name "
            "the file, the line and the field, and exit 2. The file is an object with one array:"),
       example({R"({ "profiles": [ { "name": "...", "key": "...", ... }, ... ] })"}),
       para("Each profile is an object with these fields; only `name` and `key` are required:"),
       item("`name`", "One word (no spaces or commas): what `--profile` and the `profile` output field use."),
       item("`description`", "One line for people."),
       item("`key`",
            "The layout of the session's main key, with exactly one placeholder such as `{id}`: "
            "`sess:{id}`, `trt:session:{id}:state`. The text the placeholder stands for is the session id; "
            "the rest is matched literally."),
       item("`type`",
            "The Redis type the key must have: `string` (the default), `hash`, `list`, `set` or `zset`. "
            "A key of another type is reported as a problem."),
       item("`encoding`",
            "How to read the value: `json` (must parse, otherwise the value is reported corrupt; the default for "
            "strings), `json-or-opaque` (JSON when it parses, otherwise opaque bytes such as an encrypted value, "
            "never corrupt), `opaque` (never decoded), `fields` (hash fields, each plain text or embedded JSON; the "
            "default for hashes), `json-items` (each list, set or sorted-set item a JSON document; the default for "
            "those types)."),
       item("`related`",
            "Other keys of the same session, an array of objects with `role` (a name such as "
            "`history`), `key` (a layout with the same placeholder), `type`, `encoding`, `ttl` "
            "(`false` when the app never sets a TTL on that key, so that none is not a problem) and "
            "`max_items` (the most items the app keeps in a list)."),
       item("`indexes`",
            "Keys that point at sessions, an array of objects with `role`, `key` and `type`. Type `zset` (the "
            "default) is one sorted set whose members are session ids; with `\"score\": \"last_activity\"` its "
            "score is the unix time of the last interaction, used as the session's activity when the value has "
            "none. Type `pointer` is one key per lookup value holding a session id; its `key` needs a placeholder "
            "such as `{chat_id}`, and `link` (required) names the field of the session's value that holds it."),
       item("`ttl`",
            "An object: `default` is the TTL the app sets, `max` the TTL above which a key is reported, "
            "`sliding` is `true` when the app refreshes the TTL whenever it uses the session. Durations are "
            "strings such as `\"90s\"`, `\"24h\"`, `\"7d\"`, `\"1h30m\"` or a number of seconds."),
       item("`state_field`",
            "A dotted JSON path (`data.current`) or hash field holding the session's state, shown by "
            "`list --wide` and matched by `--state`."),
       item("`state_labels`",
            "An object turning raw states into words, such as `{\"true\": \"open\", \"false\": "
            "\"closed\"}`."),
       item("`activity_field`",
            "A dotted JSON path or hash field holding the time of the last activity, as unix seconds or "
            "milliseconds (a number or a string of digits) or a UTC time such as `2026-05-01T09:30:00Z`; gives "
            "the idle time of `list --wide` and `--idle-over`."),
       item("`shape`",
            "Needed when two profiles share a key layout: an object with `all` (top-level fields a "
            "JSON value must all have) and `any` (fields of which it must have at least one) for the value "
            "to be claimed by this profile."),
       item("`exclude`",
            "An array of layouts that match `key` but are not sessions, such as "
            "`session:chat:{chat_id}`."),
       item("`id_format`", "`\"uuid\"` when the app only makes UUIDs; other ids are reported."),
       item("`max_size`", "Bytes; a larger session is reported."),
       item("`pii`",
            "An object mapping a field path to a masking rule (see PII MASKING): `email`, `phone`, `name`, "
            "`username`, `text`, `free_text` or `redact`. A path is a dotted list of object keys from the root of "
            "the value; for a hash the first segment is the field name and the rest a path into the field's JSON. "
            "`*` stands for any key or array index at that level (`participants.*`); a path ending in `.{keys}` "
            "masks the keys of that object rather than its values (`votes.{keys}`). A rule on an object or array "
            "masks every string inside it. Rules apply to every key of the session; each list item is a document "
            "of its own."),
       subsection("Example: an Express app using connect-redis"),
       para("connect-redis keeps each session as JSON under `sess:{id}` and sets the key's TTL from "
            "`cookie.expires`, or one day when the cookie has none; with rolling sessions it refreshes the TTL on "
            "every request, hence `\"sliding\": true`. The app stores the user's e-mail and name in the session. "
            "Save this as `express.json`:")}};
  ProfileSet loaded = ProfileSet::parse(kExampleProfiles, "the manual's example profiles file");
  const Profile* p = loaded.find("express");
  if (!p) throw std::logic_error("the manual's example profile is not named express");
  s.blocks.push_back(example(split_lines(kExampleProfiles)));
  s.blocks.push_back(para("A stored value such as"));
  nlohmann::json value = nlohmann::json::parse(kExampleValue);
  s.blocks.push_back(example(split_lines(value.dump(2))));
  s.blocks.push_back(
      para("is then listed, inspected and masked like a built-in session. `cookie.expires` is a time stamp, not "
           "personal data, and stays as it is: masking never rewrites dates. `inspect` shows the value as"));
  s.blocks.push_back(example(split_lines(mask::mask_json(value, p->pii).dump(2))));
  s.blocks.push_back(example({
      "sessionctl --profiles-file express.json --profile express list --wide",
      "sessionctl --profiles-file express.json inspect sess:Xq3vJf0a",
      "sessionctl --profiles-file express.json \\",
      "    list --where user.email=john@example.com",
  }));
  return s;
}

Section files() {
  return {"FILES",
          {para("sessionctl reads no configuration file of its own: `--profiles-file` and `--password-file` name the "
                "files it reads, and nothing is written outside what a command is asked to write."),
           item("`share/man/man1/sessionctl.1`", "This manual, under the installation prefix."),
           item("`share/bash-completion/completions/sessionctl`", "Bash completion."),
           item("`share/zsh/vendor-completions/_sessionctl`", "Zsh completion."),
           item("`share/fish/vendor_completions.d/sessionctl.fish`", "Fish completion.")}};
}

Section see_also() { return {"SEE ALSO", {para("`redis-cli`(1), `redis-server`(1), `jq`(1)")}}; }

}  // namespace

Section description(const Facts& facts) {
  Section s{"DESCRIPTION",
            {para("sessionctl is for the people who run the Redis servers that web apps and chat bots keep their "
                  "sessions in: on-call engineers, deploy pipelines and scripts. It knows how each supported store "
                  "lays out its keys (see PROFILES), so it deals in sessions, not keys."),
             para("Global options (see GLOBAL OPTIONS) may be given before or after the command: `sessionctl -u URL "
                  "list` and `sessionctl list -u URL` are the same. `sessionctl COMMAND --help` (or `sessionctl help "
                  "COMMAND`) prints a command's options. Flags take no value (`--wide`, never `--wide=yes`); numeric "
                  "options take a whole number (`--limit 20`).")}};
  if (has(facts, "status") && has(facts, "list")) {
    s.blocks.push_back(para("A first look at a store:"));
    std::vector<std::string> lines = {"sessionctl status", "sessionctl list --wide --limit 20"};
    if (has(facts, "doctor")) lines.push_back("sessionctl doctor");
    s.blocks.push_back(example(lines));
  }
  s.blocks.push_back(
      para("Durations, in flags and in profiles, are a number and a unit: `500ms`, `90s`, `15m`, `24h`, `7d`, `2w`, or "
           "several together such as `1h30m`. A bare number means seconds."));
  return s;
}

std::vector<Section> trailing_sections(const Facts& facts) {
  return {exit_status(),    environment(), cluster(),       sentinel(), output(),  pii_masking(),
          read_only(facts), profiles(),    profiles_file(), files(),    see_also()};
}

}  // namespace sessionctl::cli::manual
