#include "output/records.h"

#include <ostream>

namespace sessionctl {

std::string dump_json(const nlohmann::json& value, bool pretty) {
  return value.dump(pretty ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json json_document(const std::string& schema, int version) {
  return nlohmann::json{{"schema", schema}, {"version", version}};
}

namespace {

// Tables are flushed in chunks so that a million rows never sit in memory; widths only grow.
constexpr std::size_t kTableChunk = 2000;

class TableSink : public RecordSink {
 public:
  TableSink(std::ostream& out, const Terminal& term, RecordStreamSpec spec)
      : out_(out), term_(term), spec_(std::move(spec)) {}

  void add(const nlohmann::json& record) override {
    std::vector<Cell> row;
    row.reserve(spec_.columns.size());
    for (const auto& col : spec_.columns) row.push_back(col.cell(record));
    rows_.push_back(std::move(row));
    if (rows_.size() >= kTableChunk) flush();
  }

  void finish(const nlohmann::json& summary) override {
    flush();
    if (spec_.footer) out_ << spec_.footer(summary, term_);
    out_.flush();
  }

 private:
  void flush() {
    if (rows_.empty()) return;
    std::vector<Table::Column> cols;
    for (const auto& c : spec_.columns) cols.push_back({c.header, c.align});
    Table table(cols);
    for (auto& r : rows_) table.add(std::move(r));
    std::string text = table.render(term_);
    if (printed_header_) text.erase(0, text.find('\n') + 1);
    out_ << text;
    printed_header_ = true;
    rows_.clear();
  }

  std::ostream& out_;
  const Terminal& term_;
  RecordStreamSpec spec_;
  std::vector<std::vector<Cell>> rows_;
  bool printed_header_ = false;
};

class JsonSink : public RecordSink {
 public:
  JsonSink(std::ostream& out, RecordStreamSpec spec) : out_(out), spec_(std::move(spec)) {}

  void add(const nlohmann::json& record) override {
    if (!started_) start();
    out_ << (first_ ? "\n    " : ",\n    ") << dump_json(record, false);
    first_ = false;
  }

  void finish(const nlohmann::json& summary) override {
    if (!started_) start();
    out_ << (first_ ? "],\n" : "\n  ],\n") << "  \"summary\": " << indent(dump_json(summary, true)) << "\n}\n";
    out_.flush();
  }

 private:
  static std::string indent(const std::string& text) {
    std::string out;
    for (char c : text) {
      out += c;
      if (c == '\n') out += "  ";
    }
    return out;
  }

  void start() {
    started_ = true;
    out_ << "{\n  \"schema\": " << nlohmann::json(spec_.schema).dump() << ",\n  \"version\": " << spec_.version
         << ",\n  \"" << spec_.items_key << "\": [";
  }

  std::ostream& out_;
  RecordStreamSpec spec_;
  bool started_ = false;
  bool first_ = true;
};

class JsonLinesSink : public RecordSink {
 public:
  explicit JsonLinesSink(std::ostream& out) : out_(out) {}
  void add(const nlohmann::json& record) override { out_ << dump_json(record, false) << '\n'; }
  void finish(const nlohmann::json&) override { out_.flush(); }

 private:
  std::ostream& out_;
};

}  // namespace

std::unique_ptr<RecordSink> make_record_sink(Format format, std::ostream& out, const Terminal& term,
                                             RecordStreamSpec spec) {
  switch (format) {
    case Format::table:
      return std::make_unique<TableSink>(out, term, std::move(spec));
    case Format::json:
      return std::make_unique<JsonSink>(out, std::move(spec));
    case Format::jsonl:
      return std::make_unique<JsonLinesSink>(out);
  }
  return nullptr;
}

}  // namespace sessionctl
