// mlm: text corpora are read, blocked and masked by MlmCorpus (data/mlm.h), not as task files;
// these ops say so where a task dataset is asked for.
#include "data/dataset.h"
#include "data/task_data.h"

namespace clintorch::data {
namespace {

size_t num_examples(const TaskDataset&) {
  return 0;
}

LabelMap collect(const TaskDataset&, const ReaderOptions&) {
  return LabelMap();
}

void build(TaskDataset&, size_t, const tok::Tokenizer&, const FeatureOptions&,
           const std::vector<std::string>&, std::vector<Feature>&) {}

void collate_targets(const TaskDataset&, const std::vector<size_t>&, int64_t, Batch&) {}

}  // namespace

const TaskDataOps& mlm_data_ops() {
  static const TaskDataOps ops = [] {
    TaskDataOps o{};
    o.read = nullptr;
    o.corpus = true;
    o.num_examples = &num_examples;
    o.collect_labels = &collect;
    o.build = &build;
    o.collate_targets = &collate_targets;
    o.collate_inputs = nullptr;
    o.add_raw = nullptr;
    o.raw_layout = RawLayout::kText;
    o.word_index = false;
    o.problem_type = false;
    o.entity_pair = false;
    o.label_map = false;
    return o;
  }();
  return ops;
}

}  // namespace clintorch::data
