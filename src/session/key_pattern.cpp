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

}  // namespace sessionctl
