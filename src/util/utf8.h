// The one UTF-8 validator (RFC 3629, strict): every part that decodes, validates or cuts text uses it,
// so that the probe, inspect, the renderers and the masker agree on what is UTF-8.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sessionctl {

// Length (1-4) of the well-formed sequence at s[i], or 0 when the bytes there are not UTF-8: a stray
// continuation byte, a bad or missing continuation, an overlong form, a UTF-16 surrogate, or a code
// point above U+10FFFF. Requires i < s.size().
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

// Decodes the sequence at s[i] into cp; returns its length, or 0 (cp untouched) when invalid.
std::size_t utf8_decode(std::string_view s, std::size_t i, char32_t& cp);

// Whether the whole text is valid UTF-8.
bool is_utf8(std::string_view s);

// Length of the longest prefix of s made of whole valid sequences.
std::size_t utf8_valid_prefix(std::string_view s);

// Whether s can begin a valid UTF-8 text: valid, except that its last sequence may be cut short
// (a value read in chunks, or truncated for display).
bool is_utf8_prefix(std::string_view s);

// Appends cp as UTF-8; cp must be a Unicode scalar value (at most U+10FFFF, not a surrogate).
void append_utf8(std::string& out, char32_t cp);

}  // namespace sessionctl
