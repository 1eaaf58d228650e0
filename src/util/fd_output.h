// Standard output that cannot fail silently: a stream buffer over a file descriptor that throws
// WriteError when a write fails and OutputClosed when the reader has gone (EPIPE).
#pragma once

#include <streambuf>
#include <vector>

namespace sessionctl {

class FdOutputBuf : public std::streambuf {
 public:
  // Buffers writes to `fd`; a line-buffered one (a terminal) writes out at each newline.
  FdOutputBuf(int fd, bool line_buffered);
  FdOutputBuf(const FdOutputBuf&) = delete;
  FdOutputBuf& operator=(const FdOutputBuf&) = delete;
  // Writes what is left, ignoring errors (a destructor cannot report them: flush before).
  ~FdOutputBuf() override;

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  // Writes the buffer out; throws WriteError or OutputClosed.
  void drain();
  void write_all(const char* data, std::size_t size);

  int fd_;
  bool line_buffered_;
  bool failed_ = false;  // after a failure nothing more is written, not even by the destructor
  std::vector<char> buf_;
};

// A standard descriptor the shell left closed (`>&-`) would be reused by the next open(), and output
// meant for stdout would go into a Redis socket: 0, 1 and 2 are pointed at /dev/null opened read-only,
// so writes to them fail (EBADF) and are reported.
void guard_standard_fds();

}  // namespace sessionctl
