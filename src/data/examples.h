// Examples as read from the dataset files, before tokenisation. Each remembers the line of its
// file it came from, so later errors and predictions can point at it without quoting text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace clintorch::data {

// A half-open byte range [begin, end) into a UTF-8 string.
struct ByteSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
};

// Token classification: words with one tag each.
struct NerExample {
  // "id" from the file, or "" (then the line identifies it).
  std::string id;
  // 1-based line where the example starts in its file.
  size_t line = 0;
  // The words (CoNLL tokens, JSONL `tokens`, or the tokenizer's words of a raw text).
  std::vector<std::string> words;
  // One tag per word; empty for unlabeled input (prediction).
  std::vector<std::string> tags;
  // Raw text, for examples read from text + character spans or built from raw text; the words
  // are then slices of it (word_spans, bytes). Empty for word-level formats.
  std::string text;
  std::vector<ByteSpan> word_spans;
};

// Sequence classification (also BLUE-style relation extraction and PubMedQA/HoC conversions).
struct ClsExample {
  std::string id;
  size_t line = 0;
  std::string text;
  // Second text of a pair (MedNLI premise/hypothesis, PubMedQA question/context).
  std::string text_pair;
  bool has_pair = false;
  // single_label: one label; multi_label: the positive labels; regression: empty.
  std::vector<std::string> labels;
  // regression target.
  float value = 0.0f;
  // False for unlabeled input (prediction).
  bool labeled = false;
};

// One gold answer of a QA example.
struct QaAnswer {
  std::string text;
  // Code-point offset into the context (SQuAD `answer_start`, a Python str index).
  size_t char_start = 0;
  // The same answer as a byte range of the context.
  ByteSpan bytes;
};

// Extractive QA (SQuAD v1.1 / v2 layout).
struct QaExample {
  std::string id;
  size_t line = 0;
  std::string title;
  std::string question;
  std::string context;
  std::vector<QaAnswer> answers;
  // SQuAD v2 unanswerable question.
  bool is_impossible = false;
};

// Relation extraction, text already in model form (BLUE masked sentence, or the text with
// [E1] [/E1] [E2] [/E2] markers inserted at the head/tail spans).
struct ReExample {
  std::string id;
  size_t line = 0;
  std::string text;
  std::string label;
  bool labeled = false;
  // True when the text holds entity markers (marker pooling is then possible).
  bool has_markers = false;
};

}  // namespace clintorch::data
