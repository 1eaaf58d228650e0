#include "render/line_printer.h"

#include <ostream>

#include "render/terminal.h"

namespace sessionctl {

void LinePrinter::line(std::string_view text) {
  clear_progress();
  err_ << terminal_safe(text) << '\n' << std::flush;
}

void LinePrinter::progress(std::string_view text) {
  if (!tty_) return;
  err_ << "\r\033[K" << terminal_safe(text) << std::flush;
  progress_drawn_ = true;
}

void LinePrinter::clear_progress() {
  if (!progress_drawn_) return;
  err_ << "\r\033[K" << std::flush;
  progress_drawn_ = false;
}

}  // namespace sessionctl
