// Progress on long work (sessions done, rate, ETA when the total is known) on stderr, only when
// stderr is a terminal; silent otherwise so that scripts and logs see nothing.
#pragma once

#include <chrono>
#include <string>

#include "render/line_printer.h"

namespace sessionctl {

class Progress {
 public:
  // Draws through `printer`; `enabled` is false when stderr is not a tty or --quiet was given. `total` 0 = unknown.
  Progress(LinePrinter& printer, bool enabled, std::string what, long long total = 0);
  ~Progress();
  // Records that `done` items are finished; redraws at most five times a second.
  void update(long long done);
  // Clears the line.
  void finish();

 private:
  LinePrinter& printer_;
  bool enabled_;
  std::string what_;
  long long total_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace sessionctl
