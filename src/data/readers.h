// Dataset readers: one function per task family, each reading every supported file format of
// that task into examples (see docs/tasks-and-formats.md for the formats and their options).
// Errors name FILE:LINE and the offending key/label, never the text.
#pragma once

#include <string>
#include <vector>

#include "data/examples.h"
#include "data/labels.h"
#include "util/choice.h"

namespace clintorch::tok {
class Tokenizer;
}

namespace clintorch::data {

// The task a dataset feeds; selects the reader and the feature builder.
enum class Task {
  kMlm,                     // masked-language-model corpus
  kTokenClassification,     // NER
  kSequenceClassification,  // text / text-pair classification or regression
  kQuestionAnswering,       // extractive QA (SQuAD)
  kRelationExtraction,      // relation classification
};
// The task of a name or alias ("ner" -> kTokenClassification); names, aliases and the formats of
// each task are in the task registry (data/task_registry.cpp). Throws Error when unknown.
Task parse_task(const std::string& name);
std::string task_name(Task task);

// File formats. kAuto picks one from the task and the file extension (see detect_format).
enum class Format {
  kAuto,
  kConll,          // NER: token ... label columns, blank line between sentences
  kNerJsonl,       // NER: {"tokens": [...], "tags": [...]}
  kNerSpansJsonl,  // NER: {"text": "...", "entities": [{"start", "end", "label"}]}
  kCsv,            // classification: RFC 4180 CSV
  kTsv,            // classification: tab-separated (no quoting unless asked)
  kJsonl,          // classification: one JSON object per line
  kSquad,          // QA: SQuAD v1.1 / v2 JSON
  kBlueTsv,        // RE: BLUE TSV (sentence<TAB>label, or index<TAB>sentence<TAB>label)
  kReJsonl,        // RE: {"text", "head": {"start","end"}, "tail": {...}, "label"}
  kText,           // MLM: plain text
};
// The reader's name of a format ("ner_jsonl", ...). Names given by users are read per task by
// data::task_format (data/task_registry.h).
std::string format_name(Format format);
// The format for `path` and `task` when `format` is kAuto (the task registry's rule; peeks at the
// first line of NER JSONL files to tell tokens/tags from text/entities); otherwise `format` after
// checking that the task reads it.
Format resolve_format(Format format, Task task, const std::string& path);

enum class ProblemType {
  kSingleLabel,  // one class per example (cross-entropy)
  kMultiLabel,   // any number of classes (BCE): a list of labels or several 0/1 columns
  kRegression,   // one float (MSE), e.g. BIOSSES similarity
};
// "single_label_classification"/"single_label", "multi_label_classification"/"multi_label",
// "regression" (HF problem_type names are accepted).
ProblemType parse_problem_type(const std::string& name);
std::string problem_type_name(ProblemType type);

// How the readers find things in a file. Defaults suit the common public layouts.
struct ReaderOptions {
  // --- CoNLL ------------------------------------------------------------------------------
  // Column of the token (0-based). Default 0.
  int token_column = 0;
  // Column of the label; negative counts from the end (-1 = last). Default -1.
  int label_column = -1;
  // Column separator: "auto" (tab when the first data line has one, else spaces), "tab",
  // "space". Default "auto".
  std::string column_separator = "auto";

  // --- JSONL keys ---------------------------------------------------------------------------
  // Words of a pre-tokenised NER example. Default "tokens".
  std::string tokens_key = "tokens";
  // Tags of a pre-tokenised NER example ("ner_tags" is also tried). Strings, or integer ids into
  // `label_names`. Default "tags".
  std::string tags_key = "tags";
  // Raw text (NER spans, classification JSONL, RE JSONL). Default "text".
  std::string text_key = "text";
  // Character-span entities of a raw-text NER example: a list of {"start", "end", "label"}
  // objects or [start, end, label] triples; offsets count Unicode code points, end exclusive
  // (Python slicing). Default "entities".
  std::string entities_key = "entities";
  // Optional example id. Default "id".
  std::string id_key = "id";
  // Names of integer tag ids in NER JSONL (HF ClassLabel order). Default empty.
  std::vector<std::string> label_names;

  // --- NER tags -----------------------------------------------------------------------------
  // Scheme of the tags in the file: "auto" (IOBES when E-/S- tags occur, IOB2 when every tag is
  // B/I/O-prefixed, else none), "iob1", "iob2", "iobes", "none". Default "auto".
  std::string tag_scheme = "auto";
  // Scheme the model is trained on: "same" (as read), "iob2" or "iobes". Default "same".
  std::string target_scheme = "same";

  // --- Classification (CSV/TSV/JSONL) -------------------------------------------------------
  // Column (or JSON key) of the text; a number selects a column of a header-less file.
  // Default "text" ("sentence" is also tried).
  std::string text_column = "text";
  // Column of the second text of a pair; "" = single texts. Default "".
  std::string text_pair_column;
  // Label column(s). One column: the label (single-label), a list / separated labels
  // (multi-label) or a float (regression). Several columns: 0/1 multi-label indicators, the
  // column names being the labels. Default {"label"}.
  std::vector<std::string> label_columns{"label"};
  // How labels are read. Default single_label.
  ProblemType problem_type = ProblemType::kSingleLabel;
  // Multi-label in one text cell, e.g. "," or ";" or "|": the separator. Default "," .
  std::string label_separator = ",";
  // First row is a header: "auto" (when it contains the text column's name), "true", "false".
  // Default "auto".
  std::string header = "auto";
  // RFC 4180 quoting in TSV files (CSV always quotes). Default false: BLUE-style TSV files
  // contain bare quotes.
  bool tsv_quoting = false;

  // --- QA -----------------------------------------------------------------------------------
  // What to do with an answer whose text does not match the context at answer_start: "error"
  // or "skip" (drop that answer, with a warning). Default "error".
  std::string on_bad_answer = "error";

  // --- Relation extraction (JSONL) -----------------------------------------------------------
  // Keys of the head and tail entity spans ({"start","end"} in code points or [start, end]).
  // Defaults "head", "tail".
  std::string head_key = "head";
  std::string tail_key = "tail";
  // The four entity markers inserted around head and tail. Default [E1] [/E1] [E2] [/E2].
  std::vector<std::string> entity_markers{"[E1]", "[/E1]", "[E2]", "[/E2]"};

  // --- All formats --------------------------------------------------------------------------
  // The file must carry labels (train/dev/test). False for prediction inputs. Default true.
  bool labeled = true;
};

// NER: CoNLL, NER JSONL (tokens/tags) or NER spans JSONL (text + character spans; needs the
// tokenizer, whose words become the example's words). Tags are converted to target_scheme.
std::vector<NerExample> read_ner(const std::string& path, Format format,
                                 const ReaderOptions& options,
                                 const tok::Tokenizer* tokenizer = nullptr);
// Classification: CSV, TSV or JSONL.
std::vector<ClsExample> read_classification(const std::string& path, Format format,
                                            const ReaderOptions& options);
// QA: SQuAD v1.1 / v2 JSON. Answers are checked against the context at their offsets.
std::vector<QaExample> read_squad(const std::string& path, const ReaderOptions& options);
// RE: BLUE TSV or JSONL with head/tail spans (markers inserted).
std::vector<ReExample> read_relations(const std::string& path, Format format,
                                      const ReaderOptions& options);

// A NER example from raw text: the tokenizer's words (pre-tokens) with their byte spans, no
// tags. Used for prediction on raw text and by the spans reader.
NerExample ner_example_from_text(const tok::Tokenizer& tokenizer, std::string text);

// Word tags from character spans: each word overlapping an entity gets its label (B- on the
// first word). `spans` are byte ranges into example.text with labels; returns the number of
// entity boundaries that fall inside a word.
size_t tag_words_from_spans(NerExample& example, const std::vector<TagSpan>& byte_spans);

}  // namespace clintorch::data

namespace clintorch {
// The task registry's canonical names, by enumerator (data/task_registry.cpp).
template <>
struct ChoiceNames<data::Task> {
  static const std::vector<std::string>& names();
};

template <>
struct ChoiceNames<data::ProblemType> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"single_label_classification",
                                                 "multi_label_classification", "regression"};
    return kNames;
  }
};
}  // namespace clintorch
