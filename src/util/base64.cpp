#include "util/base64.h"

#include "util/errors.h"

namespace sessionctl {

std::string base64_encode(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += tbl[(n >> 18) & 63];
    out += tbl[(n >> 12) & 63];
    out += tbl[(n >> 6) & 63];
    out += tbl[n & 63];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += tbl[(n >> 18) & 63];
    out += tbl[(n >> 12) & 63];
    out += i + 1 < in.size() ? tbl[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(const std::string& in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) throw UsageError("malformed base64 value");
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int a = val(in[i]), b = val(in[i + 1]);
    int c = in[i + 2] == '=' ? 0 : val(in[i + 2]);
    int d = in[i + 3] == '=' ? 0 : val(in[i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0) throw UsageError("malformed base64 value");
    unsigned n = (static_cast<unsigned>(a) << 18) | (static_cast<unsigned>(b) << 12) | (static_cast<unsigned>(c) << 6) |
                 static_cast<unsigned>(d);
    out += static_cast<char>((n >> 16) & 0xFF);
    if (in[i + 2] != '=') out += static_cast<char>((n >> 8) & 0xFF);
    if (in[i + 3] != '=') out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace sessionctl
