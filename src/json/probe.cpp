#include "json/probe.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>

#include "util/utf8.h"

namespace sessionctl {
namespace {

class Prober {
 public:
  Prober(std::string_view text, const std::vector<std::string>& paths, bool want_top_keys, JsonProbe& out)
      : s_(text), paths_(paths), want_top_keys_(want_top_keys), out_(out) {
    out_.values.assign(paths.size(), std::nullopt);
    out_.kinds.assign(paths.size(), JsonKind::none);
  }

  bool run() {
    skip_ws();
    if (pos_ < s_.size()) out_.kind = kind_at(pos_);
    out_.object = out_.kind == JsonKind::object;
    if (!value(0)) return fail(error_ ? error_ : pos_ >= s_.size() ? "unexpected end of text" : "syntax error");
    skip_ws();
    if (pos_ != s_.size()) return fail("text after the value");
    return true;
  }

 private:
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  // Index of the wanted path equal to the current path, or -1.
  int wanted() const {
    for (std::size_t i = 0; i < paths_.size(); ++i) {
      if (paths_[i] == path_) return static_cast<int>(i);
    }
    return -1;
  }

  // Whether some wanted path continues below the current one (worth tracking keys for).
  bool below_wanted() const {
    for (const auto& p : paths_) {
      if (path_.empty() ||
          (p.size() > path_.size() && p.compare(0, path_.size(), path_) == 0 && p[path_.size()] == '.')) {
        return true;
      }
    }
    return false;
  }

  // Records why the text is not JSON and where (the first error found wins).
  bool fail(const char* what) {
    if (!out_.error.empty()) return false;
    const std::size_t at = std::min(pos_, s_.size());
    out_.error_offset = at;
    out_.error = out_.too_deep ? fmt::format("nested deeper than {} levels at byte {}", kMaxJsonDepth, at)
                               : fmt::format("{} at byte {}", what, at);
    return false;
  }

  JsonKind kind_at(std::size_t i) const {
    switch (s_[i]) {
      case '{':
        return JsonKind::object;
      case '[':
        return JsonKind::array;
      case '"':
        return JsonKind::string;
      case 't':
      case 'f':
        return JsonKind::boolean;
      case 'n':
        return JsonKind::null;
      default:
        return JsonKind::number;
    }
  }

  // `depth` counts the arrays and objects around the value.
  bool value(int depth) {
    skip_ws();
    if (pos_ >= s_.size()) return false;
    // Inside a container no wanted path reaches, path_ is not extended: nothing there may match.
    int want = paths_.empty() || blind_ > 0 ? -1 : wanted();
    if (want >= 0) out_.kinds[static_cast<std::size_t>(want)] = kind_at(pos_);
    std::size_t start = pos_;
    bool ok;
    char c = s_[pos_];
    if (c == '"') {
      std::string text;
      ok = string(want >= 0 ? &text : nullptr);
      if (ok && want >= 0) out_.values[static_cast<std::size_t>(want)] = std::move(text);
      return ok;
    }
    if ((c == '{' || c == '[') && depth >= kMaxJsonDepth) {
      // Refused before descending: the stack stays bounded, and so does every later pass over the DOM.
      out_.too_deep = true;
      return false;
    }
    if (c == '{') {
      ok = object(depth);
    } else if (c == '[') {
      ok = array(depth);
    } else if (c == 't') {
      ok = literal("true");
    } else if (c == 'f') {
      ok = literal("false");
    } else if (c == 'n') {
      ok = literal("null");
    } else {
      ok = number();
    }
    if (ok && want >= 0) out_.values[static_cast<std::size_t>(want)] = std::string(s_.substr(start, pos_ - start));
    return ok;
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool number() {
    std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) return false;
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    } else {
      return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      std::size_t d = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == d) return false;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      std::size_t d = pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (pos_ == d) return false;
    }
    return pos_ > start;
  }

  bool hex4(std::uint32_t& cp) {
    if (pos_ + 4 > s_.size()) return false;
    unsigned v = 0;
    auto r = std::from_chars(s_.data() + pos_, s_.data() + pos_ + 4, v, 16);
    if (r.ptr != s_.data() + pos_ + 4) return false;
    cp = v;
    pos_ += 4;
    return true;
  }

  // Parses a string literal at pos_; appends its unescaped text to `out` when given.
  bool string(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      // Fast path: a run of plain printable ASCII, copied in one go.
      std::size_t run = pos_;
      while (run < s_.size()) {
        auto b = static_cast<unsigned char>(s_[run]);
        if (b < 0x20 || b == '"' || b == '\\' || b >= 0x80) break;
        ++run;
      }
      if (run > pos_) {
        if (out) out->append(s_.data() + pos_, run - pos_);
        pos_ = run;
        if (pos_ >= s_.size()) break;
      }
      auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++pos_ >= s_.size()) return false;
        char e = s_[pos_++];
        std::uint32_t cp = 0;
        switch (e) {
          case '"':
            cp = '"';
            break;
          case '\\':
            cp = '\\';
            break;
          case '/':
            cp = '/';
            break;
          case 'b':
            cp = '\b';
            break;
          case 'f':
            cp = '\f';
            break;
          case 'n':
            cp = '\n';
            break;
          case 'r':
            cp = '\r';
            break;
          case 't':
            cp = '\t';
            break;
          case 'u': {
            if (!hex4(cp)) return false;
            if (cp >= 0xD800 && cp <= 0xDBFF) {  // surrogate pair
              std::uint32_t lo = 0;
              if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') return false;
              pos_ += 2;
              if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              return false;
            }
            break;
          }
          default:
            return false;
        }
        if (out) append_utf8(*out, cp);
        continue;
      }
      // The one strict validator: overlong forms, surrogates and code points above U+10FFFF are out.
      const std::size_t len = utf8_sequence_length(s_, pos_);
      if (len == 0) {
        error_ = "invalid UTF-8";
        return false;
      }
      if (out) out->append(s_.data() + pos_, len);
      pos_ += len;
    }
    return false;
  }

  bool object(int depth) {
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    bool track = !paths_.empty() && blind_ == 0 && below_wanted();
    Blind blind(blind_, !paths_.empty() && !track);
    bool top = depth == 0 && want_top_keys_;
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return false;
      std::string key;
      if (!string(track || top ? &key : nullptr)) return false;
      if (top) out_.top_keys.push_back(key);
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return false;
      ++pos_;
      std::size_t saved = path_.size();
      if (track) path_ += (path_.empty() ? "" : ".") + key;
      bool ok = value(depth + 1);
      path_.resize(saved);
      if (!ok) return false;
      skip_ws();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  bool array(int depth) {
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    bool track = !paths_.empty() && blind_ == 0 && below_wanted();
    Blind blind(blind_, !paths_.empty() && !track);
    for (std::size_t index = 0;; ++index) {
      std::size_t saved = path_.size();
      if (track) path_ += (path_.empty() ? "" : ".") + std::to_string(index);
      bool ok = value(depth + 1);
      path_.resize(saved);
      if (!ok) return false;
      skip_ws();
      if (pos_ >= s_.size()) return false;
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return false;
    }
  }

  // Counts the untracked containers around the current value for as long as it is in scope.
  struct Blind {
    Blind(int& n, bool on) : n_(n), on_(on) { n_ += on_ ? 1 : 0; }
    ~Blind() { n_ -= on_ ? 1 : 0; }
    Blind(const Blind&) = delete;
    Blind& operator=(const Blind&) = delete;
    int& n_;
    bool on_;
  };

  std::string_view s_;
  const std::vector<std::string>& paths_;
  bool want_top_keys_;
  JsonProbe& out_;
  std::size_t pos_ = 0;
  std::string path_;
  int blind_ = 0;
  const char* error_ = nullptr;  // a reason more precise than "not valid JSON", when known
};

}  // namespace

JsonProbe probe_json(std::string_view text, const std::vector<std::string>& paths, bool want_top_keys) {
  JsonProbe out;
  Prober p(text, paths, want_top_keys, out);
  out.valid = p.run();
  return out;
}

std::optional<nlohmann::json> parse_json(std::string_view text) {
  // The probe bounds the depth first: nlohmann's DOM is built, printed and freed by recursion.
  if (!probe_json(text, {}).valid) return std::nullopt;
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return doc;
}

}  // namespace sessionctl
