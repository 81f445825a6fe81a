// Small string helpers: edit distance and "did you mean" suggestions for keys, options, commands.
#pragma once

#include <string>
#include <vector>

namespace clintorch {

// Levenshtein distance (insert, delete, substitute; each costs 1).
size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word`, or "" when none is close enough to be a plausible typo
// (distance at most max(2, word.size() / 3)).
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'X'?)" for the closest candidate, or "" when there is none.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// The parts with `sep` between them (Python's sep.join(parts)).
std::string join(const std::vector<std::string>& parts, const std::string& sep);

}  // namespace clintorch
