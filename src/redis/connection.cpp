#include "redis/connection.h"

#include <hiredis/hiredis.h>

#include <fmt/format.h>

#include "errors.h"
#include "redis/transport.h"

namespace sessionctl::redis {
namespace {

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

}  // namespace

void Connection::ReaderDeleter::operator()(void* reader) const { redisReaderFree(static_cast<redisReader*>(reader)); }

Connection::Connection(ConnectionOptions options) : options_(std::move(options)) {
  auto deadline = Clock::now() + options_.connect_timeout;
  transport_ = Transport::open(options_, deadline);
  reader_.reset(redisReaderCreate());
  handshake();
}

Connection::~Connection() = default;

void Connection::handshake() {
  std::vector<Command> cmds;
  if (options_.password) {
    if (options_.user.empty()) {
      cmds.push_back({"AUTH", *options_.password});
    } else {
      cmds.push_back({"AUTH", options_.user, *options_.password});
    }
  }
  if (options_.db != 0) cmds.push_back({"SELECT", std::to_string(options_.db)});
  if (cmds.empty()) cmds.push_back({"PING"});
  std::vector<Reply> replies;
  try {
    replies = pipeline(cmds);
  } catch (const TimeoutError&) {
    throw TimeoutError(fmt::format("{} accepted the connection but did not answer within {} ms (is it a Redis "
                                   "server? a TLS port needs rediss://)",
                                   endpoint(options_), options_.command_timeout.count()));
  }
  for (std::size_t i = 0; i < replies.size(); ++i) {
    Reply r = replies[i];
    if (!r.is_error()) continue;
    // Some servers and proxies echo a command's arguments in errors ("unknown command 'AUTH', with
    // args beginning with: ..."): the password must not reach any output.
    if (options_.password && !options_.password->empty()) {
      for (auto pos = r.str.find(*options_.password); pos != std::string::npos;
           pos = r.str.find(*options_.password, pos + 3)) {
        r.str.replace(pos, options_.password->size(), "***");
      }
    }
    const std::string code = r.error_code();
    if (cmds[i][0] == "SELECT" && code != "NOPERM") {
      throw UsageError(fmt::format("cannot select db {}: {}", options_.db, r.str));
    }
    if (cmds[i][0] == "PING" && code == "NOAUTH") {
      throw AuthError("the server requires a password: give it in the URL, --password-file, --askpass, "
                      "REDISCLI_AUTH or REDIS_PASSWORD");
    }
    throw_reply_error(r, cmds[i][0]);
  }
}

Reply Connection::command(const Command& argv) {
  std::vector<Reply> replies = pipeline({argv});
  return std::move(replies.front());
}

std::vector<Reply> Connection::pipeline(const std::vector<Command>& commands) {
  CommandBuffer buffer;
  for (const auto& c : commands) buffer.add(c);
  return pipeline(buffer);
}

std::vector<Reply> Connection::pipeline(const CommandBuffer& commands) {
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  try {
    write_and_read(commands.resp(), commands.size(), replies);
  } catch (const TimeoutError&) {
    throw TimeoutError(fmt::format("{} did not answer {} within {} ms; raise --timeout or check the server's load",
                                   endpoint(options_), commands.first_name(), options_.command_timeout.count()));
  }
  return replies;
}

void Connection::write_and_read(const std::string& out, std::size_t want, std::vector<Reply>& into) {
  auto* reader = static_cast<redisReader*>(reader_.get());
  std::size_t written = 0;
  std::size_t pending_bytes = 0;  // bytes fed since the last complete reply
  char buf[64 * 1024];
  auto deadline = Clock::now() + options_.command_timeout;
  while (into.size() < want) {
    bool progressed = false;
    if (written < out.size()) {
      std::size_t w = transport_->write_some(out.data() + written, out.size() - written);
      written += w;
      progressed |= w > 0;
    }
    std::size_t r = transport_->read_some(buf, sizeof buf);
    if (r > 0) {
      progressed = true;
      pending_bytes += r;
      if (redisReaderFeed(reader, buf, r) != REDIS_OK) throw ConnectionError("protocol error: cannot buffer reply");
      for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader, &raw) != REDIS_OK) {
          throw ConnectionError(fmt::format("protocol error from {}: {}", endpoint(options_), reader->errstr));
        }
        if (!raw) break;
        auto* rep = static_cast<redisReply*>(raw);
        into.push_back(convert(rep));
        freeReplyObject(rep);
        pending_bytes = reader->len - reader->pos;
        if (into.size() == want) break;
      }
      if (pending_bytes > options_.max_reply_bytes) {
        throw ConnectionError(fmt::format("a reply from {} exceeds the {} MB limit; refusing to buffer it",
                                          endpoint(options_), options_.max_reply_bytes / (1024 * 1024)));
      }
    }
    if (progressed) {
      deadline = Clock::now() + options_.command_timeout;  // the timeout bounds silence, not total work
      continue;
    }
    if (transport_->has_buffered()) continue;
    transport_->wait(written < out.size() || transport_->wants_write(), deadline, "a reply");
  }
}

}  // namespace sessionctl::redis
