// What every subcommand's run function gets: the global options, the terminal, the output streams,
// and helpers that turn global options into a connection and a profile set.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "config/settings.h"
#include "redis/client.h"
#include "render/emit.h"
#include "render/format.h"
#include "render/terminal.h"
#include "session/profile.h"

namespace sessionctl::cli {

struct Context {
  GlobalOptions global;
  Terminal term = Terminal::plain();
  std::ostream* out = nullptr;  // results only; stderr goes through term.printer()

  Format format() const { return parse_format(global.output); }
  // Resolves the URL/password/TLS flags and connects; prints the --insecure warning.
  std::unique_ptr<redis::Client> connect() const;
  // connect(), then CLIENT NO-TOUCH on where the server has it and allows it (*no_touch says which).
  // Nothing more: read-only is the caller's discipline, not a property of the connection.
  std::unique_ptr<redis::Client> connect_no_touch(redis::NoTouch* no_touch = nullptr) const;
  // The resolved connection settings without connecting (for redacted display). Resolved once and
  // remembered, so that --askpass prompts only once however often a command asks.
  const ResolvedConnection& resolved() const;
  // Built-in profiles, merged with --profiles-file, narrowed by --profile.
  ProfileSet profiles() const;
  // Whether progress may be drawn on stderr (a terminal, and not --quiet).
  bool show_progress() const { return term.stderr_is_tty() && !global.quiet; }
  // A warning line on stderr ("sessionctl: warning: …"), unless --quiet.
  void warn(const std::string& message) const;
  // An informational line on stderr, unless --quiet.
  void note(const std::string& message) const;
  // Writes a command's result to stdout in the chosen --output format.
  void emit(const Report& report) const { sessionctl::emit(report, format(), *out, term); }

  // Filled by the first resolved(); kept public so Context stays an aggregate.
  mutable std::optional<ResolvedConnection> resolved_cache;
};

}  // namespace sessionctl::cli
