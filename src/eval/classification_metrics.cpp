// Classification metrics: scikit-learn's precision_recall_fscore_support and friends (see
// classification_metrics.h), checked against scikit-learn in tests/python/test_metrics_parity.py.
#include "eval/classification_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace clintorch::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per-label precision, recall and F1 from the counts, as precision_recall_fscore_support with
// beta = 1: F1 = 2 tp / (gold + predicted), each ratio set to `zero` when its denominator is 0.
struct PrfArrays {
  std::vector<double> precision, recall, f1;
};

double ratio(double numerator, int64_t denominator, double zero) {
  return denominator == 0 ? zero : numerator / static_cast<double>(denominator);
}

Scores prf(int64_t tp, int64_t pred, int64_t gold, double zero) {
  Scores s;
  s.precision = ratio(static_cast<double>(tp), pred, zero);
  s.recall = ratio(static_cast<double>(tp), gold, zero);
  const double denom = 1.0 * static_cast<double>(gold) + static_cast<double>(pred);
  s.f1 = denom == 0.0 ? zero : 2.0 * static_cast<double>(tp) / denom;
  s.support = gold;
  return s;
}

// sklearn.utils.extmath._nanaverage: NaN entries are skipped; NaN when nothing is left; with
// weights summing to 0 the plain mean.
double nan_average(const std::vector<double>& a, const std::vector<double>* weights) {
  if (a.empty()) return kNaN;
  size_t valid = 0;
  for (double v : a) valid += !std::isnan(v);
  if (valid == 0) return kNaN;
  if (weights == nullptr) {
    // numpy.nanmean: NaNs replaced by 0 in the sum, divided by the count of the others.
    std::vector<double> zeroed(a);
    for (double& v : zeroed) {
      if (std::isnan(v)) v = 0.0;
    }
    return numpy_sum(zeroed) / static_cast<double>(valid);
  }
  std::vector<double> kept, kept_weights;
  for (size_t k = 0; k < a.size(); ++k) {
    if (std::isnan(a[k])) continue;
    kept.push_back(a[k]);
    kept_weights.push_back((*weights)[k]);
  }
  const double scale = numpy_sum(kept_weights);
  if (scale == 0.0) return numpy_mean(kept);
  std::vector<double> products(kept.size());
  for (size_t k = 0; k < kept.size(); ++k) products[k] = kept[k] * kept_weights[k];
  return numpy_sum(products) / scale;
}

// The micro, macro and weighted averages over per-label counts.
struct Averages {
  Scores micro, macro, weighted;
};

Averages average_counts(const std::vector<int64_t>& tp, const std::vector<int64_t>& pred,
                        const std::vector<int64_t>& gold, double zero,
                        std::vector<Scores>* per_label) {
  const size_t n = tp.size();
  std::vector<double> p(n), r(n), f(n), w(n);
  int64_t tp_sum = 0, pred_sum = 0, gold_sum = 0;
  for (size_t k = 0; k < n; ++k) {
    const Scores s = prf(tp[k], pred[k], gold[k], zero);
    if (per_label) per_label->push_back(s);
    p[k] = s.precision;
    r[k] = s.recall;
    f[k] = s.f1;
    w[k] = static_cast<double>(gold[k]);
    tp_sum += tp[k];
    pred_sum += pred[k];
    gold_sum += gold[k];
  }
  Averages out;
  out.micro = prf(tp_sum, pred_sum, gold_sum, zero);
  out.macro = {nan_average(p, nullptr), nan_average(r, nullptr), nan_average(f, nullptr), gold_sum};
  out.weighted = {nan_average(p, &w), nan_average(r, &w), nan_average(f, &w), gold_sum};
  return out;
}

std::string label_name(int64_t id, const std::vector<std::string>& names) {
  if (id >= 0 && static_cast<size_t>(id) < names.size() &&
      !names[static_cast<size_t>(id)].empty()) {
    return names[static_cast<size_t>(id)];
  }
  return std::to_string(id);
}

// scikit-learn's text report (sklearn.metrics.classification_report with output_dict=False).
std::string sklearn_table(const std::vector<NamedScores>& rows,
                          const std::vector<NamedScores>& averages, bool accuracy_row,
                          double accuracy, int64_t accuracy_support, int digits) {
  size_t width = std::max<size_t>(std::string("weighted avg").size(), static_cast<size_t>(digits));
  for (const NamedScores& row : rows) width = std::max(width, utf8_length(row.name));
  std::string out = report_header(width);
  for (const NamedScores& row : rows) out += report_row(row.name, width, row.scores, digits);
  out += "\n";
  if (accuracy_row) {
    out += pad_left("accuracy", width);
    out += std::string(1 + 2 * 10, ' ');
    out += ' ';
    out += pad_left(format_fixed(accuracy, digits), 9);
    out += ' ';
    out += pad_left(std::to_string(accuracy_support), 9);
    out += '\n';
  }
  for (const NamedScores& avg : averages) out += report_row(avg.name, width, avg.scores, digits);
  return out;
}

void check_same_length(size_t gold, size_t predicted, const char* where) {
  if (gold != predicted) {
    fail(where,
         std::to_string(gold) + " gold labels but " + std::to_string(predicted) + " predictions",
         "predict exactly one label per gold example");
  }
  if (gold == 0) fail(where, "no examples to score", "the evaluation set is empty");
}

}  // namespace

ClassificationReport classification_report(const std::vector<int64_t>& gold,
                                           const std::vector<int64_t>& predicted,
                                           const ClassificationOptions& options) {
  constexpr const char* kWhere = "classification metrics";
  check_same_length(gold.size(), predicted.size(), kWhere);
  const double zero = zero_division_value(options.zero_division);

  std::map<int64_t, int64_t> tp_by, pred_by, gold_by;
  std::set<int64_t> present;
  int64_t correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    ++gold_by[gold[i]];
    ++pred_by[predicted[i]];
    present.insert(gold[i]);
    present.insert(predicted[i]);
    if (gold[i] == predicted[i]) {
      ++tp_by[gold[i]];
      ++correct;
    }
  }

  ClassificationReport report;
  report.num_examples = static_cast<int64_t>(gold.size());
  report.accuracy = static_cast<double>(correct) / static_cast<double>(gold.size());
  if (options.labels.empty()) {
    report.labels.assign(present.begin(), present.end());
  } else {
    std::set<int64_t> seen;
    for (int64_t id : options.labels) {
      if (!seen.insert(id).second) {
        fail(kWhere, "label id " + std::to_string(id) + " is listed twice in labels",
             "list each class once");
      }
    }
    report.labels = options.labels;
    report.micro_is_accuracy =
        std::all_of(present.begin(), present.end(), [&](int64_t id) { return seen.count(id); });
  }

  auto get = [](const std::map<int64_t, int64_t>& m, int64_t key) {
    auto it = m.find(key);
    return it == m.end() ? int64_t{0} : it->second;
  };
  std::vector<int64_t> tp, pred, gold_count;
  for (int64_t id : report.labels) {
    tp.push_back(get(tp_by, id));
    pred.push_back(get(pred_by, id));
    gold_count.push_back(get(gold_by, id));
  }
  std::vector<Scores> rows;
  const Averages avg = average_counts(tp, pred, gold_count, zero, &rows);
  for (size_t k = 0; k < rows.size(); ++k) {
    report.per_class.push_back({label_name(report.labels[k], options.label_names), rows[k]});
  }
  report.micro = avg.micro;
  report.macro = avg.macro;
  report.weighted = avg.weighted;

  std::map<int64_t, size_t> index;
  for (size_t k = 0; k < report.labels.size(); ++k) index[report.labels[k]] = k;
  report.confusion.labels = report.labels;
  report.confusion.counts.assign(report.labels.size(),
                                 std::vector<int64_t>(report.labels.size(), 0));
  for (size_t i = 0; i < gold.size(); ++i) {
    auto g = index.find(gold[i]);
    auto p = index.find(predicted[i]);
    if (g != index.end() && p != index.end()) ++report.confusion.counts[g->second][p->second];
  }
  return report;
}

MultiLabelReport multilabel_report(const std::vector<std::vector<int>>& gold,
                                   const std::vector<std::vector<int>>& predicted,
                                   const MultiLabelOptions& options) {
  constexpr const char* kWhere = "multi-label metrics";
  check_same_length(gold.size(), predicted.size(), kWhere);
  const size_t n_labels = gold.front().size();
  if (n_labels == 0) fail(kWhere, "example 0 has no label columns", "pass one 0/1 per label");
  const double zero = zero_division_value(options.zero_division);

  MultiLabelReport report;
  report.num_examples = static_cast<int64_t>(gold.size());
  report.num_labels = static_cast<int64_t>(n_labels);
  std::vector<int64_t> tp(n_labels, 0), pred(n_labels, 0), gold_count(n_labels, 0);
  std::vector<double> sp, sr, sf;    // per example, scikit-learn average="samples"
  std::vector<double> hoc_p, hoc_r;  // per example, BLUE's example-based scores
  int64_t exact_rows = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    for (const auto* row : {&gold[i], &predicted[i]}) {
      if (row->size() != n_labels) {
        fail(kWhere,
             std::string(row == &gold[i] ? "gold" : "predicted") + " example " + std::to_string(i) +
                 " has " + std::to_string(row->size()) + " label columns, " + "expected " +
                 std::to_string(n_labels),
             "every example needs one 0/1 per label");
      }
      for (size_t j = 0; j < n_labels; ++j) {
        if ((*row)[j] != 0 && (*row)[j] != 1) {
          fail(kWhere,
               std::string(row == &gold[i] ? "gold" : "predicted") + " example " +
                   std::to_string(i) + ", label " + std::to_string(j) + ": value " +
                   std::to_string((*row)[j]) + " is not 0 or 1",
               "multi-label inputs are indicator rows; threshold scores first");
        }
      }
    }
    int64_t row_tp = 0, row_pred = 0, row_gold = 0;
    for (size_t j = 0; j < n_labels; ++j) {
      const int g = gold[i][j], p = predicted[i][j];
      row_tp += g & p;
      row_pred += p;
      row_gold += g;
      tp[j] += g & p;
      pred[j] += p;
      gold_count[j] += g;
    }
    exact_rows += gold[i] == predicted[i];
    const Scores s = prf(row_tp, row_pred, row_gold, zero);
    sp.push_back(s.precision);
    sr.push_back(s.recall);
    sf.push_back(s.f1);
    hoc_p.push_back(row_pred == 0 ? 0.0
                                  : static_cast<double>(row_tp) / static_cast<double>(row_pred));
    hoc_r.push_back(row_gold == 0 ? 0.0
                                  : static_cast<double>(row_tp) / static_cast<double>(row_gold));
  }

  std::vector<Scores> rows;
  const Averages avg = average_counts(tp, pred, gold_count, zero, &rows);
  for (size_t j = 0; j < n_labels; ++j) {
    report.per_label.push_back({label_name(static_cast<int64_t>(j), options.label_names), rows[j]});
  }
  report.micro = avg.micro;
  report.macro = avg.macro;
  report.weighted = avg.weighted;
  report.samples = {nan_average(sp, nullptr), nan_average(sr, nullptr), nan_average(sf, nullptr),
                    avg.micro.support};
  report.subset_accuracy = static_cast<double>(exact_rows) / static_cast<double>(gold.size());

  ExampleBasedScores& eb = report.example_based;
  eb.precision = numpy_mean(hoc_p);
  eb.recall = numpy_mean(hoc_r);
  eb.f1 = eb.precision + eb.recall == 0.0
              ? 0.0
              : 2 * eb.precision * eb.recall / (eb.precision + eb.recall);
  return report;
}

RelationReport relation_report(const std::vector<int64_t>& gold,
                               const std::vector<int64_t>& predicted,
                               const RelationOptions& options) {
  RelationReport report;
  report.negative_class = options.negative_class;
  report.negative_name = label_name(options.negative_class, options.label_names);
  ClassificationOptions all;
  all.labels = options.labels;
  all.label_names = options.label_names;
  all.zero_division = options.zero_division;
  report.all_classes = classification_report(gold, predicted, all);
  for (int64_t id : report.all_classes.labels) {
    if (id != options.negative_class) report.positive_labels.push_back(id);
  }
  // The positive classes' rows, counted again (the report's rows carry only rounded ratios).
  std::map<int64_t, int64_t> tp_by, pred_by, gold_by;
  for (size_t i = 0; i < gold.size(); ++i) {
    ++gold_by[gold[i]];
    ++pred_by[predicted[i]];
    if (gold[i] == predicted[i]) ++tp_by[gold[i]];
  }
  std::vector<int64_t> tp, pred, gold_count;
  for (int64_t id : report.positive_labels) {
    tp.push_back(tp_by[id]);
    pred.push_back(pred_by[id]);
    gold_count.push_back(gold_by[id]);
  }
  const Averages avg =
      average_counts(tp, pred, gold_count, zero_division_value(options.zero_division), nullptr);
  report.micro = avg.micro;
  report.macro = avg.macro;
  return report;
}

nlohmann::json to_json(const ConfusionMatrix& matrix) {
  return nlohmann::json{{"labels", matrix.labels}, {"counts", matrix.counts}};
}

nlohmann::json to_json(const ClassificationReport& report) {
  nlohmann::json per_class = nlohmann::json::object();
  for (const NamedScores& row : report.per_class) per_class[row.name] = to_json(row.scores);
  return nlohmann::json{{"labels", report.labels},
                        {"per_class", per_class},
                        {"accuracy", number_or_null(report.accuracy)},
                        {"micro_is_accuracy", report.micro_is_accuracy},
                        {"micro", to_json(report.micro)},
                        {"macro", to_json(report.macro)},
                        {"weighted", to_json(report.weighted)},
                        {"confusion_matrix", to_json(report.confusion)},
                        {"num_examples", report.num_examples}};
}

nlohmann::json to_json(const MultiLabelReport& report) {
  nlohmann::json per_label = nlohmann::json::object();
  for (const NamedScores& row : report.per_label) per_label[row.name] = to_json(row.scores);
  return nlohmann::json{{"per_label", per_label},
                        {"micro", to_json(report.micro)},
                        {"macro", to_json(report.macro)},
                        {"weighted", to_json(report.weighted)},
                        {"samples", to_json(report.samples)},
                        {"example_based",
                         {{"precision", number_or_null(report.example_based.precision)},
                          {"recall", number_or_null(report.example_based.recall)},
                          {"f1", number_or_null(report.example_based.f1)}}},
                        {"subset_accuracy", number_or_null(report.subset_accuracy)},
                        {"num_examples", report.num_examples},
                        {"num_labels", report.num_labels}};
}

nlohmann::json to_json(const RelationReport& report) {
  return nlohmann::json{{"negative_class", report.negative_class},
                        {"negative_name", report.negative_name},
                        {"positive_labels", report.positive_labels},
                        {"micro", to_json(report.micro)},
                        {"macro", to_json(report.macro)},
                        {"all_classes", to_json(report.all_classes)}};
}

std::string format_table(const ClassificationReport& report, int digits) {
  std::vector<NamedScores> averages;
  if (!report.micro_is_accuracy) averages.push_back({"micro avg", report.micro});
  averages.push_back({"macro avg", report.macro});
  averages.push_back({"weighted avg", report.weighted});
  return sklearn_table(report.per_class, averages, report.micro_is_accuracy, report.micro.f1,
                       report.micro.support, digits);
}

std::string format_table(const MultiLabelReport& report, int digits) {
  std::string out = sklearn_table(report.per_label,
                                  {{"micro avg", report.micro},
                                   {"macro avg", report.macro},
                                   {"weighted avg", report.weighted},
                                   {"samples avg", report.samples}},
                                  false, 0.0, 0, digits);
  const ExampleBasedScores& eb = report.example_based;
  out += "\nexample-based (HoC): precision " + format_fixed(eb.precision, digits) + ", recall " +
         format_fixed(eb.recall, digits) + ", f1 " + format_fixed(eb.f1, digits) + "\n";
  out += "subset accuracy: " + format_fixed(report.subset_accuracy, digits) + "\n";
  return out;
}

std::string format_table(const RelationReport& report, int digits) {
  std::string out = "without the negative class '" + report.negative_name + "':\n";
  auto line = [&](const char* name, const Scores& s) {
    return std::string("  ") + name + " precision " + format_fixed(s.precision, digits) +
           ", recall " + format_fixed(s.recall, digits) + ", f1 " + format_fixed(s.f1, digits) +
           ", support " + std::to_string(s.support) + "\n";
  };
  out += line("micro", report.micro);
  out += line("macro", report.macro);
  out += '\n';
  out += format_table(report.all_classes, digits);
  return out;
}

}  // namespace clintorch::eval
