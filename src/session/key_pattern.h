// A key layout such as "trt:session:{id}:state": matches key names and builds them from an id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/glob.h"

namespace sessionctl {

class KeyPattern {
 public:
  KeyPattern() = default;
  // `text` holds at most one placeholder "{name}"; throws UsageError otherwise.
  explicit KeyPattern(std::string text);

  // The id when `key` has this layout (non-empty id), otherwise nullopt.
  std::optional<std::string> match(std::string_view key) const;
  // The key for `id` (the pattern itself when it has no placeholder).
  std::string key_for(std::string_view id) const;
  // A SCAN MATCH glob for every key of this layout, with the fixed parts glob-escaped.
  std::string scan_glob() const;
  bool has_placeholder() const { return has_placeholder_; }
  const std::string& placeholder() const { return placeholder_; }
  const std::string& text() const { return text_; }
  const std::string& prefix() const { return prefix_; }

 private:
  std::string text_, prefix_, suffix_, placeholder_;
  bool has_placeholder_ = false;
};

// Escapes *, ?, [, ] and \ so a literal string can sit inside a Redis glob.
std::string glob_escape(std::string_view literal);

}  // namespace sessionctl
