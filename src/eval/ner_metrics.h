// Entity-level NER metrics equal to seqeval 1.2 (seqeval.metrics.classification_report and
// precision_score / recall_score / f1_score), in its default conlleval-like mode and in its
// strict mode with an explicit tagging scheme, plus token accuracy (seqeval.accuracy_score).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eval/metric_common.h"
#include "util/choice.h"

namespace clintorch::eval {

// How entities are read from tag sequences.
enum class NerMode {
  kDefault,  // seqeval's default (conlleval-compatible): lenient, an I- without B- opens an entity
  kStrict,   // seqeval mode="strict": an entity counts only if it is well formed in `scheme`
};

// Tagging schemes of seqeval.scheme (used in strict mode).
enum class TagScheme { kIOB1, kIOE1, kIOB2, kIOE2, kIOBES, kBILOU };

NerMode parse_ner_mode(const std::string& text);  // "default" | "strict"
std::string to_string(NerMode mode);
TagScheme parse_tag_scheme(const std::string& text);  // "IOB2", "IOBES", ... (case-insensitive)
std::string to_string(TagScheme scheme);

struct NerMetricsOptions {
  // Default (conlleval-like) or strict entity reading. Default: kDefault.
  NerMode mode = NerMode::kDefault;
  // Tagging scheme for strict mode (seqeval `scheme`); ignored in default mode. Default: kIOB2.
  TagScheme scheme = TagScheme::kIOB2;
  // Tags carry their prefix at the end ("PER-B") instead of the start (seqeval `suffix`).
  // Default: false.
  bool suffix = false;
  // Value of a precision/recall/F1 with a zero denominator (seqeval `zero_division`: kZero, which
  // is its default "warn", or kOne; seqeval has no NaN). Default: kZero.
  ZeroDivision zero_division = ZeroDivision::kZero;
};

// One entity: its type and its tokens [start, end) within its sentence.
struct Entity {
  std::string type;
  int64_t start = 0;
  int64_t end = 0;

  bool operator==(const Entity& other) const {
    return type == other.type && start == other.start && end == other.end;
  }
};

// The entities of one tag sequence, as seqeval reads them in the given mode: in default mode
// seqeval.metrics.sequence_labeling.get_entities(tags), in strict mode
// seqeval.scheme.Tokens(tags, scheme).entities. Throws Error on a tag the scheme cannot read.
std::vector<Entity> extract_entities(const std::vector<std::string>& tags,
                                     const NerMetricsOptions& options = {});

// seqeval.scheme.auto_detect: the scheme whose prefixes match the tags (IOB2, IOE2, IOBES or
// BILOU); throws Error when none does.
TagScheme detect_tag_scheme(const std::vector<std::vector<std::string>>& sequences,
                            bool suffix = false);

struct NerReport {
  NerMetricsOptions options;
  // Per entity type, sorted by type name (seqeval's classification_report rows).
  std::vector<NamedScores> per_type;
  // seqeval's "micro avg", "macro avg" and "weighted avg". macro is NaN when there are no entity
  // types at all (numpy's mean of nothing, as seqeval).
  Scores micro;
  Scores macro;
  Scores weighted;
  // Fraction of tokens whose predicted tag equals the gold tag (seqeval.accuracy_score); NaN when
  // there are no tokens (seqeval raises ZeroDivisionError there).
  double token_accuracy = 0.0;
  int64_t num_sentences = 0;
  int64_t num_tokens = 0;
};

// Entity-level scores of `predicted` against `gold` (one tag sequence per sentence). Throws Error
// when there are no sentences (seqeval raises too), naming the sentence when the numbers of
// sentences or tags differ, and naming the token on a tag the mode cannot read (an empty tag; in
// strict mode a prefix the scheme does not allow).
NerReport ner_report(const std::vector<std::vector<std::string>>& gold,
                     const std::vector<std::vector<std::string>>& predicted,
                     const NerMetricsOptions& options = {});

// {"mode", "scheme", "per_type": {TYPE: scores}, "micro", "macro", "weighted",
//  "token_accuracy", "num_sentences", "num_tokens"}.
nlohmann::json to_json(const NerReport& report);

// The table of seqeval's classification_report(digits=...) followed by a token-accuracy line.
std::string format_table(const NerReport& report, int digits = 4);

}  // namespace clintorch::eval

namespace clintorch {
template <>
struct ChoiceNames<eval::NerMode> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"default", "strict"};
    return kNames;
  }
};
}  // namespace clintorch
