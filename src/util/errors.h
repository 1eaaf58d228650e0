// Error types with the exit code each one means (SPEC section 4).
// Layers throw these; run_main in commands/app.cpp is the one place that turns them into a line and a code.
#pragma once

#include <stdexcept>
#include <string>

namespace sessionctl {

enum class ExitCode : int {
  ok = 0,
  check_failed = 1,  // a check failed or some items failed
  usage = 2,         // usage or bad input, or a refusal
  connect = 3,       // cannot connect, TLS failure or timeout
  auth = 4,          // WRONGPASS, NOPERM
  not_found = 5,     // the named session does not exist
  interrupted = 130,
};

// Base of every error sessionctl reports; what() is one line without the "sessionctl: error: " prefix.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

// Bad flags, malformed URL, malformed profiles file, refusal to act without --yes.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& m) : Error(ExitCode::usage, m) {}
};

// Network, TLS, timeout, protocol breakage: anything that means "no usable connection".
class ConnectionError : public Error {
 public:
  explicit ConnectionError(const std::string& m) : Error(ExitCode::connect, m) {}
};

// A timeout on connect or on a command.
class TimeoutError : public ConnectionError {
 public:
  explicit TimeoutError(const std::string& m) : ConnectionError(m) {}
};

// WRONGPASS, NOAUTH, NOPERM and friends.
class AuthError : public Error {
 public:
  explicit AuthError(const std::string& m) : Error(ExitCode::auth, m) {}
};

// The server answered a command with an error reply that is not about auth.
class ReplyError : public Error {
 public:
  explicit ReplyError(const std::string& m) : Error(ExitCode::check_failed, m) {}
};

class NotFoundError : public Error {
 public:
  explicit NotFoundError(const std::string& m) : Error(ExitCode::not_found, m) {}
};

// Raised by a check (doctor, smoke) that found problems, after its report was printed.
class CheckFailed : public Error {
 public:
  explicit CheckFailed(const std::string& m) : Error(ExitCode::check_failed, m) {}
};

// Standard output could not be written (disk full, a closed descriptor): what was printed is incomplete.
class WriteError : public Error {
 public:
  explicit WriteError(const std::string& m) : Error(ExitCode::check_failed, m) {}
};

// The reader of standard output went away (EPIPE: `sessionctl list | head -1`). Not a failure: the
// command stops at once and exits quietly, as ripgrep does; run_main catches it before Error.
class OutputClosed : public Error {
 public:
  OutputClosed() : Error(ExitCode::ok, "standard output was closed by its reader") {}
};

class Interrupted : public Error {
 public:
  Interrupted() : Error(ExitCode::interrupted, "interrupted") {}
};

}  // namespace sessionctl
