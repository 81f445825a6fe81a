// Extractive QA metrics equal to the official SQuAD evaluation scripts (evaluate-v1.1.py and
// evaluate-v2.0.py from https://rajpurkar.github.io/SQuAD-explorer/, which HF `evaluate`'s
// "squad" and "squad_v2" metrics wrap): exact match and token F1 after the official answer
// normalisation, the maximum over the gold answers, and for v2 the no-answer handling with the
// HasAns/NoAns splits and the best no-answer thresholds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace clintorch::eval {

enum class SquadVersion { kV1, kV2 };

SquadVersion parse_squad_version(const std::string& text);  // "1.1"/"v1" | "2.0"/"v2"
std::string to_string(SquadVersion version);

struct SquadOptions {
  // Which official script to reproduce. Default: kV2.
  SquadVersion version = SquadVersion::kV2;
  // v2: a question counts as answered "no answer" when its no_answer_probability exceeds this
  // (the official --na-prob-thresh, HF's no_answer_threshold). Default: 1.0 (never).
  double no_answer_threshold = 1.0;
};

// One question: its gold answers, the predicted answer and the model's no-answer probability.
struct QaExample {
  // Question id; used only to name the question in errors. Default: "".
  std::string id;
  // Gold answer texts; empty for an unanswerable question (v2 only). Default: none.
  std::vector<std::string> gold_answers;
  // Predicted answer text; "" predicts "no answer". Default: "".
  std::string prediction;
  // v2: the model's probability that the question has no answer. Default: 0.0.
  double no_answer_probability = 0.0;
};

// Exact match and F1 in percent over `total` questions.
struct SquadScores {
  double exact = 0.0;
  double f1 = 0.0;
  int64_t total = 0;
};

struct SquadReport {
  SquadVersion version = SquadVersion::kV2;
  // All questions ("exact_match"/"f1" of v1.1; "exact"/"f1"/"total" of v2).
  SquadScores overall;
  // v2: the questions with / without gold answers; total 0 when there are none (the official
  // script then leaves the keys out).
  SquadScores has_answer;
  SquadScores no_answer;
  // v2: official find_all_best_thresh (the no-answer threshold that maximises each score).
  double best_exact = 0.0;
  double best_exact_threshold = 0.0;
  double best_f1 = 0.0;
  double best_f1_threshold = 0.0;
};

// The official normalize_answer: lowercase (Python's str.lower), remove ASCII punctuation
// (string.punctuation), remove the words a/an/the, collapse whitespace. Input must be UTF-8.
std::string squad_normalize_answer(const std::string& text);

// Exact match of one prediction against one gold answer (1 or 0).
double squad_exact(const std::string& gold, const std::string& prediction);
// Token F1 of one prediction against one gold answer: v1.1's f1_score (0 when either side is
// empty after normalisation) or v2's compute_f1 (1 when both are empty).
double squad_f1(const std::string& gold, const std::string& prediction, SquadVersion version);

// Scores a whole set of questions. Throws Error when there are no questions, or, for v1.1, when a
// question has no gold answer.
SquadReport squad_report(const std::vector<QaExample>& examples, const SquadOptions& options = {});

// v1.1: {"exact_match", "f1", "total"}; v2: the official keys "exact", "f1", "total",
// "HasAns_exact", ..., "NoAns_total" (when present), "best_exact", "best_exact_thresh",
// "best_f1", "best_f1_thresh".
nlohmann::json to_json(const SquadReport& report);

// A short readable table of the scores.
std::string format_table(const SquadReport& report, int digits = 2);

}  // namespace clintorch::eval
