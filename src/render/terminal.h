// The one place that knows about terminals: whether stdout/stderr are ttys, colour, width, prompts.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "render/line_printer.h"

namespace sessionctl {

enum class Style { plain, bold, dim, red, green, yellow, cyan };

class Terminal {
 public:
  // Looks at the real process: isatty, NO_COLOR, TERM=dumb, COLUMNS; no_color forces colour off.
  static Terminal detect(bool no_color);
  // A terminal with fixed properties, for tests and for output that is not a tty.
  static Terminal plain(int width = 0, bool color = false);

  bool stdout_is_tty() const { return stdout_tty_; }
  bool stderr_is_tty() const { return stderr_tty_; }
  bool stdin_is_tty() const { return stdin_tty_; }
  bool color() const { return color_; }
  int width() const { return width_; }  // 0 = unlimited (not a terminal)

  // Wraps text in ANSI colour when colour is on; trailing newlines stay outside the colour.
  std::string paint(Style style, const std::string& text) const;
  // The one stderr printer (warnings, notes, errors, progress); shared by copies of this terminal.
  LinePrinter& printer() const { return *printer_; }
  // Asks a question on the controlling terminal without echo (passwords); throws UsageError without a tty
  // and Interrupted on Ctrl-C at the prompt.
  std::string read_secret(const std::string& prompt) const;
  // Asks yes/no on the terminal; false on anything but y/yes.
  bool confirm(const std::string& question) const;

 private:
  bool stdout_tty_ = false, stderr_tty_ = false, stdin_tty_ = false, color_ = false;
  int width_ = 0;
  std::shared_ptr<LinePrinter> printer_;
};

// Display width of a UTF-8 string in columns (wide CJK counted as 2, combining marks as 0).
std::size_t display_width(const std::string& text);

// Replaces control characters (newline, tab, escape…) with visible escapes so a value cannot break a table
// or inject terminal sequences. Invalid UTF-8 bytes become \xNN.
// Bidi controls (U+202E…) and line separators become \uXXXX.
std::string printable(const std::string& text);

// What reaches a terminal from text that is already meant for people: control, C1 and bidi characters
// and invalid UTF-8 escaped as printable() does, backslashes left alone (printable()'s output passes
// unchanged). Newlines and tabs stay when keep_newlines.
std::string terminal_safe(std::string_view text, bool keep_newlines = true);

// A rendered table or report on its way to stdout: terminal_safe(), except that the colours paint()
// writes pass. Whatever a renderer forgot to escape (a profile name from --profiles-file) is caught here.
std::string safe_rendering(std::string_view text);

}  // namespace sessionctl
