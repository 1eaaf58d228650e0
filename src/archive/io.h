// Archives on disk and on pipes: written under a temporary name (mode 0600) and renamed only when
// complete, or to a descriptor (stdout, for `| age`); compressed with gzip (zlib) or zstd (libzstd) by
// the file's name; read back from a file or stdin with the compression found from magic bytes. Records
// stream both ways: memory holds one line and the compressor's window.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "archive/format.h"

namespace sessionctl::archive {

enum class Compression { none, gzip, zstd };
// *.gz → gzip, *.zst → zstd, anything else none.
Compression compression_for(const std::string& path);
std::optional<Compression> parse_compression(std::string_view name);  // "none", "gzip", "zstd"

// Where bytes go. finish() flushes the compressor and, for a file, fsyncs and renames it into place;
// without it (an error, Ctrl-C) the destructor removes the temporary file. A failed write (disk full,
// file-size limit) throws WriteError naming the file, and the partial file is removed.
class Output {
 public:
  virtual ~Output() = default;
  Output() = default;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  Output(Output&&) = delete;
  Output& operator=(Output&&) = delete;
  virtual void write(std::string_view bytes) = 0;
  virtual void finish() = 0;
  virtual long long bytes_written() const = 0;  // after compression
};
std::unique_ptr<Output> open_file_output(const std::string& path, Compression c);
std::unique_ptr<Output> open_fd_output(int fd, const std::string& name, Compression c);

// Lines of an archive from a file or a descriptor ("-": stdin), decompressed as its first bytes say.
class LineInput {
 public:
  virtual ~LineInput() = default;
  LineInput() = default;
  LineInput(const LineInput&) = delete;
  LineInput& operator=(const LineInput&) = delete;
  LineInput(LineInput&&) = delete;
  LineInput& operator=(LineInput&&) = delete;
  // The next line without its '\n'; false at the end. `ended_with_newline` says whether the last
  // line read had one (a cut file's last line has not). Throws FormatError for a corrupt stream.
  virtual bool next(std::string& line) = 0;
  virtual bool ended_with_newline() const = 0;
  virtual Compression compression() const = 0;
};
std::unique_ptr<LineInput> open_input(const std::string& path);

// Writes header, records and trailer, keeping the count and the SHA-256.
class ArchiveWriter {
 public:
  ArchiveWriter(std::unique_ptr<Output> out, const Header& header);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;
  ArchiveWriter(ArchiveWriter&&) = delete;
  ArchiveWriter& operator=(ArchiveWriter&&) = delete;

  void add(const Record& r);
  // Marks the start of another session (the trailer counts them).
  void session_started() { ++sessions_; }
  // Writes the trailer and puts the file in place.
  void commit();
  long long records() const { return records_; }
  long long sessions() const { return sessions_; }
  long long bytes_written() const { return out_->bytes_written(); }

 private:
  struct Hash;
  std::unique_ptr<Output> out_;
  std::unique_ptr<Hash> hash_;
  std::string buf_;
  long long records_ = 0, sessions_ = 0;
};

// Reads an archive record by record, checking as it goes: the header first, each record's form and
// the order of parts, and at the end the trailer's count and SHA-256. Errors name the file and line.
class ArchiveReader {
 public:
  // accept_partial: an archive cut before its trailer is read as far as it goes (its records are
  // still checked one by one); without it, a missing trailer is an error at the end.
  ArchiveReader(const std::string& path, bool accept_partial = false);
  ~ArchiveReader();
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;
  ArchiveReader(ArchiveReader&&) = delete;
  ArchiveReader& operator=(ArchiveReader&&) = delete;

  const Header& header() const { return header_; }
  // The next record; false after the trailer was read and checked. Throws FormatError.
  bool next(Record& r);
  // Reads every line to the end checking only the count and the SHA-256 against the trailer (no
  // record is parsed): import's first pass over a file, so a damaged archive changes nothing.
  void check_all();
  bool complete() const { return complete_; }  // a trailer was read and matched
  const std::string& name() const { return name_; }
  std::size_t line() const { return line_; }
  std::string where() const;
  Compression compression() const { return in_->compression(); }

 private:
  struct Hash;
  void finish_at_trailer();
  std::string name_;
  std::unique_ptr<LineInput> in_;
  std::unique_ptr<Hash> hash_;
  Header header_;
  std::string text_;
  std::size_t line_ = 0;
  long long records_ = 0;
  bool accept_partial_ = false, complete_ = false, done_ = false;
  std::string last_key_;
  std::size_t last_part_ = 0;
  bool last_more_ = false;
  KeyKind last_kind_ = KeyKind::string;
};

}  // namespace sessionctl::archive
