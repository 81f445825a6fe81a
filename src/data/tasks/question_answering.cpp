// question_answering: SQuAD v1.1 / v2 JSON; targets are the answer's first and last token.
#include <torch/torch.h>

#include "data/dataset.h"
#include "data/task_data.h"

namespace clintorch::data {
namespace {

void read(TaskDataset& d, const ReaderOptions& o, const tok::Tokenizer&) {
  d.qa = read_squad(d.path, o);
  d.labeled = o.labeled;
}

size_t num_examples(const TaskDataset& d) {
  return d.qa.size();
}

LabelMap collect(const TaskDataset&, const ReaderOptions&) {
  return LabelMap();
}

void build(TaskDataset& d, size_t i, const tok::Tokenizer& tokenizer, const FeatureOptions& o,
           const std::vector<std::string>&, std::vector<Feature>& out) {
  build_qa_features(tokenizer, d.qa[i], static_cast<uint32_t>(i), o, d.path, out);
}

void collate_targets(const TaskDataset& d, const std::vector<size_t>& indices, int64_t, Batch& b) {
  const auto n = static_cast<int64_t>(indices.size());
  b.start_positions = torch::empty({n}, torch::kInt64);  // (batch)
  b.end_positions = torch::empty({n}, torch::kInt64);    // (batch)
  int64_t* sp = b.start_positions.data_ptr<int64_t>();
  int64_t* ep = b.end_positions.data_ptr<int64_t>();
  for (int64_t r = 0; r < n; ++r) {
    const Feature& f = d.features[indices[static_cast<size_t>(r)]];
    sp[r] = f.start_position;
    ep[r] = f.end_position;
  }
  b.num_label_tokens = n;
}

void add_raw(TaskDataset& d, const RawInput& in, const tok::Tokenizer&,
             const std::vector<std::string>&) {
  QaExample ex;
  ex.line = in.line;
  ex.id = in.id;
  ex.question = in.question;
  ex.context = in.context;
  d.qa.push_back(std::move(ex));
}

}  // namespace

const TaskDataOps& qa_data_ops() {
  static const TaskDataOps ops = [] {
    TaskDataOps o{};
    o.read = &read;
    o.num_examples = &num_examples;
    o.collect_labels = &collect;
    o.build = &build;
    o.collate_targets = &collate_targets;
    o.collate_inputs = nullptr;
    o.add_raw = &add_raw;
    o.raw_layout = RawLayout::kQuestionContext;
    o.word_index = false;
    o.problem_type = false;
    o.entity_pair = false;
    o.label_map = false;
    return o;
  }();
  return ops;
}

}  // namespace clintorch::data
