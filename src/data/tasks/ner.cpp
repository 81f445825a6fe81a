// token_classification (NER): CoNLL / tokens-tags JSONL / character-span JSONL, word-level labels
// on the first sub-token of each word.
#include <torch/torch.h>

#include "data/dataset.h"
#include "data/task_data.h"

namespace clintorch::data {
namespace {

void read(TaskDataset& d, const ReaderOptions& o, const tok::Tokenizer& tokenizer) {
  d.ner = read_ner(d.path, d.format, o, &tokenizer);
  d.labeled = o.labeled;
}

size_t num_examples(const TaskDataset& d) {
  return d.ner.size();
}

LabelMap collect(const TaskDataset& d, const ReaderOptions&) {
  std::vector<std::string> all;
  for (const auto& ex : d.ner) all.insert(all.end(), ex.tags.begin(), ex.tags.end());
  return LabelMap::sorted(all);
}

void build(TaskDataset& d, size_t i, const tok::Tokenizer& tokenizer, const FeatureOptions& o,
           const std::vector<std::string>&, std::vector<Feature>& out) {
  build_ner_features(tokenizer, d.ner[i], static_cast<uint32_t>(i), d.labels, o, d.path, out,
                     d.words[i]);
}

void collate_targets(const TaskDataset& d, const std::vector<size_t>& indices, int64_t s,
                     Batch& b) {
  const auto n = static_cast<int64_t>(indices.size());
  b.labels = torch::full({n, s}, int64_t{-100}, torch::kInt64);  // (batch, seq)
  int64_t* l = b.labels.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const Feature& f = d.features[indices[static_cast<size_t>(r)]];
    for (size_t j = 0; j < f.token_labels.size(); ++j) {
      l[r * s + static_cast<int64_t>(j)] = f.token_labels[j];
      b.num_label_tokens += f.token_labels[j] != -100;
    }
  }
}

// Raw text: the tokenizer's words (pre-tokens) with their byte spans, no tags.
void add_raw(TaskDataset& d, const RawInput& in, const tok::Tokenizer& tokenizer,
             const std::vector<std::string>&) {
  NerExample ex = ner_example_from_text(tokenizer, in.text);
  ex.line = in.line;
  d.ner.push_back(std::move(ex));
}

}  // namespace

const TaskDataOps& ner_data_ops() {
  static const TaskDataOps ops = [] {
    TaskDataOps o{};
    o.read = &read;
    o.num_examples = &num_examples;
    o.collect_labels = &collect;
    o.build = &build;
    o.collate_targets = &collate_targets;
    o.collate_inputs = nullptr;
    o.add_raw = &add_raw;
    o.raw_layout = RawLayout::kText;
    o.word_index = true;
    o.problem_type = false;
    o.entity_pair = false;
    o.label_map = true;
    return o;
  }();
  return ops;
}

}  // namespace clintorch::data
