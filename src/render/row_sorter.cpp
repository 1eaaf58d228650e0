#include "render/row_sorter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "util/errors.h"

namespace sessionctl {

SortKey parse_sort_key(const std::string& name) {
  if (name == "id") return SortKey::id;
  if (name == "profile") return SortKey::profile;
  if (name == "ttl") return SortKey::ttl;
  if (name == "size") return SortKey::size;
  if (name == "idle") return SortKey::idle;
  throw UsageError(fmt::format("--sort: unknown field '{}' (id, profile, ttl, size, idle)", name));
}

namespace {

// No TTL (-1) never expires: it sorts after every finite TTL.
long long ttl_rank(long long ttl_ms) { return ttl_ms == -1 ? std::numeric_limits<long long>::max() : ttl_ms; }

// The comparison on the fields the keys use, shared by rows and packed rows; 0 when equal.
int compare(SortKey key, long long ttl_a, long long ttl_b, long long size_a, long long size_b, long long idle_a,
            long long idle_b, std::string_view profile_a, std::string_view profile_b, std::string_view id_a,
            std::string_view id_b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : y < x ? 1 : 0; };
  switch (key) {
    case SortKey::ttl:
      return cmp(ttl_rank(ttl_a), ttl_rank(ttl_b));
    case SortKey::size:
      return cmp(size_b, size_a);
    case SortKey::idle:
      return cmp(idle_b, idle_a);
    case SortKey::profile:
      if (int c = profile_a.compare(profile_b)) return c < 0 ? -1 : 1;
      return cmp(id_a, id_b);
    case SortKey::id:
      return cmp(id_a, id_b);
  }
  return 0;
}

}  // namespace

bool sort_before(SortKey key, const SessionRow& a, const SessionRow& b) {
  return compare(key, a.ttl_ms, b.ttl_ms, a.size_bytes, b.size_bytes, a.idle_ms.value_or(-1), b.idle_ms.value_or(-1),
                 a.profile, b.profile, a.id, b.id) < 0;
}

// Strings with a 4-byte length in front, in 1 MiB blocks that never move; a handle is block << 32 | offset.
class SortedRows::Arena {
 public:
  std::uint64_t add(std::string_view s) {
    const std::size_t need = s.size() + 4;
    if (blocks_.empty() || used_ + need > cap_) {
      cap_ = std::max<std::size_t>(kBlock, need);
      blocks_.push_back(std::make_unique<char[]>(cap_));
      used_ = 0;
    }
    char* at = blocks_.back().get() + used_;
    const auto len = static_cast<std::uint32_t>(s.size());
    std::memcpy(at, &len, 4);
    std::memcpy(at + 4, s.data(), s.size());
    const std::uint64_t handle = (static_cast<std::uint64_t>(blocks_.size() - 1) << 32) | used_;
    used_ += need;
    return handle;
  }
  std::string_view get(std::uint64_t handle) const {
    const char* at = blocks_[handle >> 32].get() + (handle & 0xFFFFFFFFu);
    std::uint32_t len = 0;
    std::memcpy(&len, at, 4);
    return {at + 4, len};
  }

 private:
  static constexpr std::size_t kBlock = 1 << 20;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::size_t used_ = 0, cap_ = 0;
};

struct SortedRows::Packed {
  std::uint64_t id;  // arena handle
  long long ttl_ms, size_bytes;
  std::uint32_t problems;  // problems_ index: the row's list of problem names, interned whole
  std::uint32_t keys;
  std::uint16_t profile, layout;  // names_ indexes
  bool id_masked;
};

struct SortedRows::PackedWide {
  std::uint64_t state;   // arena handle, or kNone
  double last_activity;  // NaN when unknown
  long long idle_ms;     // kNoIdle when unknown
};

namespace {
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
constexpr long long kNoIdle = std::numeric_limits<long long>::min();
}  // namespace

SortedRows::SortedRows(SortKey key, std::optional<std::size_t> limit)
    : key_(key), limit_(limit), arena_(std::make_unique<Arena>()) {}

SortedRows::~SortedRows() = default;

std::size_t SortedRows::size() const { return limit_ ? heap_.size() : packed_.size(); }

std::uint16_t SortedRows::intern(const std::string& name) {
  auto it = std::find(names_.begin(), names_.end(), name);
  if (it != names_.end()) return static_cast<std::uint16_t>(it - names_.begin());
  if (names_.size() == std::numeric_limits<std::uint16_t>::max()) throw std::length_error("too many profiles");
  names_.push_back(name);
  return static_cast<std::uint16_t>(names_.size() - 1);
}

void SortedRows::add(const SessionRow& row) {
  const std::uint64_t seq = seq_++;
  if (limit_) {
    // The heap's top is the row that sorts last; a row only gets in by beating it.
    auto worse = [this](const auto& a, const auto& b) {
      if (sort_before(key_, a.first, b.first)) return true;
      if (sort_before(key_, b.first, a.first)) return false;
      return a.second < b.second;
    };
    if (*limit_ == 0) return;
    if (heap_.size() < *limit_) {
      heap_.emplace_back(row, seq);
      std::push_heap(heap_.begin(), heap_.end(), worse);
    } else if (worse(std::pair<const SessionRow&, std::uint64_t>(row, seq), heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), worse);
      heap_.back() = {row, seq};
      std::push_heap(heap_.begin(), heap_.end(), worse);
    }
    return;
  }
  Packed p{};
  p.id = arena_->add(row.id);
  p.ttl_ms = row.ttl_ms;
  p.size_bytes = row.size_bytes;
  p.keys = static_cast<std::uint32_t>(row.keys);
  p.id_masked = row.id_masked;
  p.profile = intern(row.profile);
  p.layout = intern(row.layout);
  auto [it, added] = problem_index_.try_emplace(row.problems, static_cast<std::uint32_t>(problems_.size()));
  if (added) problems_.push_back(row.problems);
  p.problems = it->second;
  packed_.push_back(p);
  if (row.wide) {
    wide_.resize(packed_.size(), PackedWide{kNone, std::nan(""), kNoIdle});
    wide_.back() = {row.state ? arena_->add(*row.state) : kNone, row.last_activity ? *row.last_activity : std::nan(""),
                    row.idle_ms ? *row.idle_ms : kNoIdle};
  }
}

bool SortedRows::before(std::size_t a, std::size_t b) const {
  const Packed& x = packed_[a];
  const Packed& y = packed_[b];
  auto idle = [this](std::size_t i) { return i < wide_.size() && wide_[i].idle_ms != kNoIdle ? wide_[i].idle_ms : -1; };
  return compare(key_, x.ttl_ms, y.ttl_ms, x.size_bytes, y.size_bytes, idle(a), idle(b), names_[x.profile],
                 names_[y.profile], arena_->get(x.id), arena_->get(y.id)) < 0;
}

SessionRow SortedRows::unpack(std::size_t i) const {
  const Packed& p = packed_[i];
  SessionRow row;
  row.id = std::string(arena_->get(p.id));
  row.profile = names_[p.profile];
  row.layout = names_[p.layout];
  row.keys = p.keys;
  row.id_masked = p.id_masked;
  row.ttl_ms = p.ttl_ms;
  row.size_bytes = p.size_bytes;
  row.problems = problems_[p.problems];
  if (i < wide_.size()) {
    const PackedWide& w = wide_[i];
    row.wide = true;
    if (w.state != kNone) row.state = std::string(arena_->get(w.state));
    if (!std::isnan(w.last_activity)) row.last_activity = w.last_activity;
    if (w.idle_ms != kNoIdle) row.idle_ms = w.idle_ms;
  }
  return row;
}

void SortedRows::drain(const std::function<void(const SessionRow&)>& emit) {
  if (limit_) {
    auto worse = [this](const auto& a, const auto& b) {
      if (sort_before(key_, a.first, b.first)) return true;
      if (sort_before(key_, b.first, a.first)) return false;
      return a.second < b.second;
    };
    std::sort_heap(heap_.begin(), heap_.end(), worse);
    for (const auto& [row, seq] : heap_) emit(row);
    heap_.clear();
    return;
  }
  std::vector<std::uint32_t> order(packed_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  std::stable_sort(order.begin(), order.end(), [this](std::uint32_t a, std::uint32_t b) { return before(a, b); });
  for (std::uint32_t i : order) emit(unpack(i));
  packed_.clear();
  wide_.clear();
}

}  // namespace sessionctl
