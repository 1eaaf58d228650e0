#include "util/utf8.h"

namespace sessionctl {
namespace {

// The byte ranges of RFC 3629's table: the second byte's range depends on the lead byte, which is
// how overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and > U+10FFFF (F4 90..) are out.
struct Lead {
  std::size_t length;
  unsigned char low;
  unsigned char high;
};

Lead lead_of(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};  // 80..C1 (continuations, overlong 2-byte leads), F5..FF
}

// How many bytes from s[i] on agree with a valid sequence (up to its full length).
std::size_t matching_bytes(std::string_view s, std::size_t i, const Lead& lead) {
  if (lead.length <= 1) return lead.length;
  std::size_t k = 1;
  for (; k < lead.length && i + k < s.size(); ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (c >= lead.low && c <= lead.high) : (c & 0xC0) == 0x80;
    if (!ok) break;
  }
  return k;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const Lead lead = lead_of(static_cast<unsigned char>(s[i]));
  return matching_bytes(s, i, lead) == lead.length ? lead.length : 0;
}

std::size_t utf8_decode(std::string_view s, std::size_t i, char32_t& cp) {
  const std::size_t len = utf8_sequence_length(s, i);
  if (len == 0) return 0;
  const auto b = static_cast<unsigned char>(s[i]);
  char32_t v = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < len; ++k) v = (v << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  cp = v;
  return len;
}

std::size_t utf8_valid_prefix(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // ASCII runs are the common case; no table lookup for them.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) break;
    i += len;
  }
  return i;
}

bool is_utf8(std::string_view s) { return utf8_valid_prefix(s) == s.size(); }

bool is_utf8_prefix(std::string_view s) {
  const std::size_t i = utf8_valid_prefix(s);
  if (i == s.size()) return true;
  // Only a last sequence that is cut short, with every byte so far right, may remain.
  const Lead lead = lead_of(static_cast<unsigned char>(s[i]));
  return lead.length > 1 && i + lead.length > s.size() && matching_bytes(s, i, lead) == s.size() - i;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace sessionctl
