// Streams of records (one per session, key, finding…) rendered by one sink per format:
// a table, one JSON document with a schema name and version, or JSON lines.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "output/format.h"
#include "output/table.h"
#include "output/terminal.h"

namespace sessionctl {

// Serialises JSON for output; invalid UTF-8 in strings is replaced rather than thrown on.
std::string dump_json(const nlohmann::json& value, bool pretty);

// The envelope every JSON document carries: {"schema": "sessionctl.<name>", "version": N}.
nlohmann::json json_document(const std::string& schema, int version);

// A table column computed from a record.
struct RecordColumn {
  std::string header;
  Align align = Align::left;
  std::function<Cell(const nlohmann::json&)> cell;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Emits one record; memory stays flat whatever the number of records.
  virtual void add(const nlohmann::json& record) = 0;
  // Ends the stream; `summary` goes into the JSON document, or is rendered under the table by `footer`.
  virtual void finish(const nlohmann::json& summary) = 0;
};

struct RecordStreamSpec {
  std::string schema;           // "sessionctl.list"
  int version = 1;
  std::string items_key = "items";
  std::vector<RecordColumn> columns;
  // Text printed under the table (to stdout) from the summary; may be empty.
  std::function<std::string(const nlohmann::json& summary, const Terminal&)> footer;
};

std::unique_ptr<RecordSink> make_record_sink(Format format, std::ostream& out, const Terminal& term,
                                             RecordStreamSpec spec);

}  // namespace sessionctl
