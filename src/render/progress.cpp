#include "render/progress.h"

#include <fmt/format.h>

namespace sessionctl {

Progress::Progress(LinePrinter& printer, bool enabled, std::string what, long long total)
    : printer_(printer),
      enabled_(enabled),
      what_(std::move(what)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { finish(); }

void Progress::update(long long done) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(200)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  std::string line = fmt::format("{} {} ({:.0f}/s)", done, what_, rate);
  if (total_ > 0 && rate > 0 && done <= total_) {
    line += fmt::format(", {:.0f}%, ETA {:.0f}s", 100.0 * static_cast<double>(done) / static_cast<double>(total_),
                        static_cast<double>(total_ - done) / rate);
  }
  printer_.progress(line);
}

void Progress::finish() {
  if (enabled_) printer_.clear_progress();
}

}  // namespace sessionctl
