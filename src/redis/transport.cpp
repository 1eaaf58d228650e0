#include "redis/transport.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "util/errors.h"
#include "util/interrupt.h"

namespace sessionctl::redis {
namespace {

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

std::string errno_text(int err) { return std::strerror(err); }

void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// Connects a non-blocking socket, waiting at most until the deadline.
bool connect_with_deadline(int fd, const sockaddr* addr, socklen_t len, Clock::time_point deadline, int& err) {
  if (::connect(fd, addr, len) == 0) return true;
  if (errno != EINPROGRESS && errno != EAGAIN) {
    err = errno;
    return false;
  }
  pollfd p{fd, POLLOUT, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) check_interrupted();  // Ctrl-C must not wait for the timeout
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    err = ETIMEDOUT;
    return false;
  }
  socklen_t sl = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0) err = errno;
  return err == 0;
}

class SocketTransport : public Transport {
 public:
  explicit SocketTransport(int fd) : Transport(fd) {}

  std::size_t write_some(const char* data, std::size_t n) override {
    ssize_t w = ::send(fd_, data, n, MSG_NOSIGNAL);
    if (w >= 0) return static_cast<std::size_t>(w);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    throw ConnectionError(fmt::format("connection lost while sending: {}", errno_text(errno)));
  }

  std::size_t read_some(char* data, std::size_t n) override {
    ssize_t r = ::recv(fd_, data, n, 0);
    if (r > 0) return static_cast<std::size_t>(r);
    if (r == 0) throw ConnectionError("the server closed the connection");
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    throw ConnectionError(fmt::format("connection lost while reading: {}", errno_text(errno)));
  }
};

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  // The reason is the last colon-separated field: "certificate verify failed".
  std::string s = buf;
  auto pos = s.rfind(':');
  return pos == std::string::npos ? s : s.substr(pos + 1);
}

class TlsTransport : public Transport {
 public:
  TlsTransport(int fd, const ConnectionOptions& o, Clock::time_point deadline) : Transport(fd) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    ctx_holder_.reset(ctx_);
    if (!ctx_) throw ConnectionError("cannot initialise TLS: " + ssl_error_text());
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    const TlsOptions& t = o.tls;
    if (!t.cacert.empty() || !t.cacertdir.empty()) {
      if (SSL_CTX_load_verify_locations(ctx_, t.cacert.empty() ? nullptr : t.cacert.c_str(),
                                        t.cacertdir.empty() ? nullptr : t.cacertdir.c_str()) != 1) {
        fail_setup(fmt::format("cannot load CA certificates from {}: {}", t.cacert.empty() ? t.cacertdir : t.cacert,
                               ssl_error_text()));
      }
    } else {
      SSL_CTX_set_default_verify_paths(ctx_);
    }
    if (!t.cert.empty()) {
      if (t.key.empty()) fail_setup("--cert needs --key (the client certificate's private key)");
      if (SSL_CTX_use_certificate_chain_file(ctx_, t.cert.c_str()) != 1) {
        fail_setup(fmt::format("cannot load client certificate {}: {}", t.cert, ssl_error_text()));
      }
      // An encrypted key would make OpenSSL prompt on the terminal; fail with a clear message instead.
      SSL_CTX_set_default_passwd_cb(ctx_, [](char*, int, int, void*) { return 0; });
      if (SSL_CTX_use_PrivateKey_file(ctx_, t.key.c_str(), SSL_FILETYPE_PEM) != 1) {
        fail_setup(
            fmt::format("cannot load client key {}: {} (an encrypted key must be decrypted first: "
                        "openssl pkey -in KEY -out KEY.plain)",
                        t.key, ssl_error_text()));
      }
    }
    SSL_CTX_set_verify(ctx_, t.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);

    ssl_ = SSL_new(ctx_);
    ssl_holder_.reset(ssl_);
    SSL_set_fd(ssl_, fd_);
    std::string name = t.sni.empty() ? o.host : t.sni;
    in6_addr a6{};
    in_addr a4{};
    bool is_ip = inet_pton(AF_INET, name.c_str(), &a4) == 1 || inet_pton(AF_INET6, name.c_str(), &a6) == 1;
    if (!is_ip) SSL_set_tlsext_host_name(ssl_, name.c_str());
    if (!t.insecure) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      if (is_ip) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      }
    }
    handshake(deadline);
  }

  std::size_t write_some(const char* data, std::size_t n) override {
    ERR_clear_error();
    int w = SSL_write(ssl_, data, static_cast<int>(n > (1u << 30) ? (1u << 30) : n));
    if (w > 0) return static_cast<std::size_t>(w);
    return would_block(w, "sending");
  }

  std::size_t read_some(char* data, std::size_t n) override {
    ERR_clear_error();
    int r = SSL_read(ssl_, data, static_cast<int>(n > (1u << 30) ? (1u << 30) : n));
    if (r > 0) return static_cast<std::size_t>(r);
    return would_block(r, "reading");
  }

  bool has_buffered() const override { return SSL_pending(ssl_) > 0; }
  bool wants_write() const override { return want_write_; }

 private:
  [[noreturn]] void fail_setup(const std::string& message) { throw UsageError(message); }

  std::size_t would_block(int rc, const char* what) {
    int e = SSL_get_error(ssl_, rc);
    if (e == SSL_ERROR_WANT_READ) {
      want_write_ = false;
      return 0;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
      want_write_ = true;
      return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN) throw ConnectionError("the server closed the TLS connection");
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      throw ConnectionError(fmt::format("the server closed the connection while {}", what));
    }
    throw ConnectionError(fmt::format("TLS error while {}: {}", what, ssl_error_text()));
  }

  void handshake(Clock::time_point deadline) {
    for (;;) {
      ERR_clear_error();
      int rc = SSL_connect(ssl_);
      if (rc == 1) return;
      int e = SSL_get_error(ssl_, rc);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        wait(e == SSL_ERROR_WANT_WRITE, deadline, "the TLS handshake");
        continue;
      }
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        throw ConnectionError(fmt::format(
            "TLS certificate verification failed: {} (pass the server's CA with --cacert, check the host name "
            "or --sni; --insecure skips verification)",
            X509_verify_cert_error_string(verify)));
      }
      std::string reason = ERR_peek_error() ? ssl_error_text() : "the server closed the connection";
      throw ConnectionError(
          fmt::format("TLS handshake failed: {} (is this a TLS port? use redis:// for plain TCP)", reason));
    }
  }

  // Owned through unique_ptr so that a constructor that throws still frees them.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx_holder_{nullptr, &SSL_CTX_free};
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl_holder_{nullptr, &SSL_free};
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool want_write_ = false;
};

// getaddrinfo() has no timeout and a dead DNS server stalls it for tens of seconds, so a host name
// is resolved on a helper thread and waited for until the connect deadline. A lookup that outlives
// it is abandoned: the thread frees its own result when it finally returns.
int resolve_with_deadline(const std::string& host, const std::string& port, addrinfo** res,
                          Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, res) == 0) return 0;  // an address: no lookup
  hints.ai_flags = 0;
  struct Lookup {
    std::mutex m;
    std::condition_variable cv;
    bool done = false, abandoned = false;
    int rc = 0;
    addrinfo* res = nullptr;
  };
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host, port, hints] {
    addrinfo* r = nullptr;
    int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &r);
    std::lock_guard<std::mutex> lock(lookup->m);
    if (lookup->abandoned) {
      if (rc == 0) freeaddrinfo(r);
      return;
    }
    lookup->rc = rc;
    lookup->res = r;
    lookup->done = true;
    lookup->cv.notify_one();
  }).detach();
  std::unique_lock<std::mutex> lock(lookup->m);
  while (!lookup->done) {
    auto step = std::min(deadline, Clock::now() + std::chrono::milliseconds(100));
    lookup->cv.wait_until(lock, step);
    if (lookup->done) break;
    if (interrupted() || Clock::now() >= deadline) {
      lookup->abandoned = true;
      lock.unlock();
      check_interrupted();
      throw TimeoutError(
          fmt::format("cannot resolve host '{}' within the connect timeout; check DNS or use an IP "
                      "address (--connect-timeout raises the limit)",
                      host));
    }
  }
  *res = lookup->res;
  return lookup->rc;
}

int open_tcp(const ConnectionOptions& o, Clock::time_point deadline) {
  addrinfo* res = nullptr;
  std::string port = std::to_string(o.port);
  int gai = resolve_with_deadline(o.host, port, &res, deadline);
  if (gai != 0) {
    throw ConnectionError(fmt::format("cannot resolve host '{}': {}; check the URL's host", o.host, gai_strerror(gai)));
  }
  int last_err = 0;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      last_err = errno;
      continue;
    }
    set_nonblocking(fd);
    int err = 0;
    if (connect_with_deadline(fd, ai->ai_addr, ai->ai_addrlen, deadline, err)) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      freeaddrinfo(res);
      return fd;
    }
    ::close(fd);
    last_err = err;
    if (err == ETIMEDOUT) break;
  }
  freeaddrinfo(res);
  if (last_err == ETIMEDOUT) {
    throw TimeoutError(
        fmt::format("cannot connect to {}: timed out after {} ms; check that the server is up and "
                    "reachable, or raise --connect-timeout",
                    endpoint(o), o.connect_timeout.count()));
  }
  throw ConnectionError(fmt::format("cannot connect to {}: {}; check that redis-server is running there", endpoint(o),
                                    errno_text(last_err)));
}

int open_unix(const ConnectionOptions& o, Clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (o.path.size() >= sizeof(addr.sun_path)) throw UsageError("unix socket path is too long");
  std::memcpy(addr.sun_path, o.path.c_str(), o.path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) throw ConnectionError(fmt::format("cannot create socket: {}", errno_text(errno)));
  set_nonblocking(fd);
  int err = 0;
  if (!connect_with_deadline(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr, deadline, err)) {
    ::close(fd);
    if (err == ETIMEDOUT) throw TimeoutError(fmt::format("cannot connect to {}: timed out", o.path));
    throw ConnectionError(fmt::format("cannot connect to unix socket {}: {}; check the path and its permissions",
                                      o.path, errno_text(err)));
  }
  return fd;
}

}  // namespace

Transport::~Transport() { ::close(fd_); }

void Transport::wait(bool want_write, Clock::time_point deadline, const char* what) const {
  pollfd p{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
  for (;;) {
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return;
    if (rc == 0) throw TimeoutError(fmt::format("timed out waiting for {}", what));
    if (errno != EINTR) throw ConnectionError(fmt::format("poll failed: {}", errno_text(errno)));
    check_interrupted();  // Ctrl-C must not wait for a silent server's timeout
  }
}

std::unique_ptr<Transport> Transport::open(const ConnectionOptions& o, Clock::time_point deadline) {
  switch (o.scheme) {
    case Scheme::unix_socket:
      return std::make_unique<SocketTransport>(open_unix(o, deadline));
    case Scheme::tcp:
      return std::make_unique<SocketTransport>(open_tcp(o, deadline));
    case Scheme::tls: {
      int fd = open_tcp(o, deadline);
      try {
        return std::make_unique<TlsTransport>(fd, o, deadline);
      } catch (const TimeoutError&) {
        throw TimeoutError(
            fmt::format("TLS handshake with {} timed out after {} ms (is this a TLS port? use redis:// for plain TCP)",
                        endpoint(o), o.connect_timeout.count()));
      }
    }
  }
  throw UsageError("unknown scheme");
}

}  // namespace sessionctl::redis
