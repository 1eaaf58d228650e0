// The archive part on its own (no Redis): records of every type round trip exactly through plain, gzip
// and zstd files and descriptors; each kind of damaged input is refused with its own message naming the
// file and line (exit 2); files appear only when complete, mode 0600, and a failed write leaves nothing.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "util/errors.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using sessionctl::ExitCode;
using sessionctl::WriteError;
using sessionctl::archive::ArchiveReader;
using sessionctl::archive::ArchiveWriter;
using sessionctl::archive::Compression;
using sessionctl::archive::FormatError;
using sessionctl::archive::Header;
using sessionctl::archive::KeyKind;
using sessionctl::archive::Record;
namespace fs = std::filesystem;

namespace {

// A fresh directory under TMPDIR, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/archive-test-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) FAIL("mkdtemp failed: " << std::strerror(errno));
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir(ScratchDir&&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;

  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

Header test_header() {
  Header h;
  h.created = "2026-12-04T03:22:02Z";
  h.source = {{"url", "redis://app:***@10.0.0.5:6379/0"}, {"server_version", "7.0.15"}, {"db", 0}, {"cluster", false}};
  h.selection = {{"profiles", {"btrix", "trt"}}, {"match", "abc*"}};
  return h;
}

Record record(KeyKind kind, std::string key, std::string session = "s1", std::string profile = "btrix") {
  Record r;
  r.kind = kind;
  r.key = std::move(key);
  r.session = std::move(session);
  r.profile = std::move(profile);
  return r;
}

// Bytes that are not UTF-8: a lone continuation byte, a NUL, an overlong '/', a UTF-16 surrogate.
const std::string kBinary = std::string("\x80\x00\xc0\xaf\xed\xa0\x80\xff", 8);

double negative_zero() { return -0.0; }

// One of everything the format must carry exactly.
std::vector<Record> sample_records() {
  std::vector<Record> rs;
  Record s = record(KeyKind::string, "btrix:state:42");
  s.str = R"({"current":"BOOK_EMAIL","data":{"name":"Zoë"}})";
  s.expire_at_ms = 1796440922322;
  rs.push_back(s);

  Record bin = record(KeyKind::string, "bin:" + kBinary);
  bin.str = kBinary + std::string(3, '\0');
  rs.push_back(bin);

  Record ws = record(KeyKind::string, " key with\ttabs\nnewlines \"quotes\" \\ and ünïcödé 🚀 ", "s 2");
  ws.str = "";
  ws.expire_at_ms = 1;
  rs.push_back(ws);

  Record h = record(KeyKind::hash, "trt:session:u1", "u1", "trt");
  h.fields = {{"name", "Ann"}, {"", ""}, {kBinary, "binary field"}, {"blob", kBinary}, {"emoji 🙂", "\n\t"}};
  h.expire_at_ms = 1796440922000;
  rs.push_back(h);

  Record l = record(KeyKind::list, "trt:session:u1:history", "u1", "trt");
  l.items = {R"({"client_input":"hi"})", "", kBinary, "dup", "dup"};
  rs.push_back(l);

  Record set = record(KeyKind::set, "tags:" + std::string("\xff", 1), "u1", "trt");
  set.items = {"a", "b c", kBinary};
  rs.push_back(set);

  Record z = record(KeyKind::zset, "trt:active_sessions", "u1", "trt");
  z.index = true;
  z.scored = {{"inf", std::numeric_limits<double>::infinity()},
              {"-inf", -std::numeric_limits<double>::infinity()},
              {"tenth", 0.1},
              {"third", 1.0 / 3.0},
              {"big", 1.7976931348623157e308},
              {"tiny", 4.9406564584124654e-324},
              {"int", 1796440922322.0},
              {"2^53+2", 9007199254740994.0},
              {"neg", -2.5e-17},
              {"zero", 0.0},
              {"negzero", negative_zero()},
              {kBinary, 42.0}};
  rs.push_back(z);

  Record empty = record(KeyKind::list, "empty:list", "u2", "trt");
  rs.push_back(empty);
  return rs;
}

std::uint64_t bits(double d) {
  std::uint64_t b = 0;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

void check_same(const Record& got, const Record& want) {
  INFO("key " << want.key);
  CHECK(got.key == want.key);
  CHECK(got.kind == want.kind);
  CHECK(got.str == want.str);
  CHECK(got.items == want.items);
  CHECK(got.fields == want.fields);
  REQUIRE(got.scored.size() == want.scored.size());
  for (std::size_t i = 0; i < want.scored.size(); ++i) {
    INFO("member " << want.scored[i].first << " score " << want.scored[i].second);
    CHECK(got.scored[i].first == want.scored[i].first);
    CHECK(bits(got.scored[i].second) == bits(want.scored[i].second));  // exact, sign of zero included
  }
  CHECK(got.expire_at_ms == want.expire_at_ms);
  CHECK(got.session == want.session);
  CHECK(got.profile == want.profile);
  CHECK(got.part == want.part);
  CHECK(got.more == want.more);
  CHECK(got.index == want.index);
}

void write_archive(const std::string& path, const std::vector<Record>& records, const Header& h = test_header()) {
  ArchiveWriter w(sessionctl::archive::open_file_output(path, sessionctl::archive::compression_for(path)), h);
  std::string session;
  for (const auto& r : records) {
    if (r.session != session || w.records() == 0) w.session_started();
    session = r.session;
    w.add(r);
  }
  w.commit();
}

std::vector<Record> read_archive(const std::string& path, bool partial = false) {
  ArchiveReader reader(path, partial);
  std::vector<Record> out;
  for (Record r; reader.next(r);) out.push_back(r);
  CHECK(reader.complete() == !partial);
  return out;
}

// The message of the FormatError `f` throws (failing the test when it throws nothing); exit code 2.
std::string format_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const FormatError& e) {
    CHECK(e.code() == ExitCode::usage);
    return e.what();
  }
  FAIL("no FormatError was thrown");
  return {};
}

std::string read_error(const std::string& path, bool partial = false) {
  return format_error([&] { (void)read_archive(path, partial); });
}

std::string check_all_error(const std::string& path) {
  return format_error([&] {
    ArchiveReader reader(path);
    reader.check_all();
  });
}

// The plain text of a small archive: header, three records (one key in two parts), trailer.
std::string small_archive(const ScratchDir& dir) {
  std::vector<Record> rs;
  Record a = record(KeyKind::string, "a");
  a.str = "value a";
  rs.push_back(a);
  Record p0 = record(KeyKind::list, "big");
  p0.items = {"x", "y"};
  p0.more = true;
  rs.push_back(p0);
  Record p1 = p0;
  p1.items = {"z"};
  p1.part = 1;
  p1.more = false;
  rs.push_back(p1);
  const std::string path = dir.file("small.jsonl");
  write_archive(path, rs);
  return slurp(path);
}

// Restores a resource limit and SIGXFSZ's disposition when it goes.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    rlimit lim = saved_;
    lim.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;
  FileSizeLimit(FileSizeLimit&&) = delete;
  FileSizeLimit& operator=(FileSizeLimit&&) = delete;

 private:
  rlimit saved_{};
  void (*old_handler_)(int) = SIG_DFL;
};

}  // namespace

TEST_CASE("archive: every type round trips exactly, binary, unicode and whitespace included", "[archive]") {
  ScratchDir dir;
  const auto rs = sample_records();
  const std::string name = GENERATE(as<std::string>{}, "a.jsonl", "a.jsonl.gz", "a.jsonl.zst");
  const std::string path = dir.file(name);
  write_archive(path, rs);

  ArchiveReader reader(path);
  CHECK(reader.compression() == sessionctl::archive::compression_for(path));
  CHECK(reader.header().version == 1);
  CHECK(reader.header().created == "2026-12-04T03:22:02Z");
  CHECK(reader.header().source == test_header().source);
  CHECK(reader.header().selection == test_header().selection);
  CHECK_FALSE(reader.header().masked);
  std::vector<Record> got;
  for (Record r; reader.next(r);) got.push_back(r);
  CHECK(reader.complete());
  REQUIRE(got.size() == rs.size());
  for (std::size_t i = 0; i < rs.size(); ++i) check_same(got[i], rs[i]);

  // Written again, the records are the same bytes.
  const std::string again = dir.file("again.jsonl");
  write_archive(again, got);
  if (name == "a.jsonl") CHECK(slurp(again) == slurp(path));
  ArchiveReader check(path);
  CHECK_NOTHROW(check.check_all());
  CHECK(check.complete());
}

TEST_CASE("archive: lines are JSON a jq user can read, text stays text, other bytes are b64", "[archive]") {
  ScratchDir dir;
  const std::string path = dir.file("a.jsonl");
  write_archive(path, sample_records());
  const auto lines = lines_of(slurp(path));
  REQUIRE(lines.size() == sample_records().size() + 2);
  for (const auto& l : lines) CHECK(nlohmann::json::accept(l));

  const auto header = nlohmann::json::parse(lines.front());
  CHECK(header["format"] == "sessionctl.archive");
  CHECK(header["version"] == 1);
  CHECK(header["source"]["server_version"] == "7.0.15");
  CHECK(header["masked"] == false);

  const auto first = nlohmann::json::parse(lines[1]);
  CHECK(first["key"] == "btrix:state:42");
  CHECK(first["type"] == "string");
  CHECK(first["value"] == R"({"current":"BOOK_EMAIL","data":{"name":"Zoë"}})");
  CHECK(first["expire_at_ms"] == 1796440922322);
  CHECK(first["session"] == "s1");
  CHECK(first["profile"] == "btrix");
  CHECK_FALSE(first.contains("part"));

  const auto bin = nlohmann::json::parse(lines[2]);
  CHECK(bin["key"].is_object());
  CHECK(bin["key"].contains("b64"));
  CHECK(bin["expire_at_ms"].is_null());

  const auto zset = nlohmann::json::parse(lines[7]);
  CHECK(zset["value"][0][1] == "inf");
  CHECK(zset["value"][1][1] == "-inf");
  CHECK_THAT(lines[7], Contains(R"(["tenth",0.1])"));  // the shortest form that reads back exactly

  const auto trailer = nlohmann::json::parse(lines.back());
  CHECK(trailer["trailer"] == true);
  CHECK(trailer["records"] == sample_records().size());
  CHECK(trailer["sessions"] == 4);
  CHECK(trailer["sha256"].get<std::string>().size() == 64);
}

TEST_CASE("archive: a big key is written and read in windows, handed on one part at a time", "[archive]") {
  ScratchDir dir;
  const std::string path = dir.file(GENERATE(as<std::string>{}, "big.jsonl", "big.jsonl.zst"));
  constexpr std::size_t kParts = 50, kWindow = 1000;
  {
    ArchiveWriter w(sessionctl::archive::open_file_output(path, sessionctl::archive::compression_for(path)),
                    test_header());
    w.session_started();
    for (std::size_t p = 0; p < kParts; ++p) {
      Record r = record(KeyKind::zset, "big:zset");
      for (std::size_t i = 0; i < kWindow; ++i) {
        const std::size_t n = p * kWindow + i;
        r.scored.emplace_back("member:" + std::to_string(n), static_cast<double>(n) / 7.0);
      }
      r.part = p;
      r.more = p + 1 < kParts;
      r.expire_at_ms = 1796440922322;
      w.add(r);
    }
    Record after = record(KeyKind::string, "after");
    w.add(after);
    w.commit();
  }
  ArchiveReader reader(path);
  Record r;
  for (std::size_t p = 0; p < kParts; ++p) {
    REQUIRE(reader.next(r));
    CHECK(r.key == "big:zset");
    CHECK(r.part == p);
    CHECK(r.more == (p + 1 < kParts));
    REQUIRE(r.scored.size() == kWindow);  // one window, never the whole key
    CHECK(r.scored.front().first == "member:" + std::to_string(p * kWindow));
    CHECK(bits(r.scored.back().second) == bits(static_cast<double>(p * kWindow + kWindow - 1) / 7.0));
  }
  REQUIRE(reader.next(r));
  CHECK(r.key == "after");
  CHECK_FALSE(reader.next(r));
  CHECK(reader.complete());
}

TEST_CASE("archive: descriptors: written to one (stdout), read from stdin, compression from magic bytes", "[archive]") {
  ScratchDir dir;
  const auto rs = sample_records();
  const Compression c = GENERATE(Compression::none, Compression::gzip, Compression::zstd);
  const int fd = ::memfd_create("archive", 0);
  REQUIRE(fd >= 0);
  {
    ArchiveWriter w(sessionctl::archive::open_fd_output(fd, "stdout", c), test_header());
    for (const auto& r : rs) w.add(r);
    w.commit();
  }
  // Read back through a path that says nothing of the compression.
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  {
    ArchiveReader reader(path);
    CHECK(reader.compression() == c);
    std::vector<Record> got;
    for (Record r; reader.next(r);) got.push_back(r);
    REQUIRE(got.size() == rs.size());
    for (std::size_t i = 0; i < rs.size(); ++i) check_same(got[i], rs[i]);
  }
  // And as stdin ("-").
  const int saved = ::dup(0);
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(in >= 0);
  ::dup2(in, 0);
  ::close(in);
  std::size_t count = 0;
  std::string name;
  try {
    ArchiveReader reader("-");
    name = reader.name();
    for (Record r; reader.next(r);) ++count;
  } catch (...) {
    ::dup2(saved, 0);
    ::close(saved);
    throw;
  }
  ::dup2(saved, 0);
  ::close(saved);
  ::close(fd);
  CHECK(name == "stdin");
  CHECK(count == rs.size());
}

TEST_CASE("archive: a file is written under a temporary name, mode 0600, and appears only on commit", "[archive]") {
  ScratchDir dir;
  const std::string path = dir.file("backup.jsonl.gz");
  const mode_t old_umask = ::umask(022);
  {
    ArchiveWriter w(sessionctl::archive::open_file_output(path, Compression::gzip), test_header());
    w.add(sample_records().front());
    const auto during = dir.entries();
    REQUIRE(during.size() == 1);
    CHECK_THAT(during.front(), StartsWith(".backup.jsonl.gz.tmp-"));
    CHECK_FALSE(fs::exists(path));
    struct stat st {};
    REQUIRE(::stat(dir.file(during.front()).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    w.commit();
  }
  ::umask(old_umask);
  CHECK(dir.entries() == std::vector<std::string>{"backup.jsonl.gz"});
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  SECTION("without commit (an error, Ctrl-C) the temporary file goes and an older archive stays") {
    const std::string before = slurp(path);
    {
      ArchiveWriter w(sessionctl::archive::open_file_output(path, Compression::gzip), test_header());
      w.add(sample_records().front());
      CHECK(dir.entries().size() == 2);
    }
    CHECK(dir.entries() == std::vector<std::string>{"backup.jsonl.gz"});
    CHECK(slurp(path) == before);
  }
}

TEST_CASE("archive: a full disk (file-size limit) is a clear WriteError and leaves no file", "[archive]") {
  ScratchDir dir;
  const std::string name = GENERATE(as<std::string>{}, "full.jsonl", "full.jsonl.zst");
  const std::string path = dir.file(name);
  // Random-looking text, different in every record, so that zstd cannot squeeze it under the limit.
  std::vector<Record> records(200, record(KeyKind::string, "k"));  // ~4 MB
  std::uint32_t x = 12345;
  for (auto& r : records) {
    for (int i = 0; i < 20000; ++i) {
      x = x * 1103515245u + 12345u;
      r.str += static_cast<char>('!' + (x >> 16) % 90);
    }
  }
  std::string message;
  bool thrown = false;
  {
    // No test assertion inside: Catch's own output could be a file under the same limit.
    const FileSizeLimit limit(256 * 1024);
    try {
      ArchiveWriter w(sessionctl::archive::open_file_output(path, sessionctl::archive::compression_for(path)),
                      test_header());
      for (const auto& r : records) w.add(r);
      w.commit();
    } catch (const WriteError& e) {
      thrown = true;
      message = e.what();
    }
  }
  REQUIRE(thrown);
  CHECK_THAT(message, Contains(path));
  CHECK_THAT(message, Contains(std::strerror(EFBIG)));
  CHECK(dir.entries().empty());
}

TEST_CASE("archive: a cut file (no trailer) is refused as incomplete, and read as far as it goes on request",
          "[archive]") {
  ScratchDir dir;
  const auto lines = lines_of(small_archive(dir));
  REQUIRE(lines.size() == 5);
  const std::string path = dir.file("cut.jsonl");

  SECTION("cut after a whole line") {
    spit(path, join_lines({lines[0], lines[1]}));
    CHECK_THAT(read_error(path), Contains(path + ": incomplete") && Contains("line 2") && Contains("--partial"));
    CHECK_THAT(check_all_error(path), Contains(path + ": incomplete"));
    const auto got = read_archive(path, true);
    REQUIRE(got.size() == 1);
    CHECK(got[0].key == "a");
  }
  SECTION("cut inside a record") {
    spit(path, join_lines({lines[0], lines[1]}) + lines[2].substr(0, 20));
    CHECK_THAT(read_error(path), Contains(path + " line 3: incomplete"));
    CHECK_THAT(check_all_error(path), Contains(path + ": incomplete"));
    CHECK(read_archive(path, true).size() == 1);
  }
  SECTION("cut inside the trailer") {
    spit(path, join_lines({lines[0], lines[1], lines[2], lines[3]}) + lines[4].substr(0, 30));
    CHECK_THAT(read_error(path), Contains(path + " line 5: "));
  }
  SECTION("cut in a compressed file, in its data or only in its last bytes (gzip's CRC, zstd's checksum)") {
    for (const std::string ext : {".gz", ".zst"}) {
      const std::string full = dir.file("full.jsonl" + ext);
      write_archive(full, sample_records());
      const std::string bytes = slurp(full);
      for (const std::size_t cut_bytes : {std::size_t{10}, std::size_t{4}}) {
        INFO(ext << " without its last " << cut_bytes << " bytes");
        const std::string cut = dir.file("cut.jsonl" + ext);
        spit(cut, bytes.substr(0, bytes.size() - cut_bytes));
        CHECK_THAT(read_error(cut), Contains(cut) && Contains("stream is corrupt or cut short"));
        CHECK_THAT(check_all_error(cut), Contains(cut) && Contains("stream is corrupt or cut short"));
      }
    }
  }
}

TEST_CASE("archive: damaged or hand-edited archives are refused, each with its own message naming the line",
          "[archive]") {
  ScratchDir dir;
  auto lines = lines_of(small_archive(dir));
  REQUIRE(lines.size() == 5);
  const std::string path = dir.file("bad.jsonl");

  SECTION("a byte flipped inside a value: the checksum, named at the trailer") {
    const std::size_t at = lines[1].find("value a");
    REQUIRE(at != std::string::npos);
    lines[1][at] = 'V';
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 5: checksum mismatch"));
    CHECK_THAT(check_all_error(path), Contains(path + " line 5: checksum mismatch"));
  }
  SECTION("a byte flipped in the JSON syntax") {
    lines[2][0] = '[';
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 3: not JSON"));
    CHECK_THAT(check_all_error(path), Contains(path + " line 5: checksum mismatch"));
  }
  SECTION("a hand-edited record: an unknown type") {
    const std::size_t at = lines[1].find("\"string\"");
    lines[1].replace(at, 8, "\"stream\"");
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 2: a record's type must be"));
  }
  SECTION("a hand-edited record: bad base64, a bad score, a bad expiry") {
    const std::string edits[][2] = {
        {R"("value a")", R"({"b64":"!!"})"},
        {R"("expire_at_ms":null)", R"("expire_at_ms":"soon")"},
        {R"("value a")", R"(["not","a","string"])"},
    };
    for (const auto& e : edits) {
      auto edited = lines;
      const std::size_t at = edited[1].find(e[0]);
      REQUIRE(at != std::string::npos);
      edited[1].replace(at, e[0].size(), e[1]);
      spit(path, join_lines(edited));
      CHECK_THAT(read_error(path), Contains(path + " line 2: "));
    }
    Record z = record(KeyKind::zset, "z");
    z.scored = {{"m", 1.5}};
    const std::string zpath = dir.file("z.jsonl");
    write_archive(zpath, {z});
    auto zl = lines_of(slurp(zpath));
    zl[1].replace(zl[1].find("1.5"), 3, R"("nan")");
    spit(zpath, join_lines(zl));
    CHECK_THAT(read_error(zpath), Contains(zpath + " line 2: a zset score must be"));
  }
  SECTION("records added or taken away: the trailer's count") {
    lines.erase(lines.begin() + 1);
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 4: the trailer counts 3 records, the archive holds 2"));
  }
  SECTION("parts out of order") {
    std::swap(lines[2], lines[3]);
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 3: part 1 of a key whose first part is not right before it"));
  }
  SECTION("another key where the next part was expected") {
    lines.erase(lines.begin() + 3);
    lines.insert(lines.begin() + 3, lines[1]);
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 4: part 1 of the key before it was expected next"));
  }
  SECTION("the trailer where the next part was expected") {
    lines.erase(lines.begin() + 3);
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 4: the trailer comes where part 1 of the key before it"));
    // Even when the count and checksum agree: a writer that stopped between the parts of a key.
    Record p0 = record(KeyKind::hash, "h");
    p0.fields = {{"f", "v"}};
    p0.more = true;
    const std::string stopped = dir.file("stopped.jsonl");
    write_archive(stopped, {p0});
    CHECK_THAT(read_error(stopped), Contains(stopped + " line 3: the trailer comes where part 1"));
  }
  SECTION("a part of another type than the part before") {
    const std::size_t at = lines[3].find("\"list\"");
    lines[3].replace(at, 6, "\"set\"");
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 4: part 1 of a list is a set"));
  }
  SECTION("text after the trailer") {
    lines.push_back(lines[1]);
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 6: text after the trailer"));
    CHECK_THAT(check_all_error(path), Contains(path + " line 6: text after the trailer"));
  }
}

TEST_CASE("archive: a header that is not ours, or of a newer version, is refused on line 1", "[archive]") {
  ScratchDir dir;
  auto lines = lines_of(small_archive(dir));
  const std::string path = dir.file("h.jsonl");

  SECTION("a newer version is named") {
    lines[0].replace(lines[0].find("\"version\":1"), 11, "\"version\":2");
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 1: archive version 2 is not one this sessionctl reads"));
  }
  SECTION("an empty file") {
    spit(path, "");
    CHECK_THAT(read_error(path), Contains(path + ": empty"));
  }
  SECTION("text, JSON of another kind, and a header without a format") {
    const std::vector<std::string> texts = {"hello world\n", "{\"a\":1}\n", "[1,2,3]\n", "\n\n",
                                            std::string("\0\0\0", 3)};
    for (const auto& text : texts) {
      spit(path, text);
      CHECK_THAT(read_error(path), Contains(path) && Contains("not a sessionctl archive"));
    }
  }
  SECTION("the header's fields of the wrong types") {
    lines[0].replace(lines[0].find("\"masked\":false"), 14, "\"masked\":\"no\"");
    spit(path, join_lines(lines));
    CHECK_THAT(read_error(path), Contains(path + " line 1: "));
  }
}

TEST_CASE("archive: corrupt gzip and zstd streams are refused as such", "[archive]") {
  ScratchDir dir;
  const std::string ext = GENERATE(as<std::string>{}, ".gz", ".zst");
  const std::string path = dir.file("c.jsonl" + ext);
  write_archive(path, sample_records());
  std::string bytes = slurp(path);
  REQUIRE(bytes.size() > 40);
  const std::string what = ext == ".gz" ? "the gzip stream is corrupt" : "the zstd stream is corrupt";

  SECTION("a byte flipped in the middle") {
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
    spit(path, bytes);
    CHECK_THAT(read_error(path), Contains(path + " line ") && Contains(what));
    CHECK_THAT(check_all_error(path), Contains(what));
  }
  SECTION("only the magic bytes") {
    spit(path, bytes.substr(0, 4));
    CHECK_THAT(read_error(path), Contains(what));
  }
  SECTION("garbage after the magic bytes") {
    spit(path, bytes.substr(0, 4) + std::string(64, 'x'));
    CHECK_THAT(read_error(path), Contains(what));
  }
}

TEST_CASE("archive: a line longer than the cap is refused naming it, without reading on", "[archive]") {
  ScratchDir dir;
  const std::string path = dir.file("long.jsonl.zst");
  // Written through the zstd encoder: a few KB on disk for a line past the cap.
  {
    auto out = sessionctl::archive::open_file_output(path, Compression::zstd);
    out->write(sessionctl::archive::header_line(test_header()));
    const std::string chunk(1 << 20, 'x');
    for (std::size_t n = 0; n <= sessionctl::archive::kMaxLine; n += chunk.size()) out->write(chunk);
    out->write("\n");
    out->finish();
  }
  CHECK_THAT(read_error(path), Contains(path + " line 2: longer than 256 MiB"));
}
