// Classification metrics equal to scikit-learn 1.9 (sklearn.metrics): single-label reports
// (classification_report, precision_recall_fscore_support, accuracy_score, confusion_matrix),
// multi-label reports on indicator matrices (micro/macro/weighted/samples averages) plus the
// example-based F1 that BLUE uses for HoC, and relation extraction scored as BLUE scores ChemProt
// and DDI: micro-averaged over every class except the negative ("no relation") one.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eval/metric_common.h"

namespace clintorch::eval {

struct ClassificationOptions {
  // Class ids to report, in this order (scikit-learn's `labels`). Empty: the sorted ids that
  // occur in the gold labels or the predictions (scikit-learn's default). Default: empty.
  std::vector<int64_t> labels;
  // Display names indexed by class id (id2label); an id without a name shows as its number.
  // Default: none.
  std::vector<std::string> label_names;
  // Value of a precision/recall/F1 with a zero denominator (scikit-learn `zero_division`; with
  // kNaN the averages skip those entries, as scikit-learn). Default: kZero ("warn").
  ZeroDivision zero_division = ZeroDivision::kZero;
};

// Counts of gold class (row) against predicted class (column), in the order of `labels`.
// Pairs where either class is not in `labels` are left out (scikit-learn confusion_matrix).
struct ConfusionMatrix {
  std::vector<int64_t> labels;
  std::vector<std::vector<int64_t>> counts;  // (labels, labels): counts[gold][predicted]
};

struct ClassificationReport {
  // The reported class ids and one row per id (precision, recall, F1, support).
  std::vector<int64_t> labels;
  std::vector<NamedScores> per_class;
  // Fraction of examples predicted correctly (accuracy_score).
  double accuracy = 0.0;
  // True when `labels` covers every class present, so micro precision = recall = F1 = accuracy
  // (scikit-learn's report then prints an "accuracy" row instead of "micro avg").
  bool micro_is_accuracy = true;
  // Averages over the reported labels; support is the sum of the rows' supports.
  Scores micro;
  Scores macro;
  Scores weighted;
  ConfusionMatrix confusion;
  int64_t num_examples = 0;
};

// Single-label classification: one gold and one predicted class id per example. Throws Error
// when the lengths differ, when there are no examples, or when `labels` repeats an id.
ClassificationReport classification_report(const std::vector<int64_t>& gold,
                                           const std::vector<int64_t>& predicted,
                                           const ClassificationOptions& options = {});

struct MultiLabelOptions {
  // Display names indexed by label column. Default: none (the column number).
  std::vector<std::string> label_names;
  // As ClassificationOptions::zero_division. Default: kZero.
  ZeroDivision zero_division = ZeroDivision::kZero;
};

// Example-based precision, recall and F1 as BLUE scores HoC (ncbi-nlp/BLUE_Benchmark,
// blue/eval_hoc.py and blue/ext/pmetrics.py precision_recall_fscore_multilabel(example_based)):
// per example p = |G∩P|/|P| (0 when P is empty) and r = |G∩P|/|G| (0 when G is empty);
// precision and recall are their means over examples and f1 = 2PR/(P+R) (0 when P+R = 0).
// This is not the mean of per-example F1 (that is `samples` below).
struct ExampleBasedScores {
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
};

struct MultiLabelReport {
  std::vector<NamedScores> per_label;
  // scikit-learn averages on indicator matrices: micro, macro, weighted, samples (the mean of
  // per-example precision/recall/F1).
  Scores micro;
  Scores macro;
  Scores weighted;
  Scores samples;
  ExampleBasedScores example_based;
  // Fraction of examples whose predicted label set equals the gold set (accuracy_score).
  double subset_accuracy = 0.0;
  int64_t num_examples = 0;
  int64_t num_labels = 0;
};

// Multi-label classification on 0/1 indicator rows (one row per example, one column per label).
// Throws Error on ragged rows, mismatched shapes, no examples, or values other than 0 and 1.
MultiLabelReport multilabel_report(const std::vector<std::vector<int>>& gold,
                                   const std::vector<std::vector<int>>& predicted,
                                   const MultiLabelOptions& options = {});

struct RelationOptions {
  // Class id of "no relation", left out of the averages (BLUE ChemProt: "false"). Default: 0.
  int64_t negative_class = 0;
  // Class ids for the per-class report, as ClassificationOptions::labels. Default: empty.
  std::vector<int64_t> labels;
  // Display names indexed by class id. Default: none.
  std::vector<std::string> label_names;
  // As ClassificationOptions::zero_division. Default: kZero (BLUE divides as 0).
  ZeroDivision zero_division = ZeroDivision::kZero;
};

struct RelationReport {
  int64_t negative_class = 0;
  std::string negative_name;
  // The positive classes: the report's labels without the negative class.
  std::vector<int64_t> positive_labels;
  // precision_recall_fscore_support(average="micro" / "macro", labels=positive_labels).
  Scores micro;
  Scores macro;
  // The full single-label report over every class, negative included.
  ClassificationReport all_classes;
};

RelationReport relation_report(const std::vector<int64_t>& gold,
                               const std::vector<int64_t>& predicted,
                               const RelationOptions& options = {});

nlohmann::json to_json(const ConfusionMatrix& matrix);
// {"per_class": {NAME: scores}, "labels", "accuracy", "micro", "macro", "weighted",
//  "confusion_matrix", "num_examples"}.
nlohmann::json to_json(const ClassificationReport& report);
// {"per_label", "micro", "macro", "weighted", "samples", "example_based", "subset_accuracy", ...}.
nlohmann::json to_json(const MultiLabelReport& report);
// {"negative_class", "negative_name", "positive_labels", "micro", "macro", "all_classes"}.
nlohmann::json to_json(const RelationReport& report);

// The text of scikit-learn's classification_report(digits=...) (with its "accuracy" row).
std::string format_table(const ClassificationReport& report, int digits = 4);
// scikit-learn's multi-label classification_report text, then the example-based (HoC) line.
std::string format_table(const MultiLabelReport& report, int digits = 4);
// The positive-class micro/macro lines, then the full per-class table.
std::string format_table(const RelationReport& report, int digits = 4);

}  // namespace clintorch::eval
