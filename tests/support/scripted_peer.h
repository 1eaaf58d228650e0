#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "unique_fd.h"

namespace testsupport {

// A raw TCP peer on 127.0.0.1 for failure injection only, not a Redis stand-in. A background thread
// accepts connections; whenever data arrives on one it answers with `response` (a fixed byte string),
// then, if close_after, half-closes and closes it. With hang it never answers and keeps the socket
// open, reading and discarding. Used for "closes mid-reply", "-LOADING" and "never answers" cases.
class ScriptedPeer {
 public:
  // Listens on a free loopback port and starts the thread; throws std::system_error on failure.
  explicit ScriptedPeer(std::string response, bool close_after = true, bool hang = false);
  ScriptedPeer(const ScriptedPeer&) = delete;
  ScriptedPeer& operator=(const ScriptedPeer&) = delete;
  // Stops the thread and closes every socket.
  ~ScriptedPeer();

  // The listening port.
  int port() const noexcept { return port_; }
  // "redis://127.0.0.1:<port>/0", for pointing a client at the peer.
  std::string url() const;
  // How many connections have been accepted so far.
  int connections() const noexcept { return connections_.load(); }
  // Everything received so far on all connections, in arrival order per read.
  std::string received() const;

 private:
  void serve();

  std::string response_;
  bool close_after_;
  bool hang_;
  UniqueFd listener_;
  UniqueFd wake_read_;
  UniqueFd wake_write_;
  int port_ = 0;
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::string received_;
  std::thread thread_;
};

}  // namespace testsupport
