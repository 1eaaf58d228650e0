// One byte stream beneath hiredis's protocol code: TCP, Unix socket or TLS (OpenSSL).
// Debian's hiredis 0.14 has no TLS, so sessionctl owns the socket and uses hiredis only for RESP.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "redis/options.h"

namespace sessionctl::redis {

using Clock = std::chrono::steady_clock;

class Transport {
 public:
  virtual ~Transport();

  // Opens the connection (and completes the TLS handshake) before `deadline`; throws ConnectionError/TimeoutError.
  static std::unique_ptr<Transport> open(const ConnectionOptions& options, Clock::time_point deadline);

  // Writes up to n bytes without blocking; returns bytes written (0 = would block). Throws on a broken stream.
  virtual std::size_t write_some(const char* data, std::size_t n) = 0;
  // Reads up to n bytes without blocking; returns bytes read (0 = would block). Throws when the peer closed.
  virtual std::size_t read_some(char* data, std::size_t n) = 0;
  // Bytes already decrypted and waiting, so a poll() on the fd would not show them.
  virtual bool has_buffered() const { return false; }
  // Waits until the fd is readable (and writable when want_write) or the deadline passes; throws TimeoutError.
  void wait(bool want_write, Clock::time_point deadline, const char* what) const;
  // Whether the last would-block wanted the socket writable (TLS may need to write in order to read).
  virtual bool wants_write() const { return false; }
  int fd() const { return fd_; }

 protected:
  explicit Transport(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace sessionctl::redis
