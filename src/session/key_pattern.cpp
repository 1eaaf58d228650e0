#include "session/key_pattern.h"

#include <fmt/format.h>

#include "util/errors.h"

namespace sessionctl {

KeyPattern::KeyPattern(std::string text) : text_(std::move(text)) {
  auto open = text_.find('{');
  if (open == std::string::npos) {
    prefix_ = text_;
    return;
  }
  auto close = text_.find('}', open);
  if (close == std::string::npos || close == open + 1 || text_.find('{', close) != std::string::npos) {
    throw UsageError(fmt::format("key pattern '{}' must hold exactly one placeholder such as {{id}}", text_));
  }
  has_placeholder_ = true;
  prefix_ = text_.substr(0, open);
  placeholder_ = text_.substr(open + 1, close - open - 1);
  suffix_ = text_.substr(close + 1);
}

std::optional<std::string> KeyPattern::match(std::string_view key) const {
  if (!has_placeholder_) return key == text_ ? std::optional<std::string>(std::string()) : std::nullopt;
  if (key.size() <= prefix_.size() + suffix_.size()) return std::nullopt;
  if (!key.starts_with(prefix_) || !key.ends_with(suffix_)) return std::nullopt;
  return std::string(key.substr(prefix_.size(), key.size() - prefix_.size() - suffix_.size()));
}

std::string KeyPattern::key_for(std::string_view id) const {
  if (!has_placeholder_) return text_;
  std::string out = prefix_;
  out += id;
  out += suffix_;
  return out;
}

std::string KeyPattern::scan_glob() const {
  if (!has_placeholder_) return glob_escape(text_);
  return glob_escape(prefix_) + "*" + glob_escape(suffix_);
}

std::string glob_escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool glob_match(std::string_view p, std::string_view s) {
  // Iterative matcher with backtracking on the last '*', as in Redis's stringmatchlen.
  std::size_t pi = 0, si = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (c == '*') {
        star_p = pi++;
        star_s = si;
        continue;
      }
      if (c == '?') {
        ++pi, ++si;
        continue;
      }
      if (c == '[') {
        std::size_t j = pi + 1;
        bool negate = j < p.size() && p[j] == '^';
        if (negate) ++j;
        bool matched = false;
        while (j < p.size() && p[j] != ']') {
          if (p[j] == '\\' && j + 1 < p.size()) {
            matched |= p[j + 1] == s[si];
            j += 2;
          } else if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            char lo = p[j], hi = p[j + 2];
            if (lo > hi) std::swap(lo, hi);
            matched |= s[si] >= lo && s[si] <= hi;
            j += 3;
          } else {
            matched |= p[j] == s[si];
            ++j;
          }
        }
        if (j < p.size() && matched != negate) {
          pi = j + 1, ++si;
          continue;
        }
      } else {
        if (c == '\\' && pi + 1 < p.size()) c = p[++pi];
        if (c == s[si]) {
          ++pi, ++si;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace sessionctl
