#include "redis/connection.h"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>

#include "redis/reply_error.h"
#include "redis/transport.h"
#include "util/errors.h"

namespace sessionctl::redis {
namespace {

// hiredis's reader builds our Reply values directly (no redisReply tree to copy from): the reader
// calls these for each element; children are constructed in place inside their parent's vector.
// An array's elements are added as they arrive, not made when its header says how many there will be:
// a header of "*2000000000" from a broken or hostile server would otherwise allocate ~160 GB at once
// (the fuzz target server_replies found it). Safe with hiredis: it fills an array's elements in order
// and finishes a nested array before the next sibling, so growing a vector moves only finished elements.
Reply* place(const redisReadTask* task) {
  if (task->parent) {
    auto* parent = static_cast<Reply*>(task->parent->obj);
    const auto idx = static_cast<std::size_t>(task->idx);
    if (parent->elements.size() <= idx) parent->elements.resize(idx + 1);
    return &parent->elements[idx];
  }
  return new Reply();
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  Reply* r = place(task);
  r->type = task->type == REDIS_REPLY_ERROR    ? Reply::Type::error
            : task->type == REDIS_REPLY_STATUS ? Reply::Type::status
                                               : Reply::Type::string;
  r->str.assign(str, len);
  return r;
}

void* create_array(const redisReadTask* task, int elements) {
  Reply* r = place(task);
  r->type = Reply::Type::array;
  constexpr std::size_t kReserveAtMost = 4096;  // see place()
  r->elements.reserve(std::min(static_cast<std::size_t>(elements < 0 ? 0 : elements), kReserveAtMost));
  return r;
}

void* create_integer(const redisReadTask* task, long long value) {
  Reply* r = place(task);
  r->type = Reply::Type::integer;
  r->integer = value;
  return r;
}

void* create_nil(const redisReadTask* task) {
  Reply* r = place(task);
  r->type = Reply::Type::nil;
  return r;
}

// Only ever called on top-level objects (children live inside their parent).
void free_object(void* obj) { delete static_cast<Reply*>(obj); }

redisReplyObjectFunctions reply_functions = {create_string, create_array, create_integer, create_nil, free_object};

}  // namespace

void Connection::ReaderDeleter::operator()(void* reader) const { redisReaderFree(static_cast<redisReader*>(reader)); }

Connection::Connection(ConnectionOptions options) : options_(std::move(options)) {
  auto deadline = Clock::now() + options_.connect_timeout;
  transport_ = Transport::open(options_, deadline);
  reader_.reset(redisReaderCreateWithFunctions(&reply_functions));
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
    throw TimeoutError(
        fmt::format("{} accepted the connection but did not answer within {} ms (is it a Redis "
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
    const ReplyErrorInfo info = classify_reply_error(r);
    // Only a plain command error is about the db number; NOPERM, BUSY or LOADING on SELECT are not.
    if (cmds[i][0] == "SELECT" && info.scope == ErrorScope::command && info.cause == ErrorCause::other) {
      throw UsageError(fmt::format("cannot select db {}: {}", options_.db, r.str));
    }
    if (cmds[i][0] == "PING" && info.code == "NOAUTH") {
      // The user name is not echoed: whoever wrote redis://secret@host in redis-cli's sense typed a password there.
      throw AuthError(fmt::format(
          "the server requires a password: give it in the URL, --password-file, --askpass, REDISCLI_AUTH or "
          "REDIS_PASSWORD{}",
          options_.user.empty() ? ""
                                : " (a user name was given but no password: user-info without ':' is a user "
                                  "name, redis://:PASSWORD@host is a password)"));
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
        std::unique_ptr<Reply> reply(static_cast<Reply*>(raw));
        into.push_back(std::move(*reply));
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

std::vector<Reply> parse_replies(std::string_view bytes) {
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader(redisReaderCreateWithFunctions(&reply_functions),
                                                              redisReaderFree);
  if (!reader) throw ConnectionError("out of memory for a reply reader");
  std::vector<Reply> out;
  if (redisReaderFeed(reader.get(), bytes.data(), bytes.size()) != REDIS_OK)
    throw ConnectionError("protocol error: cannot buffer reply");
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK)
      throw ConnectionError(fmt::format("protocol error: {}", reader->errstr));
    if (!raw) return out;
    std::unique_ptr<Reply> reply(static_cast<Reply*>(raw));
    out.push_back(std::move(*reply));
  }
}

}  // namespace sessionctl::redis
