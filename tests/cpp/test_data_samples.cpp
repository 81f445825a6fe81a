// Every sample file under datasets/ (one per supported format) loads and gives the expected
// examples, labels and features.
#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/mlm.h"
#include "data_test_util.h"

namespace clintorch::data {
namespace {

struct Sample {
  std::string path;
  Task task;
  size_t examples;
  std::vector<std::string> labels;
  std::function<void(DataOptions&)> tweak;
};

TEST(DataSamples, EveryFormatLoads) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  const std::vector<std::string> ner_labels{
      "B-Problem", "B-Test", "B-Treatment", "I-Problem", "I-Test", "I-Treatment", "O"};
  const std::vector<Sample> samples{
      {"ner_conll/train.tsv", Task::kTokenClassification, 8, ner_labels, nullptr},
      {"ner_conll_iobes/train.txt",
       Task::kTokenClassification,
       6,
       {"B-Problem", "B-Test", "B-Treatment", "E-Problem", "E-Test", "E-Treatment", "I-Problem",
        "I-Treatment", "O", "S-Problem", "S-Test", "S-Treatment"},
       nullptr},
      {"ner_jsonl/train.jsonl", Task::kTokenClassification, 8, ner_labels, nullptr},
      {"ner_spans/train.jsonl",
       Task::kTokenClassification,
       4,
       {"B-Problem", "B-Test", "B-Treatment", "I-Problem", "I-Treatment", "O"},
       nullptr},
      {"cls_csv/train.csv", Task::kSequenceClassification, 6, {"Cardiology", "Urology"}, nullptr},
      {"cls_tsv/train.tsv",
       Task::kSequenceClassification,
       6,
       {"contradiction", "entailment", "neutral"},
       [](DataOptions& o) {
         o.reader.text_column = "sentence1";
         o.reader.text_pair_column = "sentence2";
       }},
      {"cls_jsonl/train.jsonl",
       Task::kSequenceClassification,
       5,
       {"cardiac", "endocrine", "infectious", "renal"},
       [](DataOptions& o) { o.reader.problem_type = ProblemType::kMultiLabel; }},
      {"cls_multilabel_columns/train.csv",
       Task::kSequenceClassification,
       4,
       {"cardiac", "renal", "endocrine"},
       [](DataOptions& o) {
         o.reader.problem_type = ProblemType::kMultiLabel;
         o.reader.label_columns = {"cardiac", "renal", "endocrine"};
       }},
      {"cls_regression/train.tsv",
       Task::kSequenceClassification,
       4,
       {},
       [](DataOptions& o) {
         o.reader.problem_type = ProblemType::kRegression;
         o.reader.text_column = "sentence1";
         o.reader.text_pair_column = "sentence2";
         o.reader.label_columns = {"score"};
       }},
      {"qa_squad/train.json", Task::kQuestionAnswering, 6, {}, nullptr},
      {"re_blue/train.tsv", Task::kRelationExtraction, 4, {"0", "1"}, nullptr},
      {"re_blue/test.tsv", Task::kRelationExtraction, 2, {"0", "1"}, nullptr},
      {"re_jsonl/train.jsonl",
       Task::kRelationExtraction,
       4,
       {"decreases_level", "increases_level", "none"},
       nullptr},
  };
  add_entity_markers(*tokenizer);
  for (const auto& s : samples) {
    DataOptions o;
    o.task = s.task;
    o.cache.enabled = false;
    if (s.tweak) s.tweak(o);
    const std::string path = test::source_path("datasets/" + s.path);
    std::shared_ptr<TaskDataset> d;
    ASSERT_NO_THROW(d = load_task_dataset(path, *tokenizer, o)) << s.path;
    EXPECT_EQ(d->num_examples(), s.examples) << s.path;
    EXPECT_EQ(d->labels.labels(), s.labels) << s.path;
    EXPECT_GE(d->features.size(), s.examples) << s.path;
    std::vector<size_t> all(d->features.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    Batch b = d->collate(all);
    EXPECT_EQ(b.size(), static_cast<int64_t>(all.size())) << s.path;
    EXPECT_TRUE(b.labels.defined() || b.start_positions.defined()) << s.path;
  }
  // The QA sample's answers come back through the offsets.
  DataOptions qo;
  qo.task = Task::kQuestionAnswering;
  qo.cache.enabled = false;
  auto qa = load_task_dataset(test::source_path("datasets/qa_squad/train.json"), *tokenizer, qo);
  for (const auto& f : qa->features) {
    const QaExample& ex = qa->qa[f.example];
    if (ex.is_impossible) {
      EXPECT_EQ(f.start_position, 0);
      continue;
    }
    const auto s = f.context_offsets[static_cast<size_t>(f.start_position)];
    const auto e = f.context_offsets[static_cast<size_t>(f.end_position)];
    EXPECT_EQ(static_cast<size_t>(s.begin), ex.answers[0].char_start) << ex.id;
    EXPECT_EQ(static_cast<size_t>(e.end - s.begin), ex.answers[0].text.size())
        << ex.id;  // ASCII answers
  }
  // Both MLM samples.
  CacheOptions cache;
  cache.enabled = false;
  MlmCorpusOptions mo;
  mo.max_seq_length = 16;
  auto lines = MlmCorpus::open({test::source_path("datasets/mlm_text")}, *tokenizer, mo,
                               MaskingOptions{}, cache);
  EXPECT_EQ(lines->num_documents(), 8u);
  mo.document_split = data::DocumentSplit::kBlankLine;
  auto blocks = MlmCorpus::open({test::source_path("datasets/mlm_text_blank/notes.txt")},
                                *tokenizer, mo, MaskingOptions{}, cache);
  EXPECT_EQ(blocks->num_documents(), 3u);
}

}  // namespace
}  // namespace clintorch::data
