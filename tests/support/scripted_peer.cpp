#include "scripted_peer.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <list>
#include <system_error>
#include <vector>

#include "process.h"

namespace testsupport {

namespace {

using Clock = std::chrono::steady_clock;

// After answering and half-closing, wait this long for the client to close first, so our close does
// not turn unread client bytes into an RST that could destroy the reply before the client reads it.
constexpr auto kLinger = std::chrono::seconds(2);

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct Connection {
  UniqueFd fd;
  std::string pending;    // bytes of the answer not yet written
  bool answered = false;  // data arrived and the answer was queued
  bool shut = false;      // answered and half-closed; draining until the client closes
  Clock::time_point shut_at{};
};

}  // namespace

ScriptedPeer::ScriptedPeer(std::string response, bool close_after, bool hang)
    : response_(std::move(response)), close_after_(close_after), hang_(hang) {
  listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listener_) throw_errno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A port below 50000, as every test server uses: free_port() found one free; another process may take it first.
  for (int attempt = 0;; ++attempt) {
    addr.sin_port = htons(static_cast<std::uint16_t>(free_port()));
    if (::bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
    if (errno != EADDRINUSE || attempt == 20) throw_errno("bind");
  }
  if (::listen(listener_.get(), 64) != 0) throw_errno("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) throw_errno("getsockname");
  port_ = ntohs(addr.sin_port);
  std::array<int, 2> wake{};
  if (::pipe2(wake.data(), O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("pipe2");
  wake_read_.reset(wake[0]);
  wake_write_.reset(wake[1]);
  thread_ = std::thread([this] { serve(); });
}

ScriptedPeer::~ScriptedPeer() {
  const char byte = 'x';
  [[maybe_unused]] const auto written = ::write(wake_write_.get(), &byte, 1);
  thread_.join();
}

std::string ScriptedPeer::url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

std::string ScriptedPeer::received() const {
  const std::lock_guard lock(mutex_);
  return received_;
}

void ScriptedPeer::serve() {
  std::list<Connection> conns;
  std::array<char, 65536> buf{};
  while (true) {
    std::vector<pollfd> pfds{{wake_read_.get(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    for (const auto& c : conns) {
      const short events = static_cast<short>(POLLIN | (c.pending.empty() ? 0 : POLLOUT));
      pfds.push_back({c.fd.get(), events, 0});
    }
    if (::poll(pfds.data(), pfds.size(), 100) < 0 && errno != EINTR) return;
    if ((pfds[0].revents & POLLIN) != 0) return;  // destructor asked us to stop

    if ((pfds[1].revents & POLLIN) != 0) {
      while (true) {
        const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break;
        conns.push_back(Connection{UniqueFd(fd), {}, false, false, {}});
        ++connections_;
      }
    }

    std::size_t index = 2;
    for (auto it = conns.begin(); it != conns.end(); ++index) {
      Connection& c = *it;
      // Connections accepted in this round have no pollfd yet.
      const short revents = index < pfds.size() ? pfds[index].revents : short{0};
      bool drop = false;
      if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::recv(c.fd.get(), buf.data(), buf.size(), 0);
        if (n > 0) {
          {
            const std::lock_guard lock(mutex_);
            received_.append(buf.data(), static_cast<std::size_t>(n));
          }
          if (!hang_ && !c.shut) {
            c.pending += response_;
            c.answered = true;
          }
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
          drop = true;  // the client closed (or broke) the connection
        }
      }
      if (!drop && !c.pending.empty()) {
        const ssize_t n = ::send(c.fd.get(), c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
        if (n > 0) {
          c.pending.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          drop = true;
        }
      }
      if (!drop && c.answered && c.pending.empty() && close_after_ && !c.shut) {
        ::shutdown(c.fd.get(), SHUT_WR);
        c.shut = true;
        c.shut_at = Clock::now();
      }
      if (c.shut && Clock::now() - c.shut_at > kLinger) drop = true;
      it = drop ? conns.erase(it) : std::next(it);
    }
  }
}

}  // namespace testsupport
