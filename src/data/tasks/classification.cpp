// sequence_classification: CSV / TSV / JSONL texts or text pairs; single-label, multi-label
// (lists, separated cells or 0/1 columns) or regression targets.
#include <torch/torch.h>

#include <algorithm>

#include "data/dataset.h"
#include "data/task_data.h"

namespace clintorch::data {

// Sequence-level targets, shared with relation_extraction (always single-label there).
void collate_sequence_targets(const TaskDataset& d, const std::vector<size_t>& indices,
                              ProblemType problem_type, Batch& b) {
  const auto n = static_cast<int64_t>(indices.size());
  if (problem_type == ProblemType::kSingleLabel) {
    b.labels = torch::empty({n}, torch::kInt64);  // (batch)
    int64_t* l = b.labels.data_ptr<int64_t>();
    for (int64_t r = 0; r < n; ++r) {
      l[r] = d.features[indices[static_cast<size_t>(r)]].label;
      b.num_label_tokens += l[r] != -100;
    }
  } else if (problem_type == ProblemType::kMultiLabel) {
    const auto c = static_cast<int64_t>(d.labels.size());
    b.labels = torch::zeros({n, c}, torch::kFloat32);  // (batch, num_labels)
    float* l = b.labels.data_ptr<float>();
    for (int64_t r = 0; r < n; ++r) {
      const auto& t = d.features[indices[static_cast<size_t>(r)]].targets;
      std::copy(t.begin(), t.end(), l + r * c);
    }
    b.num_label_tokens = n;
  } else {
    b.labels = torch::empty({n}, torch::kFloat32);  // (batch)
    float* l = b.labels.data_ptr<float>();
    for (int64_t r = 0; r < n; ++r)
      l[r] = d.features[indices[static_cast<size_t>(r)]].targets.at(0);
    b.num_label_tokens = n;
  }
}

namespace {

void read(TaskDataset& d, const ReaderOptions& o, const tok::Tokenizer&) {
  d.cls = read_classification(d.path, d.format, o);
  d.labeled = !d.cls.empty() && d.cls.front().labeled;
}

size_t num_examples(const TaskDataset& d) {
  return d.cls.size();
}

LabelMap collect(const TaskDataset& d, const ReaderOptions& o) {
  if (d.problem_type == ProblemType::kRegression) return LabelMap();
  if (d.problem_type == ProblemType::kMultiLabel && o.label_columns.size() > 1) {
    return LabelMap(o.label_columns);
  }
  std::vector<std::string> all;
  for (const auto& ex : d.cls) all.insert(all.end(), ex.labels.begin(), ex.labels.end());
  return LabelMap::sorted(all);
}

void build(TaskDataset& d, size_t i, const tok::Tokenizer& tokenizer, const FeatureOptions& o,
           const std::vector<std::string>&, std::vector<Feature>& out) {
  build_cls_features(tokenizer, d.cls[i], static_cast<uint32_t>(i), d.labels, o, d.path, out);
}

void collate_targets(const TaskDataset& d, const std::vector<size_t>& indices, int64_t, Batch& b) {
  collate_sequence_targets(d, indices, d.problem_type, b);
}

void add_raw(TaskDataset& d, const RawInput& in, const tok::Tokenizer&,
             const std::vector<std::string>&) {
  ClsExample ex;
  ex.line = in.line;
  ex.text = in.text;
  ex.text_pair = in.pair;
  ex.has_pair = in.has_pair;
  d.cls.push_back(std::move(ex));
}

}  // namespace

const TaskDataOps& classification_data_ops() {
  static const TaskDataOps ops = [] {
    TaskDataOps o{};
    o.read = &read;
    o.num_examples = &num_examples;
    o.collect_labels = &collect;
    o.build = &build;
    o.collate_targets = &collate_targets;
    o.collate_inputs = nullptr;
    o.add_raw = &add_raw;
    o.raw_layout = RawLayout::kTextPair;
    o.word_index = false;
    o.problem_type = true;
    o.entity_pair = false;
    o.label_map = true;
    return o;
  }();
  return ops;
}

}  // namespace clintorch::data
