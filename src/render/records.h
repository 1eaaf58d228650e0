// Streams of records (one per session, key, finding…) rendered by one sink per format:
// a table, one JSON document with a schema name and version, or JSON lines.
#pragma once

#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "json/text.h"
#include "render/emit.h"
#include "render/format.h"
#include "render/table.h"
#include "render/terminal.h"

namespace sessionctl {

// Serialises JSON for output; invalid UTF-8 in strings is replaced rather than thrown on.
std::string dump_json(const nlohmann::json& value, bool pretty);

// The envelope every JSON document carries: {"schema": "sessionctl.<name>", "version": N}.
nlohmann::json json_document(const std::string& schema, int version);

// One item of a stream: it knows its compact JSON form and its table row. Hot streams (list over
// millions of sessions) write their JSON directly instead of building a DOM per item.
class Record {
 public:
  virtual ~Record() = default;
  // Appends one compact JSON object.
  virtual void append_json(std::string& out) const = 0;
  // The table row, one cell per column of the stream.
  virtual std::vector<Cell> cells() const = 0;
};

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Emits one record; memory stays flat whatever the number of records.
  virtual void add(const Record& record) = 0;
  // Ends the stream: `summary`'s JSON goes into the document's "summary", its table form under the table.
  virtual void finish(const Report& summary) = 0;
};

struct RecordStreamSpec {
  std::string schema;  // "sessionctl.list"
  int version = 1;
  std::string items_key = "items";
  std::vector<Table::Column> columns;
};

std::unique_ptr<RecordSink> make_record_sink(Format format, std::ostream& out, const Terminal& term,
                                             RecordStreamSpec spec);

}  // namespace sessionctl
