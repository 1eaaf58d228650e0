#include "util/suggest.h"

#include <algorithm>

namespace sessionctl {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::size_t best = 2;  // the farthest a suggestion may be
  std::vector<std::string> found;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d > best) continue;
    if (d < best) {
      best = d;
      found.clear();
    }
    if (d == best && std::find(found.begin(), found.end(), c) == found.end()) found.push_back(c);
  }
  std::string out;
  for (std::size_t i = 0; i < found.size(); ++i) {
    out += (i == 0 ? "'" : i + 1 == found.size() ? " or '" : ", '") + found[i] + "'";
  }
  return out;
}

}  // namespace sessionctl
