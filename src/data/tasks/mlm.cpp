// mlm: text corpora are read, blocked and masked by MlmCorpus (data/mlm.h), not as task files;
// these ops say so where a task dataset is asked for.
#include "data/dataset.h"
#include "data/task_data.h"
#include "util/error.h"

namespace clintorch::data {
namespace {

void read(TaskDataset&, const ReaderOptions&, const tok::Tokenizer&) {
  fail("task", "MLM corpora are opened with data::MlmCorpus::open, not load_task_dataset");
}

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
  static const TaskDataOps ops{&read,
                               &num_examples,
                               &collect,
                               &build,
                               &collate_targets,
                               nullptr,
                               /*word_index=*/false,
                               /*problem_type=*/false,
                               /*label_map=*/false};
  return ops;
}

}  // namespace clintorch::data
