// The one writer of stderr: warnings, notes, errors and the progress line. A message printed while a
// progress line is drawn clears that line first, so the two never run into each other (ninja's LinePrinter).
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>

namespace sessionctl {

class LinePrinter {
 public:
  // Writes to `err`; progress is drawn only when `tty` (stderr is a terminal).
  LinePrinter(std::ostream& err, bool tty) : err_(err), tty_(tty) {}

  // One whole line: `text` (control and bidi characters escaped) and a newline, flushed.
  void line(std::string_view text);
  // Redraws the progress line in place; does nothing when stderr is not a terminal.
  void progress(std::string_view text);
  // Clears a drawn progress line.
  void clear_progress();
  bool tty() const { return tty_; }

 private:
  std::ostream& err_;
  bool tty_;
  bool progress_drawn_ = false;
};

}  // namespace sessionctl
