#include "util/fd_output.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "util/errors.h"

namespace sessionctl {

namespace {
constexpr std::size_t kBufferSize = 1 << 16;
}  // namespace

FdOutputBuf::FdOutputBuf(int fd, bool line_buffered) : fd_(fd), line_buffered_(line_buffered), buf_(kBufferSize) {
  setp(buf_.data(), buf_.data() + buf_.size());
}

FdOutputBuf::~FdOutputBuf() {
  try {
    drain();
  } catch (...) {  // NOLINT(bugprone-empty-catch): nowhere to report it; run_main flushes before this
  }
}

void FdOutputBuf::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n >= 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {  // a non-blocking descriptor inherited from the shell
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    failed_ = true;
    if (errno == EPIPE) throw OutputClosed();
    throw WriteError(std::string("cannot write to standard output: ") + std::strerror(errno));
  }
}

void FdOutputBuf::drain() {
  if (failed_) {
    setp(buf_.data(), buf_.data() + buf_.size());
    return;
  }
  const auto pending = static_cast<std::size_t>(pptr() - pbase());
  setp(buf_.data(), buf_.data() + buf_.size());
  write_all(buf_.data(), pending);
}

FdOutputBuf::int_type FdOutputBuf::overflow(int_type c) {
  drain();
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  *pptr() = traits_type::to_char_type(c);
  pbump(1);
  if (line_buffered_ && c == '\n') drain();
  return c;
}

std::streamsize FdOutputBuf::xsputn(const char* s, std::streamsize n) {
  const auto size = static_cast<std::size_t>(n);
  if (size > static_cast<std::size_t>(epptr() - pptr())) {
    drain();
    if (size >= buf_.size()) {
      if (!failed_) write_all(s, size);
      return n;
    }
  }
  std::memcpy(pptr(), s, size);
  pbump(static_cast<int>(size));
  if (line_buffered_ && std::memchr(s, '\n', size)) drain();
  return n;
}

int FdOutputBuf::sync() {
  drain();
  return 0;
}

void guard_standard_fds() {
  // O_RDONLY on 1 and 2: any write there fails with EBADF, reported as a write error.
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      int opened = ::open("/dev/null", O_RDONLY);
      if (opened >= 0 && opened != fd) {
        ::dup2(opened, fd);
        ::close(opened);
      }
    }
  }
}

}  // namespace sessionctl
