#include "topology.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "process.h"
#include "tls_material.h"

namespace testsupport {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kPollMs = 20;
constexpr int kCliTimeoutMs = 10000;
constexpr int kLogTailLines = 15;

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// The lines of redis-cli's raw output, '\r' stripped; an empty line is kept (an empty string reply), only
// the newline that ends the output adds none.
std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> split_words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// `name`'s value in INFO-style "name:value" text, or "" when it has none.
std::string info_field(const std::string& info, std::string_view name) {
  for (const auto& line : split_lines(info)) {
    if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == ':') {
      return line.substr(name.size() + 1);
    }
  }
  return "";
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

int to_int(const std::string& text, const std::string& what) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size()) return value;
  } catch (const std::logic_error&) {
  }
  throw std::runtime_error(what + ": expected a number, got '" + text + "'");
}

std::string port_name(const RedisServer& node) { return "127.0.0.1:" + std::to_string(node.port()); }

// The node's reply to `args`, or std::nullopt with what went wrong in `error` (for polling, where a
// node that cannot answer yet is no failure).
std::optional<std::string> try_cli(const RedisServer& node, const CliCommand& args, std::string& error) {
  const RunResult result = node.cli_run(args, std::nullopt, "", kCliTimeoutMs);
  if (result.exit_code == 0 && !result.timed_out) return result.out;
  error = port_name(node) + " " + args.front() + (args.size() > 1 ? " " + args[1] : "") + ": " +
          (result.timed_out ? "timed out" : trimmed(result.err + result.out));
  return std::nullopt;
}

// Calls `problem` every kPollMs until it returns "" (all is well); at the deadline throws
// std::runtime_error with `what`, the last problem and `logs()`.
void wait_until(const std::string& what, Clock::time_point deadline, const std::function<std::string()>& problem,
                const std::function<std::string()>& logs) {
  const auto start = Clock::now();
  while (true) {
    const std::string last = problem();
    if (last.empty()) return;
    if (Clock::now() >= deadline) {
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
      throw std::runtime_error(what + ": not after " + std::to_string(waited) + " ms: " + last + "\n" + logs());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
  }
}

// What a node's ROLE says: primary, or a replica of the primary on primary_port.
struct Role {
  bool primary = false;
  int primary_port = 0;
};

std::optional<Role> role_of(const RedisServer& node) {
  if (!node.running()) return std::nullopt;
  std::string error;
  const auto out = try_cli(node, {"ROLE"}, error);
  if (!out) return std::nullopt;
  const auto lines = split_lines(*out);
  if (lines.empty()) return std::nullopt;
  if (lines[0] == "master") return Role{true, 0};
  if (lines[0] == "slave" && lines.size() >= 3) return Role{false, to_int(lines[2], "ROLE's master port")};
  return std::nullopt;
}

// A replica's INFO replication says it is linked to the primary on `primary_port` and not syncing; else
// what it says instead.
std::string replication_problem(const RedisServer& replica, int primary_port) {
  std::string error;
  const auto info = try_cli(replica, {"INFO", "replication"}, error);
  if (!info) return error;
  const std::string who = port_name(replica);
  if (info_field(*info, "role") != "slave") return who + " is not a replica";
  if (info_field(*info, "master_port") != std::to_string(primary_port)) {
    return who + " replicates port " + info_field(*info, "master_port") + ", not " + std::to_string(primary_port);
  }
  if (info_field(*info, "master_link_status") != "up") return who + ": master_link_status is not up";
  if (info_field(*info, "master_sync_in_progress") != "0") return who + ": sync in progress";
  return "";
}

// One line of CLUSTER NODES.
struct ClusterNodeLine {
  std::string id;
  int port = 0;
  std::vector<std::string> flags;
  std::string primary_id;  // "-" for a primary
  std::string link_state;
  std::vector<std::pair<int, int>> slots;  // inclusive ranges
  bool open_slots = false;                 // an importing or migrating slot ("[slot->-id]")

  bool has_flag(std::string_view flag) const { return std::find(flags.begin(), flags.end(), flag) != flags.end(); }
  bool is_primary() const { return has_flag("master"); }
  bool serves(int slot) const {
    return std::any_of(slots.begin(), slots.end(),
                       [slot](const auto& r) { return r.first <= slot && slot <= r.second; });
  }
};

// <id> <ip:port@cport[,hostname]> <flags> <primary> <ping-sent> <pong-recv> <epoch> <link-state> <slot>...
std::vector<ClusterNodeLine> parse_cluster_nodes(const std::string& text) {
  std::vector<ClusterNodeLine> nodes;
  for (const auto& line : split_lines(text)) {
    const auto words = split_words(line);
    if (words.empty()) continue;
    if (words.size() < 8) throw std::runtime_error("CLUSTER NODES: malformed line '" + line + "'");
    ClusterNodeLine node;
    node.id = words[0];
    const std::string& address = words[1];
    const auto colon = address.rfind(':', address.find('@'));
    node.port = to_int(address.substr(colon + 1, address.find('@') - colon - 1), "CLUSTER NODES port");
    std::istringstream flags(words[2]);
    for (std::string flag; std::getline(flags, flag, ',');) node.flags.push_back(flag);
    node.primary_id = words[3];
    node.link_state = words[7];
    for (std::size_t i = 8; i < words.size(); ++i) {
      if (words[i].starts_with("[")) {
        node.open_slots = true;
        continue;
      }
      const auto dash = words[i].find('-');
      const int first = to_int(words[i].substr(0, dash), "CLUSTER NODES slot");
      const int last = dash == std::string::npos ? first : to_int(words[i].substr(dash + 1), "CLUSTER NODES slot");
      node.slots.emplace_back(first, last);
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

// What one node's CLUSTER NODES says about the whole cluster, in a form every node should share:
// sorted "id port role primary slots" lines. Sets `problem` if that view shows a failure or a slot in
// flight.
std::string cluster_view(const std::vector<ClusterNodeLine>& nodes, std::string& problem) {
  std::vector<std::string> lines;
  for (const auto& node : nodes) {
    for (const char* bad : {"fail", "fail?", "handshake", "noaddr"}) {
      if (node.has_flag(bad) && problem.empty()) problem = "port " + std::to_string(node.port) + " is flagged " + bad;
    }
    if (node.link_state != "connected" && problem.empty()) {
      problem = "the link to port " + std::to_string(node.port) + " is " + node.link_state;
    }
    if (node.open_slots && problem.empty()) problem = "port " + std::to_string(node.port) + " has a slot in migration";
    std::string line =
        node.id + " " + std::to_string(node.port) + (node.is_primary() ? " primary " : " replica ") + node.primary_id;
    for (const auto& [first, last] : node.slots) line += " " + std::to_string(first) + "-" + std::to_string(last);
    lines.push_back(line);
  }
  std::sort(lines.begin(), lines.end());
  std::string view;
  for (const auto& line : lines) view += line + "\n";
  return view;
}

// A command in RESP, as redis-cli --pipe reads it.
void append_resp(std::string& out, const CliCommand& command) {
  out += "*" + std::to_string(command.size()) + "\r\n";
  for (const auto& word : command) out += "$" + std::to_string(word.size()) + "\r\n" + word + "\r\n";
}

std::uint16_t crc16_xmodem(std::string_view data) {
  std::uint16_t crc = 0;
  for (const char c : data) {
    crc = static_cast<std::uint16_t>(crc ^ (static_cast<unsigned char>(c) << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000U) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021U)
                                 : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

}  // namespace

int key_hash_slot(std::string_view key) {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close != open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return crc16_xmodem(key) & (kClusterSlots - 1);
}

// --- RedisCluster ---

RedisCluster::RedisCluster(ClusterOptions options) : options_(std::move(options)) {
  if (options_.primaries < 3) throw std::invalid_argument("RedisCluster: redis-cli --cluster create needs 3 primaries");
  if (options_.replicas_per_primary < 0) throw std::invalid_argument("RedisCluster: negative replicas_per_primary");

  ServerOptions node = options_.node;
  node.cluster_bus_port = true;
  std::vector<std::pair<std::string, std::string>> config{
      {"cluster-enabled", "yes"},
      {"cluster-config-file", "nodes.conf"},  // relative to the node's dir
      {"cluster-node-timeout", std::to_string(options_.node_timeout_ms)},
      {"repl-diskless-sync-delay", "0"},  // a replica's first sync starts at once, not 5 s later
  };
  if (!node.requirepass.empty()) config.emplace_back("masterauth", config_quote(node.requirepass));
  if (node.tls) {
    if (!node.tls_material) {
      tls_dir_.emplace("sctl-cluster-tls-");
      node.tls_material = make_tls_material(tls_dir_->path());
    }
    // Nodes dial each other as TLS clients: with the client certificate, which tls-auth-clients accepts.
    config.insert(config.end(), {{"tls-cluster", "yes"},
                                 {"tls-replication", "yes"},
                                 {"tls-client-cert-file", config_quote(node.tls_material->client_cert)},
                                 {"tls-client-key-file", config_quote(node.tls_material->client_key)}});
  }
  config.insert(config.end(), node.config.begin(), node.config.end());
  node.config = std::move(config);

  const int count = options_.primaries * (1 + options_.replicas_per_primary);
  for (int i = 0; i < count; ++i) nodes_.push_back(std::make_unique<RedisServer>(node));

  CliCommand create{"--cluster", "create"};
  for (const auto& n : nodes_) create.push_back(port_name(*n));
  create.insert(create.end(), {"--cluster-replicas", std::to_string(options_.replicas_per_primary), "--cluster-yes"});
  const RunResult created = nodes_.front()->cli_run(create, std::nullopt, "", 120000);
  if (created.exit_code != 0 || created.timed_out || !contains(created.out, "[OK] All 16384 slots covered")) {
    std::ostringstream msg;
    msg << "redis-cli --cluster create failed: " << created << "\n" << log_tails();
    throw std::runtime_error(msg.str());
  }
  wait_ok();
}

RedisCluster::~RedisCluster() {
  // A primary shutting down waits (shutdown-timeout) for replicas that lag; stopping them first avoids it.
  try {
    for (auto* replica : replicas()) replica->stop();
  } catch (...) {  // a node that cannot say its role is stopped below all the same
  }
  for (auto& node : nodes_) node->stop();
}

std::vector<RedisServer*> RedisCluster::nodes() const {
  std::vector<RedisServer*> out;
  out.reserve(nodes_.size());
  for (const auto& node : nodes_) out.push_back(node.get());
  return out;
}

std::vector<RedisServer*> RedisCluster::primaries() const {
  std::vector<RedisServer*> out;
  for (const auto& node : nodes_) {
    if (const auto role = role_of(*node); role && role->primary) out.push_back(node.get());
  }
  return out;
}

std::vector<RedisServer*> RedisCluster::replicas() const {
  std::vector<RedisServer*> out;
  for (const auto& node : nodes_) {
    if (const auto role = role_of(*node); role && !role->primary) out.push_back(node.get());
  }
  return out;
}

std::vector<RedisServer*> RedisCluster::replicas_of(const RedisServer& primary) const {
  std::vector<RedisServer*> out;
  for (const auto& node : nodes_) {
    if (const auto role = role_of(*node); role && !role->primary && role->primary_port == primary.port()) {
      out.push_back(node.get());
    }
  }
  return out;
}

std::vector<RedisServer*> RedisCluster::replicas_of(std::size_t i) const { return replicas_of(*primaries().at(i)); }

RedisServer& RedisCluster::node_at(int port) const {
  for (const auto& node : nodes_) {
    if (node->port() == port) return *node;
  }
  throw std::out_of_range("RedisCluster: no node on port " + std::to_string(port));
}

std::string RedisCluster::id_of(const RedisServer& node) const { return trimmed(node.cli({"CLUSTER", "MYID"})); }

std::string RedisCluster::url_of(std::size_t i, const std::string& userinfo) const {
  return nodes_.at(i)->url(userinfo);
}

std::string RedisCluster::seed_url(const std::string& userinfo) const { return url_of(0, userinfo); }

RedisServer& RedisCluster::any_running() const {
  for (const auto& node : nodes_) {
    if (node->running()) return *node;
  }
  throw std::runtime_error("RedisCluster: no node is running");
}

int RedisCluster::slot_of(const std::string& key) const {
  return to_int(trimmed(any_running().cli({"CLUSTER", "KEYSLOT", key})), "CLUSTER KEYSLOT");
}

RedisServer* RedisCluster::owner_of_slot(int slot) const {
  for (const auto& line : parse_cluster_nodes(any_running().cli({"CLUSTER", "NODES"}))) {
    if (line.is_primary() && line.serves(slot)) return &node_at(line.port);
  }
  return nullptr;
}

std::vector<int> RedisCluster::slots_of(const RedisServer& primary) const {
  std::vector<int> out;
  for (const auto& line : parse_cluster_nodes(any_running().cli({"CLUSTER", "NODES"}))) {
    if (line.port != primary.port()) continue;
    for (const auto& [first, last] : line.slots) {
      for (int slot = first; slot <= last; ++slot) out.push_back(slot);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void RedisCluster::migrate_slot(int slot, RedisServer& from, RedisServer& to) {
  const std::string slot_text = std::to_string(slot);
  const std::string from_id = id_of(from);
  const std::string to_id = id_of(to);
  to.cli({"CLUSTER", "SETSLOT", slot_text, "IMPORTING", from_id});
  from.cli({"CLUSTER", "SETSLOT", slot_text, "MIGRATING", to_id});

  CliCommand migrate{"MIGRATE", "127.0.0.1", std::to_string(to.port()), "", "0", "5000"};
  if (!options_.node.requirepass.empty()) migrate.insert(migrate.end(), {"AUTH", options_.node.requirepass});
  migrate.emplace_back("KEYS");
  const auto keys_left = [&] { return to_int(trimmed(from.cli({"CLUSTER", "COUNTKEYSINSLOT", slot_text})), "keys"); };
  for (int left = keys_left(); left > 0;) {
    // redis-cli prints an empty array as one empty line, so empty lines are no keys.
    std::vector<std::string> keys = split_lines(from.cli({"CLUSTER", "GETKEYSINSLOT", slot_text, "100"}));
    keys.erase(std::remove(keys.begin(), keys.end(), ""), keys.end());
    CliCommand batch = migrate;
    batch.insert(batch.end(), keys.begin(), keys.end());
    if (!keys.empty()) from.cli(batch);
    const int now = keys_left();
    if (now >= left) {
      throw std::runtime_error("RedisCluster::migrate_slot: " + std::to_string(now) + " keys of slot " + slot_text +
                               " would not move (an empty key name, or one holding a newline?)");
    }
    left = now;
  }

  // The target first, so it serves the slot before the source starts sending clients there.
  to.cli({"CLUSTER", "SETSLOT", slot_text, "NODE", to_id});
  from.cli({"CLUSTER", "SETSLOT", slot_text, "NODE", to_id});
  for (auto* primary : primaries()) {
    if (primary != &to && primary != &from) primary->cli({"CLUSTER", "SETSLOT", slot_text, "NODE", to_id});
  }
  wait_ok();
}

void RedisCluster::reshard(int count, RedisServer& from, RedisServer& to) {
  wait_ok();  // redis-cli refuses a cluster whose nodes disagree
  const RunResult result =
      any_running().cli_run({"--cluster", "reshard", port_name(any_running()), "--cluster-from", id_of(from),
                             "--cluster-to", id_of(to), "--cluster-slots", std::to_string(count), "--cluster-yes"},
                            std::nullopt, "", 120000);
  if (result.exit_code != 0 || result.timed_out || contains(result.out, "[ERR]")) {
    std::ostringstream msg;
    msg << "redis-cli --cluster reshard failed: " << result;
    throw std::runtime_error(msg.str());
  }
  wait_ok();
}

void RedisCluster::failover(RedisServer& replica) {
  const auto role = role_of(replica);
  if (!role || role->primary)
    throw std::logic_error("RedisCluster::failover: " + port_name(replica) + " is no replica");
  const auto deadline = Clock::now() + 30s;
  replica.cli({"CLUSTER", "FAILOVER"});
  wait_until(
      "RedisCluster::failover: " + port_name(replica) + " primary", deadline,
      [&] {
        const auto now = role_of(replica);
        return now && now->primary ? "" : port_name(replica) + " is not primary yet";
      },
      [this] { return log_tails(); });
  wait_ok(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

void RedisCluster::wait_ok(std::chrono::milliseconds timeout) const {
  const std::string known = std::to_string(nodes_.size());
  const auto problem = [&]() -> std::string {
    std::string first_view;
    for (const auto& node : nodes_) {
      const std::string who = port_name(*node);
      if (!node->running()) return who + " is not running";
      std::string error;
      const auto info = try_cli(*node, {"CLUSTER", "INFO"}, error);
      if (!info) return error;
      for (const auto& [field, want] : {std::pair<const char*, std::string>{"cluster_state", "ok"},
                                        {"cluster_slots_assigned", "16384"},
                                        {"cluster_slots_ok", "16384"},
                                        {"cluster_known_nodes", known}}) {
        const std::string got = info_field(*info, field);
        if (got != want) return who + ": " + field + ":" + got + ", not " + want;
      }
      const auto nodes_text = try_cli(*node, {"CLUSTER", "NODES"}, error);
      if (!nodes_text) return error;
      const auto lines = parse_cluster_nodes(*nodes_text);
      std::string flagged;
      const std::string view = cluster_view(lines, flagged);
      if (!flagged.empty()) return who + " sees " + flagged;
      if (first_view.empty()) {
        first_view = view;
      } else if (view != first_view) {
        return who + " disagrees with " + port_name(*nodes_.front()) + ":\n" + view + "vs\n" + first_view;
      }
      const auto myself = std::find_if(lines.begin(), lines.end(), [](const auto& l) { return l.has_flag("myself"); });
      if (myself == lines.end()) return who + ": CLUSTER NODES has no 'myself' line";
      if (!myself->is_primary()) {
        const auto primary =
            std::find_if(lines.begin(), lines.end(), [&](const auto& l) { return l.id == myself->primary_id; });
        if (primary == lines.end()) return who + " replicates an unknown node " + myself->primary_id;
        if (std::string replication = replication_problem(*node, primary->port); !replication.empty())
          return replication;
      }
    }
    return "";
  };
  wait_until("RedisCluster: cluster ok", Clock::now() + timeout, problem, [this] { return log_tails(); });
}

void RedisCluster::load(const std::vector<CliCommand>& commands) const {
  std::vector<int> owner(kClusterSlots, 0);
  for (const auto& line : parse_cluster_nodes(any_running().cli({"CLUSTER", "NODES"}))) {
    if (!line.is_primary()) continue;
    for (const auto& [first, last] : line.slots) std::fill(owner.begin() + first, owner.begin() + last + 1, line.port);
  }
  std::map<int, std::pair<std::string, std::size_t>> per_port;  // port -> RESP, commands
  for (const auto& command : commands) {
    if (command.size() < 2) throw std::invalid_argument("RedisCluster::load: a command without a key");
    const int slot = key_hash_slot(command[1]);
    if (owner[slot] == 0)
      throw std::runtime_error("RedisCluster::load: slot " + std::to_string(slot) + " has no owner");
    auto& [resp, count] = per_port[owner[slot]];
    append_resp(resp, command);
    ++count;
  }
  for (const auto& [port, batch] : per_port) {
    const auto& [resp, count] = batch;
    const RunResult result = node_at(port).cli_run({"--pipe"}, std::nullopt, resp, 300000);
    // redis-cli ends with "errors: <n>, replies: <m>".
    if (result.exit_code != 0 || result.timed_out ||
        !contains(result.out, "errors: 0, replies: " + std::to_string(count))) {
      std::ostringstream msg;
      msg << "RedisCluster::load: redis-cli --pipe to port " << port << " failed: " << result;
      throw std::runtime_error(msg.str());
    }
  }
}

void RedisCluster::uncover_slot(int slot) {
  const std::string slot_text = std::to_string(slot);
  // DELSLOTS on one node races the gossip of the others: a node that has dropped the slot learns it back
  // from a node that still claims it. So the owner goes first, and every node that still reports
  // cluster_state:ok gets DELSLOTS again on each poll, until no node claims the slot any more.
  RedisServer* owner = owner_of_slot(slot);
  std::vector<RedisServer*> order;
  if (owner != nullptr) order.push_back(owner);
  for (const auto& node : nodes_) {
    if (node.get() != owner) order.push_back(node.get());
  }
  const auto delslots = [&](RedisServer& node) {
    // A node may have dropped the slot already after hearing its owner no longer claims it.
    const RunResult result = node.cli_run({"CLUSTER", "DELSLOTS", slot_text});
    if (result.exit_code != 0 && !contains(result.err + result.out, "already unassigned")) {
      std::ostringstream msg;
      msg << "RedisCluster::uncover_slot: CLUSTER DELSLOTS on " << port_name(node) << ": " << result;
      throw std::runtime_error(msg.str());
    }
  };
  for (auto* node : order) {
    if (node->running()) delslots(*node);
  }
  const auto problem = [&]() -> std::string {
    std::string still_ok;
    for (auto* node : order) {
      if (!node->running()) continue;
      std::string error;
      const auto info = try_cli(*node, {"CLUSTER", "INFO"}, error);
      if (!info) return error;
      if (info_field(*info, "cluster_state") != "fail") {
        delslots(*node);
        if (still_ok.empty()) still_ok = port_name(*node) + " still reports cluster_state:ok";
      }
    }
    return still_ok;
  };
  wait_until("RedisCluster::uncover_slot " + slot_text, Clock::now() + 30s, problem, [this] { return log_tails(); });
}

void RedisCluster::cover_slot(int slot, RedisServer& primary) {
  primary.cli({"CLUSTER", "ADDSLOTS", std::to_string(slot)});
  wait_ok();
}

std::string RedisCluster::log_tails() const {
  std::string out;
  for (const auto& node : nodes_) {
    out += "--- " + port_name(*node) + " (" + node->dir() + ") log tail ---\n" + node->log_tail(kLogTailLines);
  }
  return out;
}

// --- SentinelSet ---

namespace {

// SENTINEL MASTER / REPLICAS in raw output: field and value lines by turns, a new record at each "name".
std::vector<std::map<std::string, std::string>> parse_sentinel_records(const std::string& text) {
  std::vector<std::map<std::string, std::string>> records;
  const auto lines = split_lines(text);
  for (std::size_t i = 0; i + 1 < lines.size(); i += 2) {
    if (lines[i] == "name" || records.empty()) records.emplace_back();
    records.back()[lines[i]] = lines[i + 1];
  }
  return records;
}

}  // namespace

SentinelSet::SentinelSet(SentinelOptions options) : options_(std::move(options)) {
  if (options_.master_name.empty() || contains(options_.master_name, " ")) {
    throw std::invalid_argument("SentinelSet: the master name must be one non-empty word");
  }
  const auto deadline = Clock::now() + 30s;
  const std::string& data_password = options_.data_password;
  ServerOptions data{.requirepass = data_password, .config = {{"repl-diskless-sync-delay", "0"}}};
  // Both data nodes: either may be the replica after a failover.
  if (!data_password.empty()) data.config.emplace_back("masterauth", config_quote(data_password));
  data_.push_back(std::make_unique<RedisServer>(data));
  data.config.emplace_back("replicaof", "127.0.0.1 " + std::to_string(data_[0]->port()));
  data_.push_back(std::make_unique<RedisServer>(data));
  wait_until(
      "SentinelSet: replica in sync", deadline, [this] { return replication_problem(replica(), primary().port()); },
      [this] { return log_tails(); });

  const std::string& name = options_.master_name;
  ServerOptions sentinel{.requirepass = options_.sentinel_password, .sentinel = true};
  sentinel.config = {
      {"sentinel", "monitor " + name + " 127.0.0.1 " + std::to_string(primary().port()) + " 2"},
      {"sentinel", "down-after-milliseconds " + name + " " + std::to_string(options_.down_after_ms)},
      {"sentinel", "failover-timeout " + name + " " + std::to_string(options_.failover_timeout_ms)},
  };
  if (!data_password.empty())
    sentinel.config.emplace_back("sentinel", "auth-pass " + name + " " + config_quote(data_password));
  if (!options_.sentinel_password.empty()) {
    sentinel.config.emplace_back("sentinel", "sentinel-pass " + config_quote(options_.sentinel_password));
  }
  for (int i = 0; i < 3; ++i) sentinels_.push_back(std::make_unique<RedisServer>(sentinel));
  wait_ready(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

SentinelSet::~SentinelSet() {
  stop_all_sentinels();
  replica().stop();
  primary().stop();
}

RedisServer& SentinelSet::primary() const { return *data_.at(primary_); }

RedisServer& SentinelSet::replica() const { return *data_.at(1 - primary_); }

std::vector<RedisServer*> SentinelSet::sentinels() const {
  std::vector<RedisServer*> out;
  out.reserve(sentinels_.size());
  for (const auto& sentinel : sentinels_) out.push_back(sentinel.get());
  return out;
}

std::string SentinelSet::sentinel_url() const {
  std::string url = "redis+sentinel://";
  for (std::size_t i = 0; i < sentinels_.size(); ++i) url += (i == 0 ? "" : ",") + port_name(*sentinels_[i]);
  return url + "/" + options_.master_name;
}

int SentinelSet::reported_master_port(const RedisServer& sentinel) const {
  const auto lines = split_lines(sentinel.cli({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name}));
  if (lines.size() < 2)
    throw std::runtime_error("SENTINEL GET-MASTER-ADDR-BY-NAME: no address for " + options_.master_name);
  return to_int(lines[1], "SENTINEL GET-MASTER-ADDR-BY-NAME port");
}

void SentinelSet::wait_ready(std::chrono::milliseconds timeout) const {
  const std::string& name = options_.master_name;
  const auto problem = [&]() -> std::string {
    std::size_t running = 0;
    for (const auto& sentinel : sentinels_) running += sentinel->running() ? 1 : 0;
    const std::string peers = std::to_string(running == 0 ? 0 : running - 1);
    for (const auto& sentinel : sentinels_) {
      if (!sentinel->running()) continue;
      const std::string who = "sentinel " + port_name(*sentinel);
      std::string error;
      const auto master = try_cli(*sentinel, {"SENTINEL", "MASTER", name}, error);
      if (!master) return error;
      const auto records = parse_sentinel_records(*master);
      if (records.empty()) return who + ": empty SENTINEL MASTER reply";
      const auto& fields = records.front();
      const auto field = [&](const std::string& key) {
        const auto it = fields.find(key);
        return it == fields.end() ? std::string() : it->second;
      };
      if (field("port") != std::to_string(primary().port())) return who + " has master port " + field("port");
      if (field("flags") != "master") return who + " flags the master " + field("flags");
      if (field("num-other-sentinels") != peers)
        return who + " knows " + field("num-other-sentinels") + " other sentinels";
      const auto replicas = try_cli(*sentinel, {"SENTINEL", "REPLICAS", name}, error);
      if (!replicas) return error;
      const auto listed = parse_sentinel_records(*replicas);
      const bool sees_replica = std::any_of(listed.begin(), listed.end(), [this](const auto& r) {
        const auto port = r.find("port");
        const auto flags = r.find("flags");
        return port != r.end() && port->second == std::to_string(replica().port()) && flags != r.end() &&
               flags->second == "slave";
      });
      if (!sees_replica) return who + " does not list " + port_name(replica()) + " as a healthy replica";
    }
    return "";
  };
  wait_until("SentinelSet: sentinels ready", Clock::now() + timeout, problem, [this] { return log_tails(); });
}

void SentinelSet::failover() {
  const auto deadline = Clock::now() + 30s;
  RedisServer& old_primary = primary();
  RedisServer& promoted = replica();
  const auto first = std::find_if(sentinels_.begin(), sentinels_.end(), [](const auto& s) { return s->running(); });
  if (first == sentinels_.end()) throw std::runtime_error("SentinelSet::failover: no sentinel is running");
  (*first)->cli({"SENTINEL", "FAILOVER", options_.master_name});
  const auto promoted_everywhere = [&]() -> std::string {
    for (const auto& sentinel : sentinels_) {
      if (!sentinel->running()) continue;
      std::string error;
      const auto addr = try_cli(*sentinel, {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", options_.master_name}, error);
      if (!addr) return error;
      const auto lines = split_lines(*addr);
      if (lines.size() < 2 || lines[1] != std::to_string(promoted.port())) {
        return "sentinel " + port_name(*sentinel) + " still reports " + (lines.size() < 2 ? "nothing" : lines[1]);
      }
    }
    const auto role = role_of(promoted);
    return role && role->primary ? "" : port_name(promoted) + " does not answer ROLE master";
  };
  wait_until("SentinelSet::failover", deadline, promoted_everywhere, [this] { return log_tails(); });

  old_primary.cli({"REPLICAOF", "127.0.0.1", std::to_string(promoted.port())});
  wait_until(
      "SentinelSet::failover: old primary in sync", deadline,
      [&] { return replication_problem(old_primary, promoted.port()); }, [this] { return log_tails(); });
  primary_ = 1 - primary_;
  wait_ready(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

void SentinelSet::stop_all_sentinels() noexcept {
  for (auto& sentinel : sentinels_) sentinel->stop();
}

std::string SentinelSet::log_tails() const {
  std::string out;
  const auto add = [&](const std::string& what, const RedisServer& server) {
    out += "--- " + what + " " + port_name(server) + " (" + server.dir() + ") log tail ---\n" +
           server.log_tail(kLogTailLines);
  };
  for (std::size_t i = 0; i < data_.size(); ++i) add(i == primary_ ? "primary" : "replica", *data_[i]);
  for (const auto& sentinel : sentinels_) add("sentinel", *sentinel);
  return out;
}

}  // namespace testsupport
