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
      widths[c] = std::max(widths[c], display_width(row[c].text));
    }
  }
  return widths;
}

std::string Table::render(const Terminal& term) const {
  std::vector<std::size_t> widths = natural_widths();
  // On a terminal, shrink the last column rather than wrap every line.
  if (term.width() > 0 && !widths.empty()) {
    std::size_t total = 0;
    for (std::size_t c = 0; c + 1 < widths.size(); ++c) total += widths[c] + 2;
    auto avail = static_cast<std::size_t>(term.width());
    if (total + widths.back() > avail && avail > total + 8) widths.back() = avail - total;
  }
  std::string out;
  auto line = [&](const std::vector<Cell>& cells, bool header) {
    std::string text;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const Cell empty;
      const Cell& cell = c < cells.size() ? cells[c] : empty;
      std::string value = truncate_to(cell.text, widths[c]);
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
