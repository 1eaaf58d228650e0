// A plain text table: headers, aligned columns, optional colour per cell; width-aware on a terminal.
#pragma once

#include <string>
#include <vector>

#include "render/terminal.h"

namespace sessionctl {

enum class Align { left, right };

struct Cell {
  std::string text;
  Style style = Style::plain;
};

class Table {
 public:
  struct Column {
    std::string header;
    Align align = Align::left;
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  std::size_t size() const { return rows_.size(); }
  // Columns are at least this wide: a table streamed in chunks keeps its earlier chunks' widths.
  void set_min_widths(std::vector<std::size_t> widths) { min_widths_ = std::move(widths); }
  // Each column's width before fitting to the terminal: the widest of header, rows and minimum.
  std::vector<std::size_t> natural_widths() const;
  // Renders with column widths from the rows; the last left-aligned column is truncated to the terminal width.
  std::string render(const Terminal& term) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Cell>> rows_;
  std::vector<std::size_t> min_widths_;
};

}  // namespace sessionctl
