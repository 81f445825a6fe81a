// Batches as torch tensors: dynamic padding to the longest feature of the batch, batch plans
// (random, length-grouped as HF group_by_length, or token-budget as fairseq max_tokens), all
// deterministic under (seed, epoch), and a loader that hands out batch i of epoch e in any order
// (so a resumed run sees the same batches).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <torch/types.h>

namespace clintorch::data {

// One padded batch. Integer tensors are int64 (what torch's embedding and losses take).
struct Batch {
  torch::Tensor input_ids;       // (batch, seq) int64, [PAD] after each feature
  torch::Tensor attention_mask;  // (batch, seq) int64, 1 for real tokens
  torch::Tensor token_type_ids;  // (batch, seq) int64
  // NER / MLM: (batch, seq) int64 with -100 where ignored (padding included).
  // Single-label classification / RE: (batch) int64 (-100 = no label).
  // Multi-label: (batch, num_labels) float32 of 0/1. Regression: (batch) float32.
  // Undefined when the data carry no labels.
  torch::Tensor labels;
  torch::Tensor start_positions;  // QA: (batch) int64; undefined when unlabeled
  torch::Tensor end_positions;    // QA: (batch) int64
  // RE with entity markers: (batch, 2) int64 positions of the head and tail start markers.
  torch::Tensor entity_positions;
  // Which dataset features the rows are.
  std::vector<size_t> feature_indices;
  // Real (non-padding) tokens in the batch.
  int64_t num_tokens = 0;
  // Targets that count in the loss: labels != -100 for token-level tasks (NER, MLM), labelled
  // rows for sequence tasks. Sum it over micro-batches to normalise an accumulated token loss.
  int64_t num_label_tokens = 0;

  int64_t size() const { return input_ids.defined() ? input_ids.size(0) : 0; }
  // A copy on `device` (pinned/non-blocking when asked).
  Batch to(const torch::Device& device, bool non_blocking = false) const;
};

// Anything the loader can batch: a task dataset or an MLM corpus.
class Dataset {
 public:
  virtual ~Dataset() = default;
  // Number of features (windows / blocks).
  virtual size_t size() const = 0;
  // Token length of each feature (for length grouping and token budgets).
  virtual const std::vector<uint32_t>& lengths() const = 0;
  // The padded batch of the given features. `rng_key` seeds anything random in collation (MLM
  // masking); the loader derives it from (seed, epoch, batch index). The padded length is
  // rounded up to a multiple of pad_to_multiple_of (0 = off).
  virtual Batch collate(const std::vector<size_t>& indices, uint64_t rng_key,
                        size_t pad_to_multiple_of = 0) const = 0;
};

// A view of some features of another dataset (e.g. a held-out split of an MLM corpus).
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<size_t> indices);
  size_t size() const override { return indices_.size(); }
  const std::vector<uint32_t>& lengths() const override { return lengths_; }
  Batch collate(const std::vector<size_t>& indices, uint64_t rng_key,
                size_t pad_to_multiple_of = 0) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<size_t> indices_;
  std::vector<uint32_t> lengths_;
};

// Splits a dataset's features at random (seeded) into (train, held_out), `fraction` of them
// held out (at least one when the dataset has two or more features).
std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> split_dataset(
    std::shared_ptr<const Dataset> dataset, double fraction, uint64_t seed);

// How batches are formed.
struct BatchOptions {
  // Features per batch; with max_tokens, the most features a batch may hold (0 = no cap).
  // Default 32.
  size_t batch_size = 32;
  // Token budget: a batch's padded size (features x longest length) stays within it (fairseq
  // --max-tokens); batches are formed over length-sorted features. 0 = off. Default 0.
  size_t max_tokens = 0;
  // Shuffle every epoch (training). Default true.
  bool shuffle = true;
  // HF group_by_length: random mega-batches of mega_batch_mult x batch_size features, each
  // sorted by length, the longest feature first. Only with shuffle. Default false.
  bool group_by_length = false;
  // Without shuffle: batches of consecutive features in order of decreasing length (stable), so
  // inference pads little; the caller maps results back through the indices. Default: false.
  bool sort_by_length = false;
  // Mega-batch size multiplier; 0 = HF's default min(n / (4 x batch_size), 50), at least 1.
  // Default 0.
  size_t mega_batch_mult = 0;
  // Drop a last batch smaller than batch_size (not with max_tokens). Default false.
  bool drop_last = false;
  // Seed of the order; epoch e uses (seed, e). Default 42.
  uint64_t seed = 42;
  // Pad every batch's length to a multiple of this (8 helps tensor cores); 0 = off. Default 0.
  size_t pad_to_multiple_of = 0;
};

// The batches of one epoch, as lists of feature indices.
std::vector<std::vector<size_t>> plan_batches(const std::vector<uint32_t>& lengths,
                                              const BatchOptions& options, uint64_t epoch);

// HF LengthGroupedSampler order (get_length_grouped_indices) for one epoch.
std::vector<size_t> length_grouped_order(const std::vector<uint32_t>& lengths, size_t batch_size,
                                         size_t mega_batch_mult, uint64_t seed);

// Hands out the batches of each epoch; batch(e, i) is a pure function of (options, e, i), so
// training can resume at any step. Thread-safe.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, BatchOptions options);
  size_t num_batches(uint64_t epoch) const;
  Batch batch(uint64_t epoch, size_t index) const;
  // Feature indices of batch `index` of `epoch`.
  std::vector<size_t> batch_indices(uint64_t epoch, size_t index) const;
  const Dataset& dataset() const { return *dataset_; }
  const BatchOptions& options() const { return options_; }

 private:
  const std::vector<std::vector<size_t>>& plan(uint64_t epoch) const;
  std::shared_ptr<const Dataset> dataset_;
  BatchOptions options_;
  mutable std::mutex mutex_;
  mutable uint64_t plan_epoch_ = UINT64_MAX;
  mutable std::vector<std::vector<size_t>> plan_;
};

// Padded length for a batch whose longest feature has `longest` tokens.
size_t padded_length(size_t longest, size_t pad_to_multiple_of);

}  // namespace clintorch::data
