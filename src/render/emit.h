// The one output path: a command's result is a Report value that knows its JSON document and its
// table; emit() writes it in the format the user chose. Streams of records (list) use records.h.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "render/format.h"
#include "render/terminal.h"

namespace sessionctl {

class Report {
 public:
  Report() = default;
  Report(const Report&) = default;
  Report(Report&&) = default;
  Report& operator=(const Report&) = default;
  Report& operator=(Report&&) = default;
  virtual ~Report() = default;

  // The result as JSON: a document ({"schema", "version", …}) for a command's result, a plain object
  // for a part of one (list's summary).
  virtual nlohmann::json to_json() const = 0;
  // The result for a person, ending in a newline (or empty).
  virtual std::string to_table(const Terminal& term) const = 0;
  // -o jsonl: the records, one per line; the whole document on one line unless a report has records.
  virtual std::vector<nlohmann::json> to_json_lines() const { return {to_json()}; }
};

// Writes `report` to `out` as a table, one pretty JSON document, or JSON lines; flushes `out`.
void emit(const Report& report, Format format, std::ostream& out, const Terminal& term);

}  // namespace sessionctl
