// What the data layer does differently per task, behind one interface: reading a file into the
// task's examples, building an example's features, collecting labels and collating targets. Each
// task implements it in src/data/tasks/<task>.cpp; the task registry (data/task_registry.h) holds
// one per task, and TaskDataset / load_task_dataset call only these, never a switch on the task.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/batching.h"
#include "data/features.h"
#include "data/labels.h"
#include "data/readers.h"

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::data {

class TaskDataset;

// One input of `clintorch predict`: a line of raw text or a JSONL record.
struct RawInput {
  size_t line = 0;
  std::string id;    // the record's id ("" = none), as a string
  std::string text;  // the text (all tasks but QA)
  std::string pair;  // the second text of a pair (sequence classification)
  bool has_pair = false;
  std::string question;  // QA
  std::string context;   // QA
};

// What a raw input of the task holds.
enum class RawLayout {
  kText,             // one text
  kTextPair,         // a text and optionally a second one (TAB-separated in text input)
  kQuestionContext,  // a question and a context (JSONL input only)
};

struct TaskDataOps {
  // Reads d.path (in d.format, already resolved) into the task's examples and sets d.labeled.
  // nullptr for corpus tasks.
  void (*read)(TaskDataset& d, const ReaderOptions& options, const tok::Tokenizer& tokenizer);
  size_t (*num_examples)(const TaskDataset& d);
  // The label map of the examples when none is given (HF order: sorted unique).
  LabelMap (*collect_labels)(const TaskDataset& d, const ReaderOptions& options);
  // Appends the features of example `i` to `out` (NER also fills d.words[i], which
  // build_features sizes beforehand when `word_index` is set). Called from several threads, each
  // with its own `i`.
  void (*build)(TaskDataset& d, size_t i, const tok::Tokenizer& tokenizer,
                const FeatureOptions& options, const std::vector<std::string>& entity_markers,
                std::vector<Feature>& out);
  // Fills the targets of a batch of `indices` padded to `seq` (labels, start/end positions) and
  // num_label_tokens. Called only for labelled datasets.
  void (*collate_targets)(const TaskDataset& d, const std::vector<size_t>& indices, int64_t seq,
                          Batch& batch);
  // Inputs beyond ids/mask/types, also for unlabelled batches (RE entity positions); may be
  // nullptr.
  void (*collate_inputs)(const TaskDataset& d, const std::vector<size_t>& indices, Batch& batch);
  // Adds one raw input (prediction) as an unlabelled example; nullptr: the task does not predict
  // raw input (mlm).
  void (*add_raw)(TaskDataset& d, const RawInput& in, const tok::Tokenizer& tokenizer,
                  const std::vector<std::string>& entity_markers);
  RawLayout raw_layout = RawLayout::kText;
  // Word-level labels with a per-example word index (NER): map_to_o applies, windows merge per
  // word.
  bool word_index = false;
  // Reads text corpora through MlmCorpus (data/mlm.h), not task files (mlm).
  bool corpus = false;
  // Reads ReaderOptions::problem_type (sequence classification); others are single-label.
  bool problem_type = false;
  // Labelled files of the task carry a label map (false for QA: answers are spans).
  bool label_map = true;
  // Examples are an entity pair in a text (RE): marked with [E1]..[/E2] or masked.
  bool entity_pair = false;
};

// The ops of every task, defined in src/data/tasks/<task>.cpp.
const TaskDataOps& mlm_data_ops();
const TaskDataOps& ner_data_ops();
const TaskDataOps& classification_data_ops();
const TaskDataOps& qa_data_ops();
const TaskDataOps& re_data_ops();

}  // namespace clintorch::data
