// Task datasets: a file read in its format, its label map, and its features (windows), ready to
// batch. This is the entry point of the data layer for training, evaluation and prediction:
//
//   data::DataOptions opts;  opts.task = data::Task::kTokenClassification;
//   auto train = data::load_task_dataset("train.tsv", tokenizer, opts);
//   auto dev   = data::load_task_dataset("dev.tsv", tokenizer, opts, &train->labels);
//   data::DataLoader loader(train, batch_options);
//   for (size_t i = 0; i < loader.num_batches(epoch); ++i) { data::Batch b = loader.batch(epoch,
//   i); ... }
//
// Evaluation merges window predictions with windows.h (NerWindowMerger, WindowAggregator).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/batching.h"
#include "data/cache.h"
#include "data/examples.h"
#include "data/features.h"
#include "data/labels.h"
#include "data/readers.h"

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::data {

// Everything that says how a task file becomes features.
struct DataOptions {
  // The task. Default token_classification.
  Task task = Task::kTokenClassification;
  // File format; auto picks it from the task and the extension. Default auto.
  Format format = Format::kAuto;
  // Columns, keys, tag schemes (see ReaderOptions).
  ReaderOptions reader;
  // Windows, label alignment, unknown labels (see FeatureOptions).
  FeatureOptions features;
  // Pre-tokenised cache (see CacheOptions).
  CacheOptions cache;
  // Labels in id order (e.g. a pretrained model's id2label); empty = taken from the training
  // file, sorted (HF order). Default empty.
  std::vector<std::string> labels;
};

// A task file with its features. Implements Dataset, so a DataLoader batches it.
class TaskDataset : public Dataset {
 public:
  Task task = Task::kTokenClassification;
  ProblemType problem_type = ProblemType::kSingleLabel;
  // Source file (for messages) and its format.
  std::string path;
  Format format = Format::kAuto;
  // Label map (id order = classifier rows). Empty for QA and regression.
  LabelMap labels;
  // True when the examples carry labels (batches then have targets).
  bool labeled = false;
  // The examples; only the vector of `task` is filled (RE uses `re`).
  std::vector<NerExample> ner;
  std::vector<ClsExample> cls;
  std::vector<QaExample> qa;
  std::vector<ReExample> re;
  // NER: per example, where each word starts in its sub-tokens (for merging windows).
  std::vector<WordIndex> words;
  // Features in example order; an example's windows are consecutive.
  std::vector<Feature> features;
  // Id of [PAD], for collation.
  int32_t pad_id = 0;
  // True when the features came from the cache file.
  bool from_cache = false;
  // The cache file used or written ("" when caching is off).
  std::string cache_file;

  size_t num_examples() const;
  // Number of windows of each example (1 for inputs that fit).
  std::vector<uint32_t> windows_per_example() const;

  // Dataset
  size_t size() const override { return features.size(); }
  const std::vector<uint32_t>& lengths() const override { return lengths_; }
  Batch collate(const std::vector<size_t>& indices, uint64_t rng_key = 0,
                size_t pad_to_multiple_of = 0) const override;

  // Recomputes lengths() after `features` changed.
  void update_lengths();

 private:
  std::vector<uint32_t> lengths_;
};

// Reads `path` and builds its features (or reads them from the cache). `labels`: the label map
// to use (the training set's, for dev/test files); nullptr = options.labels, else the labels of
// this file, sorted. Throws clintorch::Error with FILE:LINE on any problem in the file.
std::shared_ptr<TaskDataset> load_task_dataset(const std::string& path,
                                               const tok::Tokenizer& tokenizer,
                                               const DataOptions& options,
                                               const LabelMap* labels = nullptr);

// Builds the features of a dataset whose examples (and labels) are already set, e.g. raw texts
// for prediction (NerExample from ner_example_from_text). No cache.
void build_features(TaskDataset& dataset, const tok::Tokenizer& tokenizer,
                    const FeatureOptions& options,
                    const std::vector<std::string>& entity_markers = {"[E1]", "[/E1]", "[E2]",
                                                                      "[/E2]"});

// The labels of a dataset's examples in HF order (sorted unique); for multi-label data read from
// several 0/1 columns, the column order.
LabelMap collect_labels(const TaskDataset& dataset, const ReaderOptions& reader);

}  // namespace clintorch::data
