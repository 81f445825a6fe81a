// A linear-chain conditional random field over label sequences, for token_classification with
// `crf: true` (transformers has none; the design follows the usual BiLSTM/BERT-CRF taggers).
//
// Parameters (exported under these names, after "crf."; num_tags = number of labels):
//   crf.transitions        (num_tags, num_tags)  score of tag i followed by tag j: [i][j]
//   crf.start_transitions  (num_tags)            score of a sequence starting with tag j
//   crf.end_transitions    (num_tags)            score of a sequence ending with tag i
// All start at zero (the CRF then decodes as the per-token argmax until it learns).
//
// Score of tags y_0..y_{L-1} for emissions e (L, num_tags):
//   start[y_0] + e[0][y_0] + sum_{t>=1} (trans[y_{t-1}][y_t] + e[t][y_t]) + end[y_{L-1}]
// nll() is log Z - score(gold) with Z summed over every tag sequence (forward algorithm);
// viterbi() returns the best-scoring sequence. Optional constraints add kForbidden to the
// transitions a tag scheme cannot make, in training and decoding alike.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace clintorch::model {

// Which transitions are allowed; an undefined tensor allows everything.
struct CrfConstraints {
  at::Tensor allowed;        // (num_tags, num_tags) bool: [from][to]
  at::Tensor allowed_start;  // (num_tags) bool
  at::Tensor allowed_end;    // (num_tags) bool
  // For the repair of gold BIO sequences: per tag, the id of B-X when the tag is I-X and B-X
  // exists, else -1. Empty when no repair applies.
  std::vector<int64_t> begin_of;

  bool empty() const { return !allowed.defined(); }
};

// BIO (IOB2) constraints from label names ("O", "B-X", "I-X"; untyped "B"/"I" too): no I-X after
// START, O, or a tag of another type (B-Y / I-Y with Y != X). An I-X whose B-X is not among the
// labels is left unconstrained (IO tagging). Labels of other schemes are not constrained.
CrfConstraints bio_constraints(const std::vector<std::string>& labels);

class LinearChainCrfImpl : public torch::nn::Module {
 public:
  // Added to a forbidden transition's score: its paths get probability ~exp(-10000) = 0 in fp32
  // while the arithmetic stays finite.
  static constexpr double kForbidden = -10000.0;

  explicit LinearChainCrfImpl(int64_t num_tags, CrfConstraints constraints = {});

  // Negative log-likelihood of each sequence: (batch) float32, 0 for an empty one.
  // emissions: (batch, len, num_tags); tags: (batch, len) int64 (any value where mask is 0);
  // mask: (batch, len) bool, a prefix of each row (the sequence's length).
  // With BIO constraints, a gold I-X that cannot follow its predecessor is read as B-X first
  // (conlleval's reading, the same entities), so noisy labels never give an infinite loss.
  at::Tensor nll(const at::Tensor& emissions, const at::Tensor& tags, const at::Tensor& mask) const;

  // log Z per sequence: (batch) float32.
  at::Tensor log_partition(const at::Tensor& emissions, const at::Tensor& mask) const;
  // Score of the given tags per sequence: (batch) float32 (no repair).
  at::Tensor path_score(const at::Tensor& emissions, const at::Tensor& tags,
                        const at::Tensor& mask) const;

  // Best tag sequence of each row (length = the row's mask count).
  std::vector<std::vector<int64_t>> viterbi(const at::Tensor& emissions,
                                            const at::Tensor& mask) const;

  // Gold tags with the BIO repair above applied (unchanged without constraints).
  at::Tensor repair(const at::Tensor& tags, const at::Tensor& mask) const;

  // The scores actually used: parameters plus kForbidden where a constraint forbids.
  at::Tensor effective_transitions() const;  // (num_tags, num_tags)
  at::Tensor effective_start() const;        // (num_tags)
  at::Tensor effective_end() const;          // (num_tags)

  int64_t num_tags() const { return num_tags_; }

  at::Tensor transitions;        // (num_tags, num_tags)
  at::Tensor start_transitions;  // (num_tags)
  at::Tensor end_transitions;    // (num_tags)

 private:
  int64_t num_tags_;
  CrfConstraints constraints_;
};
TORCH_MODULE(LinearChainCrf);

// Moves the positions selected by `select` (batch, seq) to the front of each row, in order:
// returns index (batch, n) int64 into seq (0 past a row's count) and mask (batch, n) bool, with n
// the largest count (at least 1). Gather emissions/tags with `index` to run the CRF on them.
std::pair<at::Tensor, at::Tensor> compact_positions(const at::Tensor& select);

}  // namespace clintorch::model
