// evaluate_task (src/eval/task_eval.h) on the small labelled samples in datasets/ with tiny
// random models: the metrics equal the metric functions applied to the per-example predictions it
// returns; results do not depend on how features are batched (sizes, token budgets, windows);
// the loss is the token/example-weighted mean of the heads' losses; the model's mode is
// restored; mismatches are errors. Parity of the metric functions with seqeval / scikit-learn /
// the SQuAD scripts is tested in test_metrics*.py; `clintorch evaluate` against the Python
// references in tests/python/test_evaluate_cli.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/mlm.h"
#include "data_test_util.h"
#include "eval/classification_metrics.h"
#include "eval/ner_metrics.h"
#include "eval/qa_metrics.h"
#include "eval/regression_metrics.h"
#include "eval/task_eval.h"
#include "model/heads/task_model.h"

namespace {

using namespace clintorch;

model::BertConfig tiny_config(int64_t vocab) {
  return test::tiny_bert_config(vocab, 128);
}

// A fresh model whose classifier bias is spread so that every label gets predicted somewhere.
model::TaskModel make_model(const std::string& head, int64_t vocab, model::HeadOptions options,
                            uint64_t seed) {
  torch::manual_seed(seed);
  auto m = model::create_task_model(head, tiny_config(vocab), options);
  torch::NoGradGuard no_grad;
  for (auto& p : m->named_parameters()) {
    if (p.key() == "classifier.bias" || p.key() == "qa_outputs.bias") p.value().normal_(0.0, 0.5);
    if (p.key() == "classifier.weight" || p.key() == "qa_outputs.weight")
      p.value().normal_(0.0, 0.5);
  }
  return m;
}

std::shared_ptr<data::TaskDataset> load(const std::string& rel, const tok::Tokenizer& tokenizer,
                                        data::DataOptions o) {
  o.cache.enabled = false;
  return data::load_task_dataset(test::source_path("datasets/" + rel), tokenizer, o);
}

void expect_same_scalars(const eval::TaskEvalResult& a, const eval::TaskEvalResult& b) {
  ASSERT_EQ(a.scalars.size(), b.scalars.size());
  for (const auto& [k, v] : a.scalars) {
    ASSERT_TRUE(b.scalars.count(k)) << k;
    EXPECT_NEAR(v, b.scalars.at(k), 1e-5) << k;
  }
}

// The loss as the sum of every feature's loss_sum over the sum of their loss_weight, each
// feature run alone (no padding at all).
double loss_feature_by_feature(model::TaskModel& m, const data::Dataset& d) {
  torch::NoGradGuard no_grad;
  m->eval();
  double sum = 0, weight = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    const model::HeadOutput out = m->forward(eval::to_model_batch(d.collate({i}, 0)));
    sum += out.loss_sum.item<double>();
    weight += out.loss_weight.item<double>();
  }
  return sum / weight;
}

TEST(TaskEval, NerMetricsEqualSeqevalOnItsPredictionsWithWindows) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  data::DataOptions o;
  o.task = data::Task::kTokenClassification;
  o.features.max_seq_length = 10;  // long sentences become several windows
  o.features.doc_stride = 3;
  auto dev = load("ner_clinical_sample/dev.conll", *tokenizer, o);
  ASSERT_GT(dev->features.size(), dev->num_examples()) << "the sample should need windows";
  model::HeadOptions ho;
  ho.labels = dev->labels.labels();
  auto m = make_model("token_classification", tokenizer->vocab_size(), ho, 7);
  m->train();

  eval::TaskEvalOptions eo;
  eo.keep_predictions = true;
  eo.batch_size = 1;
  const auto one = eval::evaluate_task(m, *dev, eo);
  EXPECT_TRUE(m->is_training()) << "the model's mode must be restored";
  eo.batch_size = 7;
  const auto seven = eval::evaluate_task(m, *dev, eo);
  eo.batch_size = 64;
  eo.max_tokens = 100;
  const auto budget = eval::evaluate_task(m, *dev, eo);
  expect_same_scalars(one, seven);
  expect_same_scalars(one, budget);
  ASSERT_EQ(one.predictions.size(), dev->num_examples());
  for (size_t e = 0; e < dev->num_examples(); ++e) {
    EXPECT_EQ(one.predictions[e]["tags"], seven.predictions[e]["tags"]) << e;
    EXPECT_EQ(one.predictions[e]["tags"], budget.predictions[e]["tags"]) << e;
  }
  EXPECT_EQ(one.num_examples, dev->num_examples());
  EXPECT_EQ(one.num_features, dev->features.size());

  // The scores are seqeval's on (gold tags, predicted tags).
  std::vector<std::vector<std::string>> gold, pred;
  size_t entities = 0;
  for (size_t e = 0; e < dev->num_examples(); ++e) {
    gold.push_back(dev->ner[e].tags);
    pred.push_back(one.predictions[e]["tags"].get<std::vector<std::string>>());
    entities += one.predictions[e]["entities"].size();
  }
  EXPECT_GT(entities, 0u) << "the fixture should predict entities";
  for (const std::string mode : {"default", "strict"}) {
    eo.seqeval_mode = mode;
    eo.keep_predictions = false;
    const auto r = eval::evaluate_task(m, *dev, eo);
    eval::NerMetricsOptions mo;
    mo.mode = eval::parse_ner_mode(mode);
    const eval::NerReport ref = eval::ner_report(gold, pred, mo);
    EXPECT_DOUBLE_EQ(r.scalars.at("f1"), ref.micro.f1) << mode;
    EXPECT_DOUBLE_EQ(r.scalars.at("precision"), ref.micro.precision) << mode;
    EXPECT_DOUBLE_EQ(r.scalars.at("recall"), ref.micro.recall) << mode;
    EXPECT_DOUBLE_EQ(r.scalars.at("accuracy"), ref.token_accuracy) << mode;
    EXPECT_EQ(r.metrics["mode"], eval::to_json(ref)["mode"]);
    EXPECT_NE(r.table.find("micro avg"), std::string::npos);
  }
  // Token-weighted mean loss.
  EXPECT_NEAR(one.scalars.at("loss"), loss_feature_by_feature(m, *dev), 1e-5);
}

TEST(TaskEval, NerRawTextEntitiesAreCharacterSpans) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  auto d = std::make_shared<data::TaskDataset>();
  d->task = data::Task::kTokenClassification;
  d->labels = data::LabelMap({"O", "B-PROBLEM", "I-PROBLEM"});
  d->labeled = false;
  const std::vector<std::string> texts = {
      "Pt c/o chest pain radiating to the left arm; troponin négatif x2.", "",
      "Dyspnée on exertion — no fever, no cough. BP 150/90 mmHg."};
  for (const auto& t : texts) d->ner.push_back(data::ner_example_from_text(*tokenizer, t));
  data::FeatureOptions fo;
  fo.max_seq_length = 12;
  fo.doc_stride = 4;
  data::build_features(*d, *tokenizer, fo);
  model::HeadOptions ho;
  ho.labels = d->labels.labels();
  auto m = make_model("token_classification", tokenizer->vocab_size(), ho, 3);
  eval::TaskEvalOptions eo;
  eo.keep_predictions = true;
  const auto r = eval::evaluate_task(m, *d, eo);
  EXPECT_FALSE(r.scalars.count("loss"));
  ASSERT_EQ(r.predictions.size(), texts.size());
  size_t n = 0;
  for (size_t e = 0; e < texts.size(); ++e) {
    const std::vector<uint32_t> cps = [&] {
      std::vector<uint32_t> v;
      for (uint32_t i = 0; i < texts[e].size(); ++i) {
        if ((static_cast<unsigned char>(texts[e][i]) & 0xC0) != 0x80) v.push_back(i);
      }
      v.push_back(static_cast<uint32_t>(texts[e].size()));
      return v;
    }();
    for (const auto& ent : r.predictions[e]["entities"]) {
      const size_t s = ent["start"], t = ent["end"];
      ASSERT_LT(s, t);
      ASSERT_LT(t, cps.size());
      // Entities start and end on word boundaries of the text.
      const std::string slice = texts[e].substr(cps[s], cps[t] - cps[s]);
      EXPECT_FALSE(slice.empty());
      EXPECT_NE(slice.front(), ' ');
      EXPECT_NE(slice.back(), ' ');
      EXPECT_GE(ent["score"].get<double>(), 0.0);
      EXPECT_LE(ent["score"].get<double>(), 1.0);
      ++n;
    }
  }
  EXPECT_GT(n, 0u);
}

TEST(TaskEval, ClassificationMetricsEqualSklearnOnItsPredictions) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  data::DataOptions o;
  o.task = data::Task::kSequenceClassification;
  o.features.max_seq_length = 12;  // some texts get windows, aggregated by mean
  o.features.doc_stride = 4;
  auto d = load("cls_csv/train.csv", *tokenizer, o);
  model::HeadOptions ho;
  ho.labels = d->labels.labels();
  auto m = make_model("sequence_classification", tokenizer->vocab_size(), ho, 11);
  eval::TaskEvalOptions eo;
  eo.keep_predictions = true;
  const auto r = eval::evaluate_task(m, *d, eo);
  eo.batch_size = 2;
  expect_same_scalars(r, eval::evaluate_task(m, *d, eo));
  std::vector<int64_t> gold, pred;
  for (size_t e = 0; e < d->num_examples(); ++e) {
    gold.push_back(d->labels.id(d->cls[e].labels.at(0)));
    pred.push_back(d->labels.id(r.predictions[e]["label"].get<std::string>()));
    double sum = 0;
    for (const auto& [k, v] : r.predictions[e]["probabilities"].items()) sum += v.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
  const auto ref = eval::classification_report(gold, pred);
  EXPECT_DOUBLE_EQ(r.scalars.at("accuracy"), ref.accuracy);
  EXPECT_DOUBLE_EQ(r.scalars.at("macro_f1"), ref.macro.f1);
  EXPECT_DOUBLE_EQ(r.scalars.at("weighted_f1"), ref.weighted.f1);
  EXPECT_DOUBLE_EQ(r.scalars.at("f1"), ref.macro.f1);
  if (d->features.size() == d->num_examples()) {
    EXPECT_NEAR(r.scalars.at("loss"), loss_feature_by_feature(m, *d), 1e-5);
  }
}

TEST(TaskEval, MultiLabelAndRegression) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  data::DataOptions o;
  o.task = data::Task::kSequenceClassification;
  o.reader.problem_type = data::ProblemType::kMultiLabel;
  auto d = load("cls_jsonl/train.jsonl", *tokenizer, o);
  model::HeadOptions ho;
  ho.labels = d->labels.labels();
  ho.problem_type = "multi_label_classification";
  auto m = make_model("sequence_classification", tokenizer->vocab_size(), ho, 5);
  eval::TaskEvalOptions eo;
  eo.keep_predictions = true;
  const auto r = eval::evaluate_task(m, *d, eo);
  std::vector<std::vector<int>> gold, pred;
  for (size_t e = 0; e < d->num_examples(); ++e) {
    std::vector<int> g(d->labels.size()), p(d->labels.size());
    for (const auto& l : d->cls[e].labels) g[static_cast<size_t>(d->labels.id(l))] = 1;
    for (const auto& l : r.predictions[e]["labels"])
      p[static_cast<size_t>(d->labels.id(l.get<std::string>()))] = 1;
    gold.push_back(g);
    pred.push_back(p);
  }
  const auto ref = eval::multilabel_report(gold, pred);
  EXPECT_DOUBLE_EQ(r.scalars.at("example_f1"), ref.example_based.f1);
  EXPECT_DOUBLE_EQ(r.scalars.at("micro_f1"), ref.micro.f1);
  EXPECT_DOUBLE_EQ(r.scalars.at("macro_f1"), ref.macro.f1);
  EXPECT_NEAR(r.scalars.at("loss"), loss_feature_by_feature(m, *d), 1e-5);

  data::DataOptions ro;
  ro.task = data::Task::kSequenceClassification;
  ro.reader.problem_type = data::ProblemType::kRegression;
  ro.reader.text_column = "sentence1";
  ro.reader.text_pair_column = "sentence2";
  ro.reader.label_columns = {"score"};
  auto rd = load("cls_regression/train.tsv", *tokenizer, ro);
  model::HeadOptions rho;
  rho.problem_type = "regression";
  auto rm = make_model("sequence_classification", tokenizer->vocab_size(), rho, 6);
  const auto rr = eval::evaluate_task(rm, *rd, eo);
  std::vector<double> gv, pv;
  for (size_t e = 0; e < rd->num_examples(); ++e) {
    gv.push_back(rd->cls[e].value);
    pv.push_back(rr.predictions[e]["value"].get<double>());
  }
  EXPECT_NEAR(rr.scalars.at("pearson"), eval::pearson_correlation(gv, pv), 1e-12);
  EXPECT_NEAR(rr.scalars.at("spearman"), eval::spearman_correlation(gv, pv), 1e-12);
  EXPECT_NEAR(rr.scalars.at("loss"), loss_feature_by_feature(rm, *rd), 1e-5);
}

TEST(TaskEval, QuestionAnsweringEqualsSquadOnItsAnswers) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  data::DataOptions o;
  o.task = data::Task::kQuestionAnswering;
  o.features.max_seq_length = 40;
  o.features.doc_stride = 12;
  auto d = load("qa_squad/train.json", *tokenizer, o);
  auto m = make_model("question_answering", tokenizer->vocab_size(), {}, 9);
  eval::TaskEvalOptions eo;
  eo.keep_predictions = true;
  eo.qa.version_2_with_negative = true;
  const auto r = eval::evaluate_task(m, *d, eo);
  eo.batch_size = 3;
  expect_same_scalars(r, eval::evaluate_task(m, *d, eo));
  std::vector<eval::QaExample> qs;
  for (size_t e = 0; e < d->num_examples(); ++e) {
    eval::QaExample q;
    for (const auto& a : d->qa[e].answers) q.gold_answers.push_back(a.text);
    q.prediction = r.predictions[e]["answer"];
    qs.push_back(q);
    // The answer is the context's slice at its span.
    const int64_t s = r.predictions[e]["start"], t = r.predictions[e]["end"];
    if (s >= 0) {
      EXPECT_FALSE(q.prediction.empty());
      EXPECT_LE(s, t);
    }
  }
  const auto ref = eval::squad_report(qs);
  EXPECT_DOUBLE_EQ(r.scalars.at("exact"), ref.overall.exact);
  EXPECT_DOUBLE_EQ(r.scalars.at("f1"), ref.overall.f1);
  // (No feature-by-feature loss here: like BertForQuestionAnswering, the QA loss's softmax
  // runs over padding positions too, so it depends on the padded length.)
  EXPECT_TRUE(std::isfinite(r.scalars.at("loss")));
}

TEST(TaskEval, RelationExtractionLeavesTheNegativeClassOut) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  data::DataOptions o;
  o.task = data::Task::kRelationExtraction;
  auto d = load("re_blue/train.tsv", *tokenizer, o);
  model::HeadOptions ho;
  ho.labels = d->labels.labels();
  ho.pooling = "cls";
  auto m = make_model("relation_extraction", tokenizer->vocab_size(), ho, 13);
  eval::TaskEvalOptions eo;
  eo.keep_predictions = true;
  eo.negative_label = "0";
  const auto r = eval::evaluate_task(m, *d, eo);
  std::vector<int64_t> gold, pred;
  for (size_t e = 0; e < d->num_examples(); ++e) {
    gold.push_back(d->labels.id(d->re[e].label));
    pred.push_back(d->labels.id(r.predictions[e]["label"].get<std::string>()));
  }
  eval::RelationOptions ro;
  ro.negative_class = d->labels.id("0");
  const auto ref = eval::relation_report(gold, pred, ro);
  EXPECT_DOUBLE_EQ(r.scalars.at("micro_f1"), ref.micro.f1);
  EXPECT_DOUBLE_EQ(r.scalars.at("f1"), ref.micro.f1);
  eo.negative_label = "nope";
  EXPECT_NE(test::error_of([&] { eval::evaluate_task(m, *d, eo); }).find("negative_label"),
            std::string::npos);
}

TEST(TaskEval, MlmLossAndPerplexityAreDeterministic) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  data::MlmCorpusOptions co;
  co.max_seq_length = 32;
  co.line_by_line = true;
  data::CacheOptions cache;
  cache.enabled = false;
  auto corpus = data::MlmCorpus::open({test::source_path("datasets/mlm_text/notes.txt")},
                                      *tokenizer, co, {}, cache);
  auto m = make_model("mlm", tokenizer->vocab_size(), {}, 17);
  eval::TaskEvalOptions eo;
  eo.batch_size = 4;
  const auto a = eval::evaluate_task(m, *corpus, eo);
  const auto b = eval::evaluate_task(m, *corpus, eo);
  expect_same_scalars(a, b);
  const double loss = a.scalars.at("loss");
  EXPECT_GT(loss, 0.0);
  EXPECT_NEAR(a.scalars.at("perplexity"), std::exp(loss), 1e-9 * std::exp(loss));
  // An untrained model is about uniform over the vocabulary.
  EXPECT_NEAR(loss, std::log(static_cast<double>(tokenizer->vocab_size())), 1.5);
  EXPECT_GE(a.scalars.at("accuracy"), 0.0);
}

TEST(TaskEval, MismatchesAreErrors) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  data::DataOptions o;
  o.task = data::Task::kSequenceClassification;
  auto d = load("cls_csv/train.csv", *tokenizer, o);
  model::HeadOptions ho;
  ho.labels = {"Urology", "Cardiology"};  // other order than the data's
  auto m = make_model("sequence_classification", tokenizer->vocab_size(), ho, 1);
  EXPECT_NE(test::error_of([&] { eval::evaluate_task(m, *d, {}); }).find("labels"),
            std::string::npos);
  auto ner = make_model("token_classification", tokenizer->vocab_size(), ho, 1);
  EXPECT_NE(test::error_of([&] { eval::evaluate_task(ner, *d, {}); }).find("task"),
            std::string::npos);

  const std::map<std::string, double> scalars = {{"f1", 0.5}, {"loss", 1.0}};
  EXPECT_EQ(eval::metric_value(scalars, "eval_f1"), 0.5);
  EXPECT_EQ(eval::metric_value(scalars, "loss"), 1.0);
  EXPECT_NE(test::error_of([&] { eval::metric_value(scalars, "f2"); }).find("f1"),
            std::string::npos);
}

}  // namespace
