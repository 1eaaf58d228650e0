#include "render/records.h"

#include <ostream>

#include "util/utf8.h"

namespace sessionctl {

std::string dump_json(const nlohmann::json& value, bool pretty) {
  const int indent = pretty ? 2 : -1;
  const auto replace = nlohmann::json::error_handler_t::replace;
  // A document reads "schema" and "version" first (as list's streamed JSON does); other keys stay sorted.
  if (value.is_object() && value.contains("schema") && value.contains("version")) {
    nlohmann::ordered_json doc;
    doc["schema"] = value["schema"];
    doc["version"] = value["version"];
    for (const auto& [k, v] : value.items()) {
      if (k != "schema" && k != "version") doc[k] = v;
    }
    return doc.dump(indent, ' ', false, replace);
  }
  return value.dump(indent, ' ', false, replace);
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

  void add(const Record& record) override {
    rows_.push_back(record.cells());
    if (rows_.size() >= kTableChunk) flush();
  }

  void finish(const Report& summary) override {
    flush();
    out_ << safe_rendering(summary.to_table(term_));
    out_.flush();
  }

 private:
  void flush() {
    if (rows_.empty()) return;
    Table table(spec_.columns);
    for (auto& r : rows_) table.add(std::move(r));
    table.set_min_widths(widths_);
    widths_ = table.natural_widths();
    std::string text = table.render(term_);
    if (printed_header_) text.erase(0, text.find('\n') + 1);
    out_ << safe_rendering(text);
    printed_header_ = true;
    rows_.clear();
  }

  std::ostream& out_;
  const Terminal& term_;
  RecordStreamSpec spec_;
  std::vector<std::vector<Cell>> rows_;
  std::vector<std::size_t> widths_;  // grows chunk by chunk, so columns never narrow mid-table
  bool printed_header_ = false;
};

class JsonSink : public RecordSink {
 public:
  JsonSink(std::ostream& out, RecordStreamSpec spec) : out_(out), spec_(std::move(spec)) {}

  void add(const Record& record) override {
    if (!started_) start();
    line_.assign(first_ ? "\n    " : ",\n    ");
    record.append_json(line_);
    out_ << line_;
    first_ = false;
  }

  void finish(const Report& summary) override {
    if (!started_) start();
    out_ << (first_ ? "],\n" : "\n  ],\n") << "  \"summary\": " << indent(dump_json(summary.to_json(), true))
         << "\n}\n";
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
  std::string line_;
};

class JsonLinesSink : public RecordSink {
 public:
  explicit JsonLinesSink(std::ostream& out) : out_(out) {}
  void add(const Record& record) override {
    record.append_json(buf_);
    buf_ += '\n';
    if (buf_.size() > (1u << 16)) flush();
  }
  void finish(const Report&) override {
    flush();
    out_.flush();
  }

 private:
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
  }
  std::ostream& out_;
  std::string buf_;
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
