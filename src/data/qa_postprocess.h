// Extractive-QA answers from start/end logits over an example's windows, as HF run_qa.py's
// utils_qa.postprocess_qa_predictions: the n_best start and end tokens of every window, spans
// inside the context of at most max_answer_length tokens, the best score start+end; for SQuAD v2
// the minimum null score ([CLS] start + end) over the windows competes through
// null_score_diff_threshold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace clintorch::data {

class TaskDataset;

struct QaPostprocessOptions {
  // Start and end candidates per window. Default 20.
  size_t n_best_size = 20;
  // Longest answer in tokens. Default 30.
  size_t max_answer_length = 30;
  // SQuAD v2: the null answer can win. Default false.
  bool version_2_with_negative = false;
  // Predict null when null score - best span score exceeds this. Default 0.
  double null_score_diff_threshold = 0.0;
};

struct QaPrediction {
  // The question id.
  std::string id;
  // Answer text ("" = no answer). A slice of the context.
  std::string text;
  // Code-point span of the answer in the context ([start, end), Python slicing); -1 for none.
  int64_t start = -1;
  int64_t end = -1;
  // Softmax probability of the answer among the n-best candidates.
  float probability = 0.0f;
  // SQuAD v2: null score minus the best span's score (HF's scores_diff_json); 0 otherwise.
  float null_score_diff = 0.0f;
};

// start_logits, end_logits: (num_features, seq) in dataset feature order, seq >= every feature's
// length. Returns one prediction per example, in example order.
std::vector<QaPrediction> postprocess_qa(const TaskDataset& dataset, const at::Tensor& start_logits,
                                         const at::Tensor& end_logits,
                                         const QaPostprocessOptions& options);

}  // namespace clintorch::data
