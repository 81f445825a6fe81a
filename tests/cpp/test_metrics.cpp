// Hand-checked cases and error handling of the evaluation metrics (src/eval/). The exhaustive
// comparison with seqeval, scikit-learn, SciPy and the official SQuAD scripts is in
// tests/python/test_metrics_*.py.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/classification_metrics.h"
#include "eval/metric_common.h"
#include "eval/ner_metrics.h"
#include "eval/qa_metrics.h"
#include "eval/regression_metrics.h"
#include "util/error.h"

namespace ev = clintorch::eval;
using Tags = std::vector<std::vector<std::string>>;

namespace {

// Runs `fn`, expects clintorch::Error, and returns its message ("" when nothing was thrown).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const clintorch::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected clintorch::Error";
  return "";
}

}  // namespace

// ----------------------------------------------------------------------------------------- NER

TEST(NerMetrics, SeqevalDocstringExample) {
  // seqeval's classification_report docstring: MISC is off by one token, PER is right.
  const Tags gold = {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
  const Tags pred = {{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"},
                     {"B-PER", "I-PER", "O"}};
  const ev::NerReport r = ev::ner_report(gold, pred);
  ASSERT_EQ(r.per_type.size(), 2u);
  EXPECT_EQ(r.per_type[0].name, "MISC");
  EXPECT_EQ(r.per_type[0].scores.f1, 0.0);
  EXPECT_EQ(r.per_type[1].name, "PER");
  EXPECT_EQ(r.per_type[1].scores.f1, 1.0);
  EXPECT_EQ(r.micro.precision, 0.5);
  EXPECT_EQ(r.micro.recall, 0.5);
  EXPECT_EQ(r.micro.support, 2);
  EXPECT_EQ(r.macro.f1, 0.5);
  EXPECT_EQ(r.weighted.f1, 0.5);
  EXPECT_DOUBLE_EQ(r.token_accuracy, 0.8);  // 8 of 10 tags equal
  EXPECT_EQ(r.num_tokens, 10);
  const std::string table = ev::format_table(r, 2);
  EXPECT_NE(table.find("        MISC       0.00      0.00      0.00         1"), std::string::npos)
      << table;
  EXPECT_NE(table.find("   micro avg       0.50      0.50      0.50         2"), std::string::npos)
      << table;
}

TEST(NerMetrics, InsideWithoutBeginDependsOnMode) {
  const std::vector<std::string> tags = {"I-PER", "I-PER", "O", "B-LOC"};
  const auto lenient = ev::extract_entities(tags);  // conlleval: I- opens an entity
  ASSERT_EQ(lenient.size(), 2u);
  EXPECT_EQ(lenient[0], (ev::Entity{"PER", 0, 2}));
  EXPECT_EQ(lenient[1], (ev::Entity{"LOC", 3, 4}));

  ev::NerMetricsOptions strict;
  strict.mode = ev::NerMode::kStrict;
  strict.scheme = ev::TagScheme::kIOB2;
  const auto entities = ev::extract_entities(tags, strict);  // IOB2: an entity must start at B-
  ASSERT_EQ(entities.size(), 1u);
  EXPECT_EQ(entities[0], (ev::Entity{"LOC", 3, 4}));
}

TEST(NerMetrics, StrictIobesNeedsAnEnd) {
  ev::NerMetricsOptions o;
  o.mode = ev::NerMode::kStrict;
  o.scheme = ev::TagScheme::kIOBES;
  const auto good = ev::extract_entities({"B-PER", "E-PER", "S-LOC", "O"}, o);
  ASSERT_EQ(good.size(), 2u);
  EXPECT_EQ(good[0], (ev::Entity{"PER", 0, 2}));
  EXPECT_EQ(good[1], (ev::Entity{"LOC", 2, 3}));
  EXPECT_TRUE(ev::extract_entities({"B-PER", "I-PER", "O"}, o).empty());  // no E-PER
}

TEST(NerMetrics, NoEntitiesFollowZeroDivision) {
  const Tags all_o = {{"O", "O"}, {"O"}};
  ev::NerMetricsOptions o;
  ev::NerReport r = ev::ner_report(all_o, all_o, o);
  EXPECT_TRUE(r.per_type.empty());
  EXPECT_EQ(r.micro.f1, 0.0);
  EXPECT_TRUE(std::isnan(r.macro.f1));  // the mean of no types, as seqeval (numpy)
  EXPECT_EQ(r.token_accuracy, 1.0);
  o.zero_division = ev::ZeroDivision::kOne;
  r = ev::ner_report(all_o, all_o, o);
  EXPECT_EQ(r.micro.precision, 1.0);
  EXPECT_EQ(r.micro.f1, 1.0);
  EXPECT_EQ(r.weighted.f1, 1.0);
  EXPECT_TRUE(ev::to_json(r)["macro"]["f1"].is_null());  // NaN is written as null

  // Empty predictions: every gold entity missed.
  r = ev::ner_report({{"B-PER", "I-PER"}}, {{"O", "O"}});
  EXPECT_EQ(r.micro.recall, 0.0);
  EXPECT_EQ(r.micro.precision, 0.0);  // zero_division 0: no predicted entity
}

TEST(NerMetrics, EmptySentenceHasNoTokenAccuracy) {
  const ev::NerReport r = ev::ner_report({{}}, {{}});
  EXPECT_EQ(r.num_tokens, 0);
  EXPECT_TRUE(std::isnan(r.token_accuracy));
}

TEST(NerMetrics, ErrorsNameTheSentence) {
  std::string msg = error_of([] {
    ev::ner_report({{"O"}, {"B-PER", "O", "O"}}, {{"O"}, {"B-PER", "O"}});
  });
  EXPECT_NE(msg.find("sentence 1 has 3 gold tags but 2 predicted tags"), std::string::npos) << msg;
  msg = error_of([] { ev::ner_report({{"O"}}, {{"O"}, {"O"}}); });
  EXPECT_NE(msg.find("1 gold sentences but 2 predicted"), std::string::npos) << msg;
  msg = error_of([] { ev::ner_report({}, {}); });
  EXPECT_NE(msg.find("no sentences"), std::string::npos) << msg;
  msg = error_of([] { ev::ner_report({{"B-PER", ""}}, {{"B-PER", "O"}}); });
  EXPECT_NE(msg.find("gold sentence 0, token 1: empty tag"), std::string::npos) << msg;

  ev::NerMetricsOptions strict;
  strict.mode = ev::NerMode::kStrict;
  msg = error_of([&] { ev::ner_report({{"O"}}, {{"E-PER"}}, strict); });
  EXPECT_NE(msg.find("predicted sentence 0, token 0: tag 'E-PER' is not valid in scheme IOB2"),
            std::string::npos)
      << msg;
  msg = error_of([&] { ev::ner_report({{"Q-PER"}}, {{"O"}}, strict); });
  EXPECT_NE(msg.find("does not start with a known prefix"), std::string::npos) << msg;

  ev::NerMetricsOptions nan;
  nan.zero_division = ev::ZeroDivision::kNaN;
  msg = error_of([&] { ev::ner_report({{"O"}}, {{"O"}}, nan); });
  EXPECT_NE(msg.find("zero_division=nan"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { ev::parse_tag_scheme("IOX"); }).find("unknown scheme 'IOX'"),
            std::string::npos);
}

TEST(NerMetrics, DetectsTheScheme) {
  EXPECT_EQ(ev::detect_tag_scheme({{"B-A", "I-A", "O"}}), ev::TagScheme::kIOB2);
  EXPECT_EQ(ev::detect_tag_scheme({{"B-A", "E-A", "S-B", "O"}}), ev::TagScheme::kIOBES);
  EXPECT_NE(error_of([] {
              ev::detect_tag_scheme({{"I-A", "O"}});
            }).find("{I, O}"),
            std::string::npos);
}

// ------------------------------------------------------------------------------------------ QA

TEST(SquadMetrics, OfficialNormalisation) {
  EXPECT_EQ(ev::squad_normalize_answer("The  Cat's hat!"), "cats hat");
  EXPECT_EQ(ev::squad_normalize_answer("an apple, a pear and THE plum"), "apple pear and plum");
  EXPECT_EQ(ev::squad_normalize_answer("theater anthem"), "theater anthem");    // whole words only
  EXPECT_EQ(ev::squad_normalize_answer("“quoted” — dash"), "“quoted” — dash");  // not ASCII
  EXPECT_EQ(ev::squad_normalize_answer("a\u00a0b\u3000c\u200bd"), "b c\u200bd");  // Python spaces
  EXPECT_EQ(ev::squad_normalize_answer("ΟΔΟΣ ΣΑΣ."), "οδος σας");                 // final sigma
  EXPECT_EQ(ev::squad_normalize_answer("İ"), "i\u0307");       // full lowercase mapping
  EXPECT_EQ(ev::squad_normalize_answer("the_end"), "theend");  // '_' is punctuation
  EXPECT_NE(error_of([] { ev::squad_normalize_answer("bad \xff byte"); }).find("invalid UTF-8"),
            std::string::npos);
}

TEST(SquadMetrics, ExactAndF1) {
  EXPECT_EQ(ev::squad_exact("The Cat", "cat."), 1.0);
  EXPECT_DOUBLE_EQ(ev::squad_f1("the cat sat", "cat sat down", ev::SquadVersion::kV2), 0.8);
  EXPECT_EQ(ev::squad_f1("", "", ev::SquadVersion::kV2), 1.0);  // both "no answer"
  EXPECT_EQ(ev::squad_f1("", "", ev::SquadVersion::kV1), 0.0);  // v1.1 has no such rule
  EXPECT_EQ(ev::squad_f1("the", "cat", ev::SquadVersion::kV2), 0.0);
}

TEST(SquadMetrics, V2SplitsAnswerableAndNot) {
  std::vector<ev::QaExample> qs(3);
  qs[0] = {"q1", {"Aspirin", "aspirin 5 mg"}, "aspirin", 0.1};
  qs[1] = {"q2", {}, "", 0.9};                    // unanswerable, answered with nothing: right
  qs[2] = {"q3", {"twice daily"}, "daily", 0.6};  // F1 2/3
  ev::SquadReport r = ev::squad_report(qs);
  EXPECT_EQ(r.overall.total, 3);
  EXPECT_DOUBLE_EQ(r.overall.exact, 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(r.overall.f1, 100.0 * (1 + 1 + 2.0 / 3) / 3);
  EXPECT_EQ(r.has_answer.total, 2);
  EXPECT_DOUBLE_EQ(r.has_answer.exact, 50.0);
  EXPECT_EQ(r.no_answer.total, 1);
  EXPECT_DOUBLE_EQ(r.no_answer.exact, 100.0);

  ev::SquadOptions o;
  o.no_answer_threshold = 0.5;  // q2 and q3 are now predicted "no answer"
  r = ev::squad_report(qs, o);
  EXPECT_DOUBLE_EQ(r.overall.exact, 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(r.has_answer.f1, 50.0);
  const nlohmann::json j = ev::to_json(r);
  EXPECT_EQ(j["HasAns_total"], 2);
  EXPECT_TRUE(j.contains("best_f1_thresh"));
}

TEST(SquadMetrics, Errors) {
  ev::SquadOptions v1;
  v1.version = ev::SquadVersion::kV1;
  std::string msg = error_of([&] { ev::squad_report({{"q7", {}, "x", 0.0}}, v1); });
  EXPECT_NE(msg.find("question 0 (id q7) has no gold answer"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { ev::squad_report({}); }).find("no questions"), std::string::npos);
  msg = error_of([] { ev::squad_report({{"q", {"a"}, "a", std::nan("")}}); });
  EXPECT_NE(msg.find("no_answer_probability is not a finite number"), std::string::npos) << msg;
}

// ------------------------------------------------------------------------------ classification

TEST(ClassificationMetrics, HandCheckedReport) {
  const ev::ClassificationReport r = ev::classification_report({0, 1, 2, 2}, {0, 2, 2, 1});
  EXPECT_EQ(r.labels, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(r.per_class[0].scores.f1, 1.0);
  EXPECT_EQ(r.per_class[1].scores.f1, 0.0);
  EXPECT_EQ(r.per_class[2].scores.precision, 0.5);
  EXPECT_EQ(r.per_class[2].scores.support, 2);
  EXPECT_EQ(r.accuracy, 0.5);
  EXPECT_TRUE(r.micro_is_accuracy);
  EXPECT_EQ(r.micro.f1, 0.5);
  EXPECT_EQ(r.macro.f1, 0.5);
  EXPECT_EQ(r.weighted.f1, 0.5);  // (1*1 + 0*1 + 0.5*2) / 4
  EXPECT_EQ(r.confusion.counts,
            (std::vector<std::vector<int64_t>>{{1, 0, 0}, {0, 0, 1}, {0, 1, 1}}));
  EXPECT_NE(ev::format_table(r).find("    accuracy                         0.5000         4"),
            std::string::npos)
      << ev::format_table(r);
}

TEST(ClassificationMetrics, LabelsAbsentFromDataAndZeroDivision) {
  ev::ClassificationOptions o;
  o.labels = {0, 1, 2, 3};  // class 3 occurs nowhere
  o.label_names = {"neg", "pos", "other"};
  ev::ClassificationReport r = ev::classification_report({0, 1, 2, 2}, {0, 2, 2, 1}, o);
  ASSERT_EQ(r.per_class.size(), 4u);
  EXPECT_EQ(r.per_class[0].name, "neg");
  EXPECT_EQ(r.per_class[3].name, "3");
  EXPECT_EQ(r.per_class[3].scores.f1, 0.0);
  EXPECT_DOUBLE_EQ(r.macro.f1, (1 + 0 + 0.5 + 0) / 4.0);
  o.zero_division = ev::ZeroDivision::kNaN;  // the absent class is skipped by the averages
  r = ev::classification_report({0, 1, 2, 2}, {0, 2, 2, 1}, o);
  EXPECT_TRUE(std::isnan(r.per_class[3].scores.f1));
  EXPECT_DOUBLE_EQ(r.macro.f1, 0.5);
}

TEST(ClassificationMetrics, Errors) {
  std::string msg = error_of([] { ev::classification_report({0, 1}, {0}); });
  EXPECT_NE(msg.find("2 gold labels but 1 predictions"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { ev::classification_report({}, {}); }).find("no examples"),
            std::string::npos);
  ev::ClassificationOptions o;
  o.labels = {1, 1};
  msg = error_of([&] { ev::classification_report({1}, {1}, o); });
  EXPECT_NE(msg.find("label id 1 is listed twice"), std::string::npos) << msg;
  EXPECT_NE(error_of([] { ev::parse_zero_division("2"); }).find("unknown value '2'"),
            std::string::npos);
}

TEST(MultiLabelMetrics, HocExampleBasedDiffersFromSamplesAverage) {
  const std::vector<std::vector<int>> gold = {{1, 0, 1}, {0, 1, 0}};
  const std::vector<std::vector<int>> pred = {{1, 0, 0}, {0, 1, 1}};
  const ev::MultiLabelReport r = ev::multilabel_report(gold, pred);
  EXPECT_EQ(r.per_label[2].scores.f1, 0.0);
  EXPECT_DOUBLE_EQ(r.micro.f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.samples.f1, 2.0 / 3);            // mean of per-example F1 (2/3 each)
  EXPECT_DOUBLE_EQ(r.example_based.precision, 0.75);  // mean of 1 and 1/2
  EXPECT_DOUBLE_EQ(r.example_based.recall, 0.75);     // mean of 1/2 and 1
  EXPECT_DOUBLE_EQ(r.example_based.f1, 0.75);         // F1 of the means (BLUE HoC)
  EXPECT_EQ(r.subset_accuracy, 0.0);
}

TEST(MultiLabelMetrics, Errors) {
  std::string msg = error_of([] { ev::multilabel_report({{0, 1}}, {{0, 2}}); });
  EXPECT_NE(msg.find("predicted example 0, label 1: value 2 is not 0 or 1"), std::string::npos)
      << msg;
  msg = error_of([] { ev::multilabel_report({{0, 1}, {1, 0}}, {{0, 1}, {1, 0, 0}}); });
  EXPECT_NE(msg.find("predicted example 1 has 3 label columns, expected 2"), std::string::npos)
      << msg;
}

TEST(RelationMetrics, MicroWithoutTheNegativeClass) {
  ev::RelationOptions o;
  o.negative_class = 0;
  o.label_names = {"false", "CPR:3", "CPR:4"};
  const ev::RelationReport r = ev::relation_report({0, 1, 2, 0, 1}, {0, 1, 0, 1, 2}, o);
  EXPECT_EQ(r.positive_labels, (std::vector<int64_t>{1, 2}));
  EXPECT_DOUBLE_EQ(r.micro.precision, 1.0 / 3);  // 1 right of 3 positive predictions
  EXPECT_DOUBLE_EQ(r.micro.recall, 1.0 / 3);     // 1 found of 3 positive gold relations
  EXPECT_EQ(r.negative_name, "false");
  EXPECT_NE(ev::format_table(r).find("without the negative class 'false'"), std::string::npos);
}

// ---------------------------------------------------------------------------------- regression

TEST(RegressionMetrics, PearsonSpearmanAndTies) {
  EXPECT_DOUBLE_EQ(ev::pearson_correlation({1, 2, 3}, {2, 4, 6}), 1.0);
  EXPECT_DOUBLE_EQ(ev::spearman_correlation({1, 2, 3}, {1, 3, 2}), 0.5);
  EXPECT_EQ(ev::average_ranks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_TRUE(std::isnan(ev::pearson_correlation({1, 2, 3}, {5, 5, 5})));  // constant: NaN
  EXPECT_EQ(ev::pearson_correlation({1, 2}, {2, 1}), -1.0);
}

TEST(RegressionMetrics, Errors) {
  EXPECT_NE(error_of([] { ev::regression_report({1.0}, {2.0}); }).find("at least 2 examples"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              ev::regression_report({1, 2}, {1});
            }).find("2 gold values but 1"),
            std::string::npos);
  const std::string msg = error_of([] { ev::regression_report({1, 2, 3}, {1, std::nan(""), 3}); });
  EXPECT_NE(msg.find("predicted value 1 is not a finite number"), std::string::npos) << msg;
}

TEST(MetricCommon, NumpySumOrder) {
  // numpy's pairwise summation: np.sum([0.1] * 10) is 1.0 and np.sum([0.1] * 200) is 20.0, where
  // a left-to-right loop gives 0.9999999999999999 and 20.000000000000014.
  EXPECT_EQ(ev::numpy_sum(std::vector<double>(10, 0.1)), 1.0);
  EXPECT_EQ(ev::numpy_sum(std::vector<double>(200, 0.1)), 20.0);
  EXPECT_TRUE(std::isnan(ev::numpy_mean({})));
}
