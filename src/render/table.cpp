#include "render/table.h"

#include <algorithm>

#include "util/utf8.h"

namespace sessionctl {
namespace {

std::string pad(const std::string& text, std::size_t width, Align align) {
  std::size_t w = display_width(text);
  if (w >= width) return text;
  std::string fill(width - w, ' ');
  return align == Align::left ? text + fill : fill + text;
}

std::string truncate_to(const std::string& text, std::size_t width) {
  if (display_width(text) <= width) return text;
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    // Whole code points only; a byte that is no UTF-8 goes alone (display_width counts it as \xNN).
    const std::size_t len = std::max<std::size_t>(1, utf8_sequence_length(text, i));
    std::string next = out + text.substr(i, len);
    if (display_width(next) + 1 > width) break;
    out = std::move(next);
    i += len;
  }
  return out + "…";
}

}  // namespace

std::vector<std::size_t> Table::natural_widths() const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = display_width(columns_[c].header);
    if (c < min_widths_.size()) widths[c] = std::max(widths[c], min_widths_[c]);
  }
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(terminal_safe(row[c].text, false)));
    }
  }
  return widths;
}

std::string Table::render(const Terminal& term) const {
  std::vector<std::size_t> widths = natural_widths();
  // On a terminal, shrink the last column rather than wrap every line; when that is not enough (a wide
  // STATE column), the widest left-aligned column gives up a column at a time, never below its header
  // or 8 columns. Numbers (right-aligned) are never cut. A table that cannot fit so is left whole, for
  // the terminal to wrap, rather than cut to unreadable stumps.
  if (term.width() > 0 && !widths.empty()) {
    auto avail = static_cast<std::size_t>(term.width());
    std::vector<std::size_t> fitted = widths;
    std::size_t total = 0;
    for (std::size_t c = 0; c + 1 < fitted.size(); ++c) total += fitted[c] + 2;
    if (total + fitted.back() > avail && avail > total + 8) fitted.back() = avail - total;
    total += fitted.back();
    auto floor = [&](std::size_t c) { return std::max<std::size_t>(display_width(columns_[c].header), 8); };
    while (total > avail) {
      std::size_t widest = fitted.size();
      for (std::size_t c = 0; c < fitted.size(); ++c) {
        if (columns_[c].align != Align::left || fitted[c] <= floor(c)) continue;
        if (widest == fitted.size() || fitted[c] > fitted[widest]) widest = c;
      }
      if (widest == fitted.size()) break;
      --fitted[widest];
      --total;
    }
    if (total <= avail) widths = std::move(fitted);
  }
  std::string out;
  auto line = [&](const std::vector<Cell>& cells, bool header) {
    std::string text;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const Cell empty;
      const Cell& cell = c < cells.size() ? cells[c] : empty;
      std::string value = truncate_to(terminal_safe(cell.text, false), widths[c]);
      bool last = c + 1 == columns_.size();
      std::string padded = last && columns_[c].align == Align::left ? value : pad(value, widths[c], columns_[c].align);
      text += header ? term.paint(Style::bold, padded) : term.paint(cell.style, padded);
      if (!last) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  std::vector<Cell> header;
  for (const auto& col : columns_) header.push_back({col.header, Style::bold});
  line(header, true);
  for (const auto& row : rows_) line(row, false);
  return out;
}

}  // namespace sessionctl
