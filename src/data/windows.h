// Merging the predictions of overlapping windows back onto examples:
//  - NER: each word takes the prediction made at its first sub-token in the window where that
//    sub-token has the most context (BERT run_squad's _check_is_max_context rule:
//    score = min(left context, right context) + 0.01 * window length; ties keep the first).
//  - classification / RE: the logits of an example's windows are averaged or max-pooled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/features.h"
#include "util/choice.h"

namespace at {
class Tensor;
}

namespace clintorch::data {

// BERT's max-context score of the content token at position `pos` (0-based) of a window of
// `count` content tokens.
double max_context_score(size_t pos, size_t count);

// For one example's windows (given by token_begin/token_count), the window chosen for each of
// its `num_tokens` sub-tokens. Every token gets exactly one window.
std::vector<uint32_t> best_windows(const std::vector<std::pair<uint32_t, uint32_t>>& windows,
                                   uint32_t num_tokens);

// Collects NER predictions batch by batch and merges them per word.
class NerWindowMerger {
 public:
  // `features` and `words` are the dataset's (their lifetime must cover the merger's).
  NerWindowMerger(const std::vector<Feature>& features, const std::vector<WordIndex>& words);
  // predictions: (batch, seq) int64 label ids for the features feature_indices[b] (padding
  // after each feature's length is ignored); scores: optional (batch, seq) float, e.g. the
  // probability of the predicted label.
  void add(const std::vector<size_t>& feature_indices, const at::Tensor& predictions,
           const at::Tensor* scores = nullptr);
  // The same with plain vectors (one per feature, of the feature's length).
  void add(size_t feature_index, const std::vector<int64_t>& predictions,
           const std::vector<float>* scores = nullptr);
  // Per example, the predicted label id of each word; -1 for a word without sub-tokens or one
  // whose best window was not added.
  const std::vector<std::vector<int32_t>>& word_predictions() const { return predictions_; }
  // Per example, the score of each word's prediction (0 when none was given).
  const std::vector<std::vector<float>>& word_scores() const { return scores_; }
  // Number of words that received a prediction (each at most once, from its best window).
  size_t words_predicted() const { return predicted_; }

 private:
  const std::vector<Feature>& features_;
  const std::vector<WordIndex>& words_;
  // best window of every example's sub-tokens, computed on first use.
  std::vector<std::vector<uint32_t>> best_;
  std::vector<std::vector<int32_t>> predictions_;
  std::vector<std::vector<float>> scores_;
  size_t predicted_ = 0;
  void ensure_best(uint32_t example);
};

enum class WindowAggregation {
  kMean,  // average the windows' logits (default)
  kMax,   // element-wise max over windows
};
WindowAggregation parse_window_aggregation(const std::string& name);

// Collects sequence-level logits of windows and aggregates them per example.
class WindowAggregator {
 public:
  WindowAggregator(const std::vector<Feature>& features, size_t num_examples,
                   WindowAggregation mode);
  // logits: (batch, num_labels) for features feature_indices[b].
  void add(const std::vector<size_t>& feature_indices, const at::Tensor& logits);
  // (num_examples, num_labels) float32; throws when an example got no window.
  at::Tensor result() const;

 private:
  const std::vector<Feature>& features_;
  size_t num_examples_;
  WindowAggregation mode_;
  std::vector<std::vector<float>> sums_;
  std::vector<uint32_t> counts_;
};

// An entity predicted on a raw-text example, as code-point offsets into its text (Python
// text[start:end] is the entity) with the label type and the mean score of its words.
struct TextEntity {
  size_t start = 0;
  size_t end = 0;
  std::string label;
  float score = 0.0f;
};

// Turns per-word tags of an example built from raw text (ner_example_from_text or the spans
// reader: word_spans set) into character-offset entities. Words without a prediction (tag "")
// count as "O". `scheme` reads the tags (IOB2 leniently, as seqeval's default mode, or IOBES).
std::vector<TextEntity> text_entities(const NerExample& example,
                                      const std::vector<std::string>& word_tags,
                                      const std::vector<float>& word_scores, TagScheme scheme);

}  // namespace clintorch::data

namespace clintorch {
template <>
struct ChoiceNames<data::WindowAggregation> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"mean", "max"};
    return kNames;
  }
};
}  // namespace clintorch
