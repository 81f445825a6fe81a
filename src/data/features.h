// Features: the model inputs built from examples. Inputs longer than max_seq_length are never
// truncated: they become several windows ([CLS] slice [SEP]) overlapping by doc_stride tokens
// (HF `stride` semantics), each remembering its example and position so predictions can be
// merged back (see windows.h). QA follows HF run_qa.py prepare_*_features.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/examples.h"
#include "data/labels.h"
#include "data/readers.h"
#include "util/choice.h"

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::data {

// A code-point range [begin, end) into a text; (-1, -1) when not applicable.
struct CharSpan {
  int32_t begin = -1;
  int32_t end = -1;
};

// One model input window.
struct Feature {
  // Token ids, [CLS] ... [SEP] (... [SEP]). (seq)
  std::vector<int32_t> input_ids;
  // Segment ids: 0 for the first text, 1 for the second. (seq)
  std::vector<uint8_t> token_type_ids;
  // NER: label id per token, -100 where ignored (special tokens, non-first sub-tokens unless
  // label_all_tokens). Empty for other tasks. (seq)
  std::vector<int32_t> token_labels;
  // NER: index of the example's word each token belongs to, -1 for special tokens. (seq)
  std::vector<int32_t> word_ids;
  // Single-label classification / RE: class id; -100 when unlabeled or ignored.
  int32_t label = -100;
  // Multi-label: 0/1 per label (num_labels); regression: the value (1). Else empty.
  std::vector<float> targets;
  // QA training targets: token positions of the answer, or the [CLS] index (0) when the answer
  // is not inside this window or the question is unanswerable; -1 when unlabeled.
  int32_t start_position = -1;
  int32_t end_position = -1;
  // QA: code-point range of each token in the context; (-1, -1) outside the context (HF sets
  // these to None in prepare_validation_features). (seq)
  std::vector<CharSpan> context_offsets;
  // RE with entity markers: positions of the head and tail start markers ([E1], [E2]); -1 when
  // the text has no markers.
  int32_t head_marker = -1;
  int32_t tail_marker = -1;
  // The example this window came from (index into the dataset's examples).
  uint32_t example = 0;
  // Window number within the example (0-based).
  uint32_t window = 0;
  // Position of the window's first content token in the example's (windowed) token sequence,
  // and the number of content tokens; used for the max-context merge.
  uint32_t token_begin = 0;
  uint32_t token_count = 0;

  size_t length() const { return input_ids.size(); }
};

// NER: where each word of an example starts in its sub-token sequence (for merging windows).
struct WordIndex {
  // Sub-tokens of the whole example (without special tokens).
  uint32_t num_tokens = 0;
  // Sub-token position of each word's first piece; -1 for a word the tokenizer drops entirely
  // (e.g. only control characters), which therefore gets no prediction.
  std::vector<int32_t> word_first_token;
};

// What to do with a label seen in a dev/test file but not in the label map.
enum class UnknownLabels {
  kError,   // error naming the file, line and label (default)
  kMapToO,  // NER only: treat it as "O"
  kIgnore,  // NER: that word's tokens get -100; classification: the label is ignored (-100)
};
UnknownLabels parse_unknown_labels(const std::string& name);

// How examples become features.
struct FeatureOptions {
  // Tokens per window, [CLS]/[SEP] included. Default 128 (HF run_qa uses 384).
  size_t max_seq_length = 128;
  // Tokens shared by consecutive windows of a long input (HF `stride`/run_qa `doc_stride`).
  // Must be smaller than the window's room for content. Default 32.
  size_t doc_stride = 32;
  // NER: label every sub-token, turning B-X into I-X on non-first pieces (HF run_ner.py
  // --label_all_tokens). Default false: only the first piece of each word is labelled.
  bool label_all_tokens = false;
  // Labels unseen in the label map. Default error.
  UnknownLabels unknown_labels = UnknownLabels::kError;
  // Classification and RE: label type. Default single_label.
  ProblemType problem_type = ProblemType::kSingleLabel;
  // QA: strip leading whitespace from questions, as HF run_qa does. Default true.
  bool lstrip_question = true;
  // Threads for tokenisation (0 = hardware threads). Default 0.
  size_t num_threads = 0;
};

// [start, end) content ranges of the windows over `n` tokens when `room` tokens fit in a
// window, consecutive windows overlapping by `stride` (HF tokenizers' overflow order). n == 0
// gives one empty window. Throws when stride >= room.
std::vector<std::pair<size_t, size_t>> window_ranges(size_t n, size_t room, size_t stride);

// Builders: append the features of one example to `out`. `file` is used in error messages.
// The label maps must hold every label (see UnknownLabels).
void build_ner_features(const tok::Tokenizer& tokenizer, const NerExample& example,
                        uint32_t example_index, const LabelMap& labels,
                        const FeatureOptions& options, const std::string& file,
                        std::vector<Feature>& out, WordIndex& words);
void build_cls_features(const tok::Tokenizer& tokenizer, const ClsExample& example,
                        uint32_t example_index, const LabelMap& labels,
                        const FeatureOptions& options, const std::string& file,
                        std::vector<Feature>& out);
void build_qa_features(const tok::Tokenizer& tokenizer, const QaExample& example,
                       uint32_t example_index, const FeatureOptions& options,
                       const std::string& file, std::vector<Feature>& out);
void build_re_features(const tok::Tokenizer& tokenizer, const ReExample& example,
                       uint32_t example_index, const LabelMap& labels,
                       const FeatureOptions& options, const std::string& file,
                       const std::vector<std::string>& markers, std::vector<Feature>& out);

// Adds the four entity markers as special tokens (no-op for markers already known) and returns
// their ids; the model's embeddings must then be resized to tokenizer.vocab_size().
std::vector<int32_t> add_entity_markers(tok::Tokenizer& tokenizer,
                                        const std::vector<std::string>& markers = {
                                            "[E1]", "[/E1]", "[E2]", "[/E2]"});

}  // namespace clintorch::data

namespace clintorch {
template <>
struct ChoiceNames<data::UnknownLabels> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"error", "map_to_o", "ignore"};
    return kNames;
  }
};
}  // namespace clintorch
