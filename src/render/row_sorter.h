// list --sort: the order of list rows, and the buffer that puts them in it. With --limit N only the
// first N rows are kept (a bounded heap); without it rows are packed (about 50 B plus the id each)
// instead of kept as SessionRow objects (about 490 B each). No I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "render/session_view.h"

namespace sessionctl {

enum class SortKey { id, profile, ttl, size, idle };

// "id", "profile", "ttl", "size", "idle"; throws UsageError otherwise.
SortKey parse_sort_key(const std::string& name);

// Whether a sorts before b: ttl ascending with no TTL last (it never expires), size largest first,
// idle longest first (unknown last), profile then id, id. Equal rows keep the order they came in.
bool sort_before(SortKey key, const SessionRow& a, const SessionRow& b);

class SortedRows {
 public:
  SortedRows(SortKey key, std::optional<std::size_t> limit);
  ~SortedRows();

  void add(const SessionRow& row);
  // Calls emit with every kept row in order; the buffer is empty afterwards.
  void drain(const std::function<void(const SessionRow&)>& emit);
  std::size_t size() const;

 private:
  struct Packed;
  struct PackedWide;
  class Arena;
  bool before(std::size_t a, std::size_t b) const;
  SessionRow unpack(std::size_t i) const;
  std::uint16_t intern(const std::string& name);

  SortKey key_;
  std::optional<std::size_t> limit_;
  std::uint64_t seq_ = 0;
  // --limit: a max-heap of the best `limit` rows so far (worst on top), with their arrival number.
  std::vector<std::pair<SessionRow, std::uint64_t>> heap_;
  // No limit: packed rows, strings in an arena, profile/layout/problem names interned.
  std::deque<Packed> packed_;
  std::deque<PackedWide> wide_;  // state, activity and idle time, for --wide rows only
  std::unique_ptr<Arena> arena_;
  std::vector<std::string> names_;                  // interned profiles and layouts
  std::vector<std::vector<std::string>> problems_;  // distinct problem lists, in order seen
  std::map<std::vector<std::string>, std::uint32_t> problem_index_;
};

}  // namespace sessionctl
