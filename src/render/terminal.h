// The one place that knows about terminals: whether stdout/stderr are ttys, colour, width, prompts.
#pragma once

#include <string>

namespace sessionctl {

enum class Style { plain, bold, dim, red, green, yellow, cyan };

class Terminal {
 public:
  // Looks at the real process: isatty, NO_COLOR, TERM=dumb, COLUMNS; no_color forces colour off.
  static Terminal detect(bool no_color);
  // A terminal with fixed properties, for tests and for output that is not a tty.
  static Terminal plain(int width = 0);

  bool stdout_is_tty() const { return stdout_tty_; }
  bool stderr_is_tty() const { return stderr_tty_; }
  bool stdin_is_tty() const { return stdin_tty_; }
  bool color() const { return color_; }
  int width() const { return width_; }  // 0 = unlimited (not a terminal)

  // Wraps text in ANSI colour when colour is on.
  std::string paint(Style style, const std::string& text) const;
  // Asks a question on the controlling terminal without echo (passwords); throws UsageError without a tty
  // and Interrupted on Ctrl-C at the prompt.
  std::string read_secret(const std::string& prompt) const;
  // Asks yes/no on the terminal; false on anything but y/yes.
  bool confirm(const std::string& question) const;

 private:
  bool stdout_tty_ = false, stderr_tty_ = false, stdin_tty_ = false, color_ = false;
  int width_ = 0;
};

// Display width of a UTF-8 string in columns (wide CJK counted as 2, combining marks as 0).
std::size_t display_width(const std::string& text);

// Replaces control characters (newline, tab, escape…) with visible escapes so a value cannot break a table
// or inject terminal sequences. Invalid UTF-8 bytes become \xNN.
std::string printable(const std::string& text);

}  // namespace sessionctl
