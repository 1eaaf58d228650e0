#include "redis/client.h"

#include <fmt/format.h>

#include <algorithm>

#include "redis/cluster/router.h"
#include "redis/connection.h"
#include "redis/reply_error.h"
#include "redis/sentinel.h"
#include "util/errors.h"

namespace sessionctl::redis {
namespace {

// Pipeline depth per write: large enough to hide round trips, small enough to bound memory.
constexpr std::size_t kPipelineChunk = 8192;

// One SCAN step: sends the cursor, replaces `keys` with the names returned, advances the cursor.
void scan_step(Connection& conn, const ScanRequest& request, std::string& cursor, std::vector<std::string>& keys) {
  Command cmd{"SCAN", cursor, "MATCH", request.pattern, "COUNT", std::to_string(request.count)};
  if (request.type) {
    cmd.push_back("TYPE");
    cmd.push_back(*request.type);
  }
  Reply r = conn.command(cmd);
  checked(r, "SCAN");
  if (r.type != Reply::Type::array || r.elements.size() != 2)
    throw_reply_error(Reply{Reply::Type::error, "ERR unexpected SCAN reply", 0, {}}, "SCAN");
  cursor = std::move(r.elements[0].str);
  keys.clear();
  keys.reserve(r.elements[1].elements.size());
  for (auto& e : r.elements[1].elements) keys.push_back(std::move(e.str));
}

// A SCAN on a second connection to the same server.
class SingleNodeKeyStream : public KeyStream {
 public:
  SingleNodeKeyStream(const ConnectionOptions& options, ScanRequest request)
      : conn_(options), request_(std::move(request)) {}

  bool next(std::vector<std::string>& keys) override {
    if (done_) return false;
    scan_step(conn_, request_, cursor_, keys);
    done_ = cursor_ == "0";
    return true;
  }

 private:
  Connection conn_;
  ScanRequest request_;
  std::string cursor_ = "0";
  bool done_ = false;
};

class SingleNodeClient : public Client {
 public:
  explicit SingleNodeClient(const ConnectionOptions& options, std::optional<SentinelView> sentinel = std::nullopt)
      : conn_(options), sentinel_(std::move(sentinel)) {}

  void scan(const ScanRequest& request, const std::function<bool(std::vector<std::string>&)>& on_batch) override {
    std::string cursor = "0";
    std::vector<std::string> keys;
    do {
      scan_step(conn_, request, cursor, keys);
      if (!keys.empty() && !on_batch(keys)) return;
    } while (cursor != "0");
  }

  std::unique_ptr<KeyStream> open_scan(const ScanRequest& request) override {
    return std::make_unique<SingleNodeKeyStream>(conn_.options(), request);
  }

  std::vector<Reply> run(const std::vector<Command>& commands) override {
    if (commands.size() <= kPipelineChunk) return conn_.pipeline(commands);
    std::vector<Reply> out;
    out.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); i += kPipelineChunk) {
      std::vector<Command> chunk(
          commands.begin() + static_cast<std::ptrdiff_t>(i),
          commands.begin() + static_cast<std::ptrdiff_t>(std::min(commands.size(), i + kPipelineChunk)));
      auto part = conn_.pipeline(chunk);
      std::move(part.begin(), part.end(), std::back_inserter(out));
    }
    return out;
  }

  std::vector<Reply> run(const CommandBuffer& commands) override { return conn_.pipeline(commands); }

  std::vector<NodeReply> each_node(const Command& command, NodeSet /*nodes*/) override {
    return {NodeReply{endpoint(conn_.options()), conn_.command(command)}};
  }

  NoTouch enable_no_touch() override { return no_touch_from(conn_.command({"CLIENT", "NO-TOUCH", "ON"})); }

  const ConnectionOptions& options() const override { return conn_.options(); }

  bool one_transaction(const std::vector<std::string>& /*keys*/) const override { return true; }

  Topology topology() const override {
    Topology t;
    NodeInfo n;
    n.endpoint = endpoint(conn_.options());
    if (sentinel_) {
      t.kind = TopologyKind::sentinel;
      t.sentinel = sentinel_;
      n.role = "primary";  // find_primary checked it with ROLE
    }
    t.nodes.push_back(std::move(n));
    return t;
  }

 private:
  Connection conn_;
  std::optional<SentinelView> sentinel_;
};

// Whether the server is a Redis Cluster node (INFO cluster says cluster_enabled:1). A server that will not
// say (INFO denied, an old server, a proxy) is taken for a single server.
bool is_cluster_node(Client& client) {
  Reply r = client.run1({"INFO", "cluster"});
  if (r.is_error()) {
    if (classify_reply_error(r).scope == ErrorScope::connection) throw_reply_error(r, "INFO cluster");
    return false;
  }
  return r.str.find("cluster_enabled:1") != std::string::npos;
}

}  // namespace

NoTouch no_touch_from(const Reply& reply) {
  if (!reply.is_error()) return NoTouch::on;
  const ReplyErrorInfo info = classify_reply_error(reply);
  if (info.scope == ErrorScope::connection) throw_reply_error(reply, "CLIENT NO-TOUCH");
  return info.cause == ErrorCause::permission ? NoTouch::denied : NoTouch::unsupported;
}

Reply Client::run1(const Command& command) { return std::move(run({command}).front()); }

std::unique_ptr<Client> connect(const ConnectionOptions& options) {
  if (options.sentinel) {
    // A primary that Sentinel monitors is never a cluster node: no cluster check.
    SentinelPrimary primary = find_primary(options);
    return std::make_unique<SingleNodeClient>(primary.options, std::move(primary.view));
  }
  auto client = std::make_unique<SingleNodeClient>(options);
  if (options.single_node || !is_cluster_node(*client)) {
    if (options.read_replicas)
      throw UsageError(
          fmt::format("--replicas reads a Redis Cluster's replicas, and {} is not a cluster node", endpoint(options)));
    return client;
  }
  client.reset();
  return cluster::connect_cluster(options);
}

}  // namespace sessionctl::redis
