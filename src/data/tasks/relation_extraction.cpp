// relation_extraction: BLUE TSV (entities masked), JSONL with head/tail spans (entity markers
// inserted), or the classification layouts; one label per example.
#include <torch/torch.h>

#include "data/dataset.h"
#include "data/task_data.h"

namespace clintorch::data {

void collate_sequence_targets(const TaskDataset& d, const std::vector<size_t>& indices,
                              ProblemType problem_type, Batch& b);  // tasks/classification.cpp

namespace {

void read(TaskDataset& d, const ReaderOptions& o, const tok::Tokenizer&) {
  d.re = read_relations(d.path, d.format, o);
  d.labeled = !d.re.empty() && d.re.front().labeled;
}

size_t num_examples(const TaskDataset& d) {
  return d.re.size();
}

LabelMap collect(const TaskDataset& d, const ReaderOptions&) {
  std::vector<std::string> all;
  for (const auto& ex : d.re) {
    if (ex.labeled) all.push_back(ex.label);
  }
  return LabelMap::sorted(all);
}

void build(TaskDataset& d, size_t i, const tok::Tokenizer& tokenizer, const FeatureOptions& o,
           const std::vector<std::string>& markers, std::vector<Feature>& out) {
  build_re_features(tokenizer, d.re[i], static_cast<uint32_t>(i), d.labels, o, d.path, markers,
                    out);
}

void collate_targets(const TaskDataset& d, const std::vector<size_t>& indices, int64_t, Batch& b) {
  collate_sequence_targets(d, indices, ProblemType::kSingleLabel, b);
}

// The [E1] and [E2] marker positions, also for unlabelled (prediction) batches.
void collate_inputs(const TaskDataset& d, const std::vector<size_t>& indices, Batch& b) {
  bool any = false;
  for (size_t i : indices) any = any || d.features[i].head_marker >= 0;
  if (!any) return;
  const auto n = static_cast<int64_t>(indices.size());
  b.entity_positions = torch::empty({n, 2}, torch::kInt64);  // (batch, 2)
  int64_t* p = b.entity_positions.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const Feature& f = d.features[indices[static_cast<size_t>(r)]];
    p[2 * r] = f.head_marker;
    p[2 * r + 1] = f.tail_marker;
  }
}

// Raw text with the entities already marked: [E1]..[/E1] [E2]..[/E2], or BLUE-masked.
void add_raw(TaskDataset& d, const RawInput& in, const tok::Tokenizer&,
             const std::vector<std::string>& markers) {
  ReExample ex;
  ex.line = in.line;
  ex.text = in.text;
  ex.has_markers = !markers.empty() && in.text.find(markers[0]) != std::string::npos;
  d.re.push_back(std::move(ex));
}

}  // namespace

const TaskDataOps& re_data_ops() {
  static const TaskDataOps ops = [] {
    TaskDataOps o{};
    o.read = &read;
    o.num_examples = &num_examples;
    o.collect_labels = &collect;
    o.build = &build;
    o.collate_targets = &collate_targets;
    o.collate_inputs = &collate_inputs;
    o.add_raw = &add_raw;
    o.raw_layout = RawLayout::kText;
    o.word_index = false;
    o.problem_type = false;
    o.label_map = true;
    o.entity_pair = true;
    return o;
  }();
  return ops;
}

}  // namespace clintorch::data
