// list --sort: the order, and that the packed buffer and the bounded heap give the same rows back.
#include "render/row_sorter.h"

#include <catch2/catch.hpp>
#include <random>

using namespace sessionctl;

namespace {

SessionRow row(const std::string& id, long long ttl, long long size = 0, std::optional<long long> idle = {},
               const std::string& profile = "btrix") {
  SessionRow r;
  r.id = id;
  r.profile = profile;
  r.keys = 1;
  r.ttl_ms = ttl;
  r.size_bytes = size;
  r.idle_ms = idle;
  r.wide = idle.has_value();
  if (idle) r.state = "S" + id;
  return r;
}

std::vector<std::string> sorted_ids(SortKey key, const std::vector<SessionRow>& rows,
                                    std::optional<std::size_t> limit = {}) {
  SortedRows buf(key, limit);
  for (const auto& r : rows) buf.add(r);
  std::vector<std::string> out;
  buf.drain([&](const SessionRow& r) { out.push_back(r.id); });
  return out;
}

}  // namespace

TEST_CASE("sorting by ttl (--sort ttl) puts sessions that never expire last", "[sort]") {
  const std::vector<SessionRow> rows = {row("forever", -1), row("soon", 1000), row("later", 60000), row("forever2", -1),
                                        row("now", 0)};
  CHECK(sorted_ids(SortKey::ttl, rows) == std::vector<std::string>{"now", "soon", "later", "forever", "forever2"});
  CHECK(sorted_ids(SortKey::ttl, rows, 2) == std::vector<std::string>{"now", "soon"});
  CHECK(sorted_ids(SortKey::ttl, rows, 4) == std::vector<std::string>{"now", "soon", "later", "forever"});
  CHECK(sorted_ids(SortKey::ttl, rows, 0).empty());
  CHECK(parse_sort_key("ttl") == SortKey::ttl);
  CHECK_THROWS(parse_sort_key("bogus"));
}

TEST_CASE("size and idle sort largest first, unknown idle last, profile then id", "[sort]") {
  const std::vector<SessionRow> rows = {row("a", 5, 10, 100), row("b", 5, 30, std::nullopt), row("c", 5, 20, 300)};
  CHECK(sorted_ids(SortKey::size, rows) == std::vector<std::string>{"b", "c", "a"});
  CHECK(sorted_ids(SortKey::idle, rows) == std::vector<std::string>{"c", "a", "b"});
  const std::vector<SessionRow> mixed = {row("z", 1, 0, {}, "btrix"), row("a", 1, 0, {}, "trt"),
                                         row("m", 1, 0, {}, "btrix")};
  CHECK(sorted_ids(SortKey::profile, mixed) == std::vector<std::string>{"m", "z", "a"});
  CHECK(sorted_ids(SortKey::id, mixed) == std::vector<std::string>{"a", "m", "z"});
}

TEST_CASE("packed rows come back whole, and the heap keeps what a full sort would show first", "[sort]") {
  std::mt19937 rng(42);
  std::vector<SessionRow> rows;
  for (int i = 0; i < 2000; ++i) {
    SessionRow r = row("id" + std::to_string(i), static_cast<long long>(rng() % 50) - 1, rng() % 7,
                       i % 3 ? std::optional<long long>(rng() % 9) : std::nullopt, i % 2 ? "btrix" : "trt");
    r.wide = true;
    if (i % 5 == 0) r.problems = {"no_ttl", "corrupt_json"};
    if (i % 7 == 0) r.problems = {"corrupt_json", "no_ttl"};  // order kept per row
    if (i % 11 == 0) r.layout = "session:{id}";
    if (i % 13 == 0) r.id_masked = true;
    if (i % 4 == 0) r.last_activity = 1700000000.5 + i;
    rows.push_back(r);
  }
  for (SortKey key : {SortKey::id, SortKey::profile, SortKey::ttl, SortKey::size, SortKey::idle}) {
    std::vector<SessionRow> expect = rows;
    std::stable_sort(expect.begin(), expect.end(),
                     [&](const SessionRow& a, const SessionRow& b) { return sort_before(key, a, b); });
    SortedRows all(key, std::nullopt);
    for (const auto& r : rows) all.add(r);
    std::vector<std::string> got, want;
    std::size_t i = 0;
    all.drain([&](const SessionRow& r) {
      const SessionRow& e = expect[i++];
      std::string a, b;
      r.append_json(a);
      e.append_json(b);
      got.push_back(a);
      want.push_back(b);
    });
    CHECK(got == want);
    for (std::size_t limit : {1, 10, 100}) {
      std::vector<std::string> first(want.begin(), want.begin() + static_cast<long>(limit));
      SortedRows top(key, limit);
      for (const auto& r : rows) top.add(r);
      CHECK(top.size() == limit);
      std::vector<std::string> kept;
      top.drain([&](const SessionRow& r) {
        std::string a;
        r.append_json(a);
        kept.push_back(a);
      });
      CHECK(kept == first);
    }
  }
}
