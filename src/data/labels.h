// Label maps (label <-> id, the order of the model's classifier rows) and NER tag schemes
// (IOB1, IOB2, IOBES) with conversions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include "util/choice.h"

namespace clintorch::data {

// The labels of a task in id order; stored as id2label/label2id in the exported config.json.
class LabelMap {
 public:
  LabelMap() = default;
  // Labels in id order (must be unique).
  explicit LabelMap(std::vector<std::string> labels);
  // HF order for labels collected from a training file: sorted unique (run_ner/run_classification
  // `label_list.sort()`).
  static LabelMap sorted(const std::vector<std::string>& labels);

  // Id of a label, or -1 when unknown.
  int32_t id(std::string_view label) const;
  bool contains(std::string_view label) const { return id(label) >= 0; }
  // Label of an id; throws clintorch::Error when out of range.
  const std::string& label(int32_t id) const;
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  const std::vector<std::string>& labels() const { return labels_; }
  // Adds a label at the end (no-op when present); returns its id.
  int32_t add(const std::string& label);

  // HF run_ner.py `b_to_i_label`: for each id, the id of "I-X" when the label is "B-X" and "I-X"
  // exists, else the id itself. Used to label non-first sub-tokens with label_all_tokens.
  std::vector<int32_t> b_to_i() const;

  bool operator==(const LabelMap& o) const { return labels_ == o.labels_; }
  bool operator!=(const LabelMap& o) const { return !(*this == o); }

 private:
  std::vector<std::string> labels_;
  std::unordered_map<std::string, int32_t> ids_;
};

// NER tag schemes. Tags are "O" or "P-TYPE" (or a bare prefix "B"/"I"/... for untyped tags, as in
// the BioBERT JNLPBA files).
enum class TagScheme {
  kNone,   // labels used as they are, no checks or conversion
  kIOB1,   // I-X starts an entity unless it follows X; B-X only between two adjacent X entities
  kIOB2,   // every entity starts with B-X, continues with I-X
  kIOBES,  // S-X single-token entity, B-X ... E-X multi-token (also called BIOES / BILOU-like)
};

// Parses "none", "iob1", "iob2" (alias "bio"), "iobes" (alias "bioes"); throws Error otherwise.
TagScheme parse_tag_scheme(const std::string& name);
std::string tag_scheme_name(TagScheme scheme);

// Splits a tag into prefix and type: "B-Disease" -> ('B', "Disease"), "O" -> ('O', ""),
// "B" -> ('B', ""). Returns prefix 0 when the tag has no known prefix.
std::pair<char, std::string_view> split_tag(std::string_view tag);

// Guesses the scheme of a tag collection: IOBES when an E-/S- prefix occurs, IOB2 when every tag
// has a B/I/O prefix, kNone otherwise.
TagScheme detect_tag_scheme(const std::vector<std::string>& distinct_tags);

// Converts one sentence's tags between schemes (kNone on either side: returned unchanged).
// Throws Error when a tag does not belong to `from` (the caller adds file:line context).
std::vector<std::string> convert_tags(const std::vector<std::string>& tags, TagScheme from,
                                      TagScheme to);

// Entities of a tag sequence as (begin, end, type) word ranges, read with `scheme` the way
// seqeval's default mode does for IOB2 (I-X after O or another type starts an entity).
struct TagSpan {
  size_t begin = 0;
  size_t end = 0;  // exclusive
  std::string type;
};
std::vector<TagSpan> tags_to_spans(const std::vector<std::string>& tags, TagScheme scheme);
// The IOB2 (or IOBES) tags of `n` words holding the given non-overlapping spans.
std::vector<std::string> spans_to_tags(const std::vector<TagSpan>& spans, size_t n,
                                       TagScheme scheme);

}  // namespace clintorch::data

namespace clintorch {
template <>
struct ChoiceNames<data::TagScheme> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"none", "iob1", "iob2", "iobes"};
    return kNames;
  }
};
}  // namespace clintorch
