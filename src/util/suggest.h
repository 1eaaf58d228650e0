// "Did you mean": the closest of a set of known words to a mistyped one, as ninja and git do.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sessionctl {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbours ("stauts") each count as one edit.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidates closest to `word` within two edits, quoted and joined ("'status' or 'stats'"; all
// of them when tied, each once, in the candidates' order); "" when none is that close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace sessionctl
