// A plain text table: headers, aligned columns, optional colour per cell; width-aware on a terminal.
#pragma once

#include <string>
#include <vector>

#include "output/terminal.h"

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
  // Renders with column widths from the rows; the last left-aligned column is truncated to the terminal width.
  std::string render(const Terminal& term) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Cell>> rows_;
};

}  // namespace sessionctl
