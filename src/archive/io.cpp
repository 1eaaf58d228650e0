#include "archive/io.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace sessionctl::archive {

Compression compression_for(const std::string& path) {
  auto ends = [&](const char* s) {
    const std::size_t n = std::strlen(s);
    return path.size() > n && path.compare(path.size() - n, n, s) == 0;
  };
  if (ends(".gz")) return Compression::gzip;
  if (ends(".zst")) return Compression::zstd;
  return Compression::none;
}

std::optional<Compression> parse_compression(std::string_view name) {
  if (name == "none") return Compression::none;
  if (name == "gzip" || name == "gz") return Compression::gzip;
  if (name == "zstd" || name == "zst") return Compression::zstd;
  return std::nullopt;
}

namespace {

constexpr std::size_t kChunk = 256 * 1024;

// SHA-256 through OpenSSL's EVP interface (libcrypto is already linked for TLS).
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
      throw Error(ExitCode::check_failed, "SHA-256 is not available");
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) = delete;
  Sha256& operator=(Sha256&&) = delete;
  void update(std::string_view s) { EVP_DigestUpdate(ctx_, s.data(), s.size()); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    std::string out;
    for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", md[i]);
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Raw bytes to a descriptor (a file under its temporary name, or stdout).
class FdSink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  void write(const char* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EPIPE) throw OutputClosed();
      if (w <= 0) throw WriteError(fmt::format("writing {}: {}", name_, std::strerror(errno)));
      p += w;
      n -= static_cast<std::size_t>(w);
      written_ += w;
    }
  }
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  long long written() const { return written_; }

 private:
  int fd_;
  std::string name_;
  long long written_ = 0;
};

// Compresses (or not) into an FdSink.
class Encoder {
 public:
  Encoder(Compression c, FdSink& sink) : c_(c), sink_(sink) {
    if (c_ == Compression::gzip) {
      std::memset(&z_, 0, sizeof z_);
      if (deflateInit2(&z_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw Error(ExitCode::check_failed, "zlib could not start");
    } else if (c_ == Compression::zstd) {
      zc_ = ZSTD_createCCtx();
      if (zc_ == nullptr) throw Error(ExitCode::check_failed, "zstd could not start");
      ZSTD_CCtx_setParameter(zc_, ZSTD_c_compressionLevel, 3);
      // A content checksum (4 bytes a frame), as gzip has its CRC: a damaged .zst is then refused as a
      // corrupt stream by zstd itself rather than decoded into wrong text.
      ZSTD_CCtx_setParameter(zc_, ZSTD_c_checksumFlag, 1);
    }
  }
  ~Encoder() {
    if (c_ == Compression::gzip) deflateEnd(&z_);
    if (zc_ != nullptr) ZSTD_freeCCtx(zc_);
  }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  Encoder(Encoder&&) = delete;
  Encoder& operator=(Encoder&&) = delete;

  void write(std::string_view in, bool end) {
    if (c_ == Compression::none) {
      sink_.write(in.data(), in.size());
      return;
    }
    out_.resize(kChunk);
    if (c_ == Compression::gzip) {
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));  // NOLINT: zlib's API is not const
      z_.avail_in = static_cast<uInt>(in.size());
      int rc = Z_OK;
      do {
        z_.next_out = reinterpret_cast<Bytef*>(out_.data());
        z_.avail_out = static_cast<uInt>(out_.size());
        rc = deflate(&z_, end ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_ERROR) throw Error(ExitCode::check_failed, "gzip compression failed");
        sink_.write(out_.data(), out_.size() - z_.avail_out);
      } while (z_.avail_out == 0 || (end && rc != Z_STREAM_END));
      return;
    }
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
      const std::size_t left = ZSTD_compressStream2(zc_, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(left) != 0U)
        throw Error(ExitCode::check_failed, fmt::format("zstd compression failed: {}", ZSTD_getErrorName(left)));
      sink_.write(out_.data(), ob.pos);
      if (end ? left == 0 : ib.pos == ib.size) break;
    }
  }

 private:
  Compression c_;
  FdSink& sink_;
  z_stream z_{};
  ZSTD_CCtx* zc_ = nullptr;
  std::string out_;
};

class FileOutput : public Output {
 public:
  FileOutput(const std::string& path, Compression c) : path_(path) {
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    if (base.empty()) throw UsageError(fmt::format("'{}' names a directory, not a file", path));
    temp_ = (slash == std::string::npos ? "" : dir) + "." + base +
            fmt::format(".tmp-{}-{}", ::getpid(), std::random_device{}());
    const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw UsageError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    sink_ = std::make_unique<FdSink>(fd, path);
    enc_ = std::make_unique<Encoder>(c, *sink_);
  }
  ~FileOutput() override {
    enc_.reset();
    if (sink_) ::close(sink_->fd());
    if (!finished_) ::unlink(temp_.c_str());
  }
  FileOutput(const FileOutput&) = delete;
  FileOutput& operator=(const FileOutput&) = delete;
  FileOutput(FileOutput&&) = delete;
  FileOutput& operator=(FileOutput&&) = delete;

  void write(std::string_view bytes) override { enc_->write(bytes, false); }
  void finish() override {
    enc_->write({}, true);
    if (::fsync(sink_->fd()) != 0) throw WriteError(fmt::format("writing {}: {}", path_, std::strerror(errno)));
    if (::rename(temp_.c_str(), path_.c_str()) != 0)
      throw WriteError(fmt::format("cannot put {} in place: {}", path_, std::strerror(errno)));
    finished_ = true;
  }
  long long bytes_written() const override { return sink_->written(); }

 private:
  std::string path_, temp_;
  std::unique_ptr<FdSink> sink_;
  std::unique_ptr<Encoder> enc_;
  bool finished_ = false;
};

class DescriptorOutput : public Output {
 public:
  DescriptorOutput(int fd, const std::string& name, Compression c) : sink_(fd, name), enc_(c, sink_) {}
  void write(std::string_view bytes) override { enc_.write(bytes, false); }
  void finish() override { enc_.write({}, true); }
  long long bytes_written() const override { return sink_.written(); }

 private:
  FdSink sink_;
  Encoder enc_;
};

// Reads raw bytes, decompresses them as the first bytes say, and splits lines.
class DecodingInput : public LineInput {
 public:
  DecodingInput(int fd, bool owned, std::string name) : fd_(fd), owned_(owned), name_(std::move(name)) {
    raw_.resize(kChunk);
    fill_raw();
    const auto* b = reinterpret_cast<const unsigned char*>(raw_.data());
    if (raw_len_ >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
      c_ = Compression::gzip;
      if (inflateInit2(&z_, 15 + 32) != Z_OK) throw Error(ExitCode::check_failed, "zlib could not start");
    } else if (raw_len_ >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
      c_ = Compression::zstd;
      zd_ = ZSTD_createDCtx();
      if (zd_ == nullptr) throw Error(ExitCode::check_failed, "zstd could not start");
    }
  }
  ~DecodingInput() override {
    if (c_ == Compression::gzip) inflateEnd(&z_);
    if (zd_ != nullptr) ZSTD_freeDCtx(zd_);
    if (owned_) ::close(fd_);
  }
  DecodingInput(const DecodingInput&) = delete;
  DecodingInput& operator=(const DecodingInput&) = delete;
  DecodingInput(DecodingInput&&) = delete;
  DecodingInput& operator=(DecodingInput&&) = delete;

  bool next(std::string& line) override {
    line.clear();
    for (;;) {
      // From where the last search stopped: a long line arriving chunk by chunk is scanned once.
      const std::size_t nl = text_.find('\n', std::max(at_, scanned_));
      if (nl != std::string::npos) {
        line.assign(text_, at_, nl - at_);
        at_ = nl + 1;
        scanned_ = at_;
        newline_ = true;
        ++lines_;
        return true;
      }
      if (text_.size() - at_ > kMaxLine)
        throw FormatError(fmt::format("{} line {}: longer than {} MiB", name_, lines_ + 1, kMaxLine >> 20));
      scanned_ = text_.size() - at_;
      text_.erase(0, at_);
      at_ = 0;
      if (!decode_more()) {
        if (text_.empty()) return false;
        line.swap(text_);
        text_.clear();
        newline_ = false;
        ++lines_;
        return true;
      }
    }
  }
  bool ended_with_newline() const override { return newline_; }
  Compression compression() const override { return c_; }

 private:
  void fill_raw() {
    for (;;) {
      const ssize_t n = ::read(fd_, raw_.data(), raw_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw UsageError(fmt::format("reading {}: {}", name_, std::strerror(errno)));
      raw_len_ = static_cast<std::size_t>(n);
      raw_at_ = 0;
      eof_ = n == 0;
      return;
    }
  }
  // Appends decoded bytes to text_; false at the end of the input.
  bool decode_more() {
    if (raw_at_ == raw_len_) {
      if (eof_) return finish_check();
      fill_raw();
      if (eof_) return finish_check();
    }
    if (c_ == Compression::none) {
      text_.append(raw_.data() + raw_at_, raw_len_ - raw_at_);
      raw_at_ = raw_len_;
      return true;
    }
    char out[kChunk];
    if (c_ == Compression::gzip) {
      if (stream_end_) {
        // Another gzip member may follow (concatenated files): start it.
        if (inflateReset(&z_) != Z_OK) corrupt("gzip");
        stream_end_ = false;
      }
      z_.next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_at_);
      z_.avail_in = static_cast<uInt>(raw_len_ - raw_at_);
      z_.next_out = reinterpret_cast<Bytef*>(out);
      z_.avail_out = sizeof out;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) corrupt("gzip");
      stream_end_ = rc == Z_STREAM_END;
      raw_at_ = raw_len_ - z_.avail_in;
      text_.append(out, sizeof out - z_.avail_out);
      return true;
    }
    ZSTD_inBuffer ib{raw_.data() + raw_at_, raw_len_ - raw_at_, 0};
    ZSTD_outBuffer ob{out, sizeof out, 0};
    const std::size_t rc = ZSTD_decompressStream(zd_, &ob, &ib);
    if (ZSTD_isError(rc) != 0U) corrupt("zstd");
    zstd_pending_ = rc != 0;
    raw_at_ += ib.pos;
    text_.append(out, ob.pos);
    return true;
  }
  bool finish_check() {
    if (c_ == Compression::gzip && !stream_end_) corrupt("gzip");
    if (c_ == Compression::zstd && zstd_pending_) corrupt("zstd");
    return false;
  }
  [[noreturn]] void corrupt(const char* what) const {
    throw FormatError(fmt::format("{} line {}: the {} stream is corrupt or cut short", name_, lines_ + 1, what));
  }

  int fd_;
  bool owned_;
  std::string name_;
  std::string raw_;
  std::size_t raw_len_ = 0, raw_at_ = 0;
  bool eof_ = false;
  Compression c_ = Compression::none;
  z_stream z_{};
  ZSTD_DCtx* zd_ = nullptr;
  bool stream_end_ = false, zstd_pending_ = false;
  std::string text_;
  std::size_t at_ = 0, scanned_ = 0;
  bool newline_ = true;
  std::size_t lines_ = 0;
};

}  // namespace

std::unique_ptr<Output> open_file_output(const std::string& path, Compression c) {
  return std::make_unique<FileOutput>(path, c);
}

std::unique_ptr<Output> open_fd_output(int fd, const std::string& name, Compression c) {
  return std::make_unique<DescriptorOutput>(fd, name, c);
}

std::unique_ptr<LineInput> open_input(const std::string& path) {
  if (path == "-") return std::make_unique<DecodingInput>(0, false, "stdin");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UsageError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw UsageError(fmt::format("{} is a directory, not an archive", path));
  }
  return std::make_unique<DecodingInput>(fd, true, path);
}

struct ArchiveWriter::Hash : Sha256 {};
struct ArchiveReader::Hash : Sha256 {};

ArchiveWriter::ArchiveWriter(std::unique_ptr<Output> out, const Header& header)
    : out_(std::move(out)), hash_(std::make_unique<Hash>()) {
  out_->write(header_line(header));
}

ArchiveWriter::~ArchiveWriter() = default;

void ArchiveWriter::add(const Record& r) {
  buf_.clear();
  append_record_line(buf_, r);
  hash_->update(buf_);
  out_->write(buf_);
  ++records_;
}

void ArchiveWriter::commit() {
  out_->write(trailer_line(Trailer{records_, sessions_, hash_->hex()}));
  out_->finish();
}

ArchiveReader::ArchiveReader(const std::string& path, bool accept_partial)
    : name_(path == "-" ? "stdin" : path),
      in_(open_input(path)),
      hash_(std::make_unique<Hash>()),
      accept_partial_(accept_partial) {
  std::string first;
  if (!in_->next(first)) throw FormatError(fmt::format("{}: empty: not a sessionctl archive", name_));
  line_ = 1;
  header_ = parse_header(first, where());
}

ArchiveReader::~ArchiveReader() = default;

std::string ArchiveReader::where() const { return fmt::format("{} line {}", name_, line_); }

// The trailer at line_: its count and SHA-256 against what was read, and nothing after it.
void ArchiveReader::finish_at_trailer() {
  const Trailer t = parse_trailer(text_, where());
  if (t.records != records_)
    throw FormatError(
        fmt::format("{}: the trailer counts {} records, the archive holds {}", where(), t.records, records_));
  if (t.sha256 != hash_->hex())
    throw FormatError(fmt::format("{}: checksum mismatch: the records were changed or damaged", where()));
  std::string extra;
  if (in_->next(extra)) throw FormatError(fmt::format("{} line {}: text after the trailer", name_, line_ + 1));
  complete_ = true;
  done_ = true;
}

void ArchiveReader::check_all() {
  while (in_->next(text_)) {
    ++line_;
    if (is_trailer(text_)) {
      finish_at_trailer();
      return;
    }
    if (!in_->ended_with_newline()) break;
    hash_->update(text_);
    hash_->update("\n");
    ++records_;
  }
  if (!accept_partial_)
    throw FormatError(
        fmt::format("{}: incomplete: it ends at line {} without its trailer (cut short; "
                    "--partial reads what is there)",
                    name_, line_));
}

bool ArchiveReader::next(Record& r) {
  if (done_) return false;
  if (!in_->next(text_)) {
    done_ = true;
    if (accept_partial_) return false;
    throw FormatError(
        fmt::format("{}: incomplete: it ends at line {} without its trailer (cut short; "
                    "--partial reads what is there)",
                    name_, line_));
  }
  ++line_;
  if (is_trailer(text_)) {
    // A writer that stopped between the parts of a key, with the checksum right: still not whole.
    if (last_more_)
      throw FormatError(fmt::format("{}: the trailer comes where part {} of the key before it was expected", where(),
                                    last_part_ + 1));
    finish_at_trailer();
    return false;
  }
  if (!in_->ended_with_newline()) {
    if (!accept_partial_)
      throw FormatError(
          fmt::format("{}: incomplete: the last record is cut short (--partial reads what is there)", where()));
    done_ = true;
    return false;
  }
  r = parse_record(text_, where());
  if (last_more_ && (r.key != last_key_ || r.part != last_part_ + 1))
    throw FormatError(fmt::format("{}: part {} of the key before it was expected next", where(), last_part_ + 1));
  if (last_more_ && r.kind != last_kind_)
    throw FormatError(fmt::format("{}: part {} of a {} is a {}: the parts of a key have one type", where(), r.part,
                                  kind_name(last_kind_), kind_name(r.kind)));
  if (!last_more_ && r.part != 0)
    throw FormatError(fmt::format("{}: part {} of a key whose first part is not right before it", where(), r.part));
  last_key_ = r.key;
  last_part_ = r.part;
  last_more_ = r.more;
  last_kind_ = r.kind;
  hash_->update(text_);
  hash_->update("\n");
  ++records_;
  return true;
}

}  // namespace sessionctl::archive
