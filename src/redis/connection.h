// One connection to one Redis server: transport + RESP (hiredis's reader and formatter) + AUTH/SELECT.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "redis/command_buffer.h"
#include "redis/options.h"
#include "redis/reply.h"

namespace sessionctl::redis {

class Transport;

class Connection {
 public:
  // Connects, authenticates and selects the db; throws ConnectionError/TimeoutError/AuthError.
  explicit Connection(ConnectionOptions options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends one command and returns its reply (error replies are returned, not thrown).
  Reply command(const Command& argv);
  // Sends all commands in one write stream and returns the replies in order; reads while writing so
  // that neither side's buffers can deadlock. Error replies are returned in place.
  std::vector<Reply> pipeline(const std::vector<Command>& commands);
  std::vector<Reply> pipeline(const CommandBuffer& commands);

  const ConnectionOptions& options() const { return options_; }

 private:
  void write_and_read(const std::string& out, std::size_t replies, std::vector<Reply>& into);
  void handshake();

  ConnectionOptions options_;
  std::unique_ptr<Transport> transport_;
  struct ReaderDeleter {
    void operator()(void* reader) const;
  };
  std::unique_ptr<void, ReaderDeleter> reader_;
};

// The complete replies in `bytes`, read as a connection reads them (the same reader, the same Reply
// values); an incomplete last reply is left out. Throws ConnectionError on a protocol error. For the
// fuzz targets of the parsers of server replies.
std::vector<Reply> parse_replies(std::string_view bytes);

}  // namespace sessionctl::redis
