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

}  // namespace

const TaskDataOps& ner_data_ops() {
  static const TaskDataOps ops{&read,
                               &num_examples,
                               &collect,
                               &build,
                               &collate_targets,
                               nullptr,
                               /*word_index=*/true,
                               /*problem_type=*/false,
                               /*label_map=*/true};
  return ops;
}

}  // namespace clintorch::data
