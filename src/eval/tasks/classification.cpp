// sequence_classification and relation_extraction: the windows' logits of an example combined
// (mean or max), then single-label, multi-label or regression metrics as scikit-learn computes
// them; relation extraction is single-label with an optional negative label.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "data/dataset.h"
#include "data/windows.h"
#include "eval/classification_metrics.h"
#include "eval/metric_common.h"
#include "eval/regression_metrics.h"
#include "eval/task_scoring.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::eval {
namespace {

// Gold and predicted values of the labelled examples, by problem type.
struct Outcomes {
  std::vector<int64_t> gold_ids, pred_ids;             // single-label (and RE)
  std::vector<std::vector<int>> gold_rows, pred_rows;  // multi-label
  std::vector<double> gold_values, pred_values;        // regression
};

// Predictions per example (into r.predictions when kept) and the outcomes to score.
Outcomes collect_outcomes(const data::TaskDataset& d, const model::TaskModel& m,
                          const data::WindowAggregator& agg, const TaskEvalOptions& o,
                          TaskEvalResult& r, bool re, data::ProblemType pt) {
  const auto& labels = m->head().labels();
  const at::Tensor logits = agg.result().contiguous();  // (examples, num_labels) float32
  const int64_t n = logits.size(0), c = logits.size(1);
  const float* lp = logits.data_ptr<float>();
  const std::vector<size_t> first = first_features(d);
  auto example_meta = [&](size_t e) -> std::pair<std::string, size_t> {
    if (re) return {d.re[e].id, d.re[e].line};
    return {d.cls[e].id, d.cls[e].line};
  };
  std::vector<double> thresholds = m->head().options().thresholds;
  if (thresholds.empty()) thresholds = {0.5};
  if (thresholds.size() == 1) thresholds.assign(static_cast<size_t>(c), thresholds[0]);

  Outcomes out;
  std::vector<int64_t>&gold_ids = out.gold_ids, &pred_ids = out.pred_ids;
  std::vector<std::vector<int>>&gold_rows = out.gold_rows, &pred_rows = out.pred_rows;
  std::vector<double>&gold_values = out.gold_values, &pred_values = out.pred_values;
  for (int64_t e = 0; e < n; ++e) {
    const float* row = lp + e * c;
    const auto ue = static_cast<size_t>(e);
    const data::Feature* f = first[ue] == SIZE_MAX ? nullptr : &d.features[first[ue]];
    nlohmann::json j;
    if (o.keep_predictions) {
      auto [id, line] = example_meta(ue);
      j = prediction_base(id, line);
    }
    if (pt == data::ProblemType::kSingleLabel) {
      const std::vector<double> p = softmax(row, static_cast<size_t>(c));
      const auto best = static_cast<int64_t>(std::max_element(p.begin(), p.end()) - p.begin());
      if (d.labeled && f && f->label != -100) {
        gold_ids.push_back(f->label);
        pred_ids.push_back(best);
      }
      if (o.keep_predictions) {
        j["label"] = labels.at(static_cast<size_t>(best));
        if (re) {
          j["probability"] = p[static_cast<size_t>(best)];
        } else {
          j["score"] = p[static_cast<size_t>(best)];
        }
        nlohmann::json probs = nlohmann::json::object();
        for (int64_t k = 0; k < c; ++k)
          probs[labels.at(static_cast<size_t>(k))] = p[static_cast<size_t>(k)];
        j["probabilities"] = std::move(probs);
      }
    } else if (pt == data::ProblemType::kMultiLabel) {
      std::vector<int> predicted(static_cast<size_t>(c));
      nlohmann::json names = nlohmann::json::array();
      nlohmann::json probs = nlohmann::json::object();
      for (int64_t k = 0; k < c; ++k) {
        const double p = sigmoid(row[k]);
        predicted[static_cast<size_t>(k)] = p >= thresholds.at(static_cast<size_t>(k)) ? 1 : 0;
        if (predicted[static_cast<size_t>(k)]) names.push_back(labels.at(static_cast<size_t>(k)));
        probs[labels.at(static_cast<size_t>(k))] = p;
      }
      if (d.labeled && f && f->targets.size() == static_cast<size_t>(c)) {
        std::vector<int> g(static_cast<size_t>(c));
        for (int64_t k = 0; k < c; ++k)
          g[static_cast<size_t>(k)] = f->targets[static_cast<size_t>(k)] > 0.5f;
        gold_rows.push_back(std::move(g));
        pred_rows.push_back(predicted);
      }
      if (o.keep_predictions) {
        j["labels"] = std::move(names);
        j["probabilities"] = std::move(probs);
      }
    } else {
      const double v = row[0];
      if (d.labeled && f && !f->targets.empty()) {
        gold_values.push_back(f->targets[0]);
        pred_values.push_back(v);
      }
      if (o.keep_predictions) j["value"] = v;
    }
    if (o.keep_predictions) r.predictions.push_back(std::move(j));
  }
  return out;
}

// The metrics of the outcomes, as scikit-learn (and BLUE for RE) compute them.
void score_outcomes(const Outcomes& out, const std::vector<std::string>& labels,
                    const TaskEvalOptions& o, TaskEvalResult& r, bool re, data::ProblemType pt) {
  const std::vector<int64_t>&gold_ids = out.gold_ids, &pred_ids = out.pred_ids;
  const std::vector<std::vector<int>>&gold_rows = out.gold_rows, &pred_rows = out.pred_rows;
  const std::vector<double>&gold_values = out.gold_values, &pred_values = out.pred_values;
  if (re) {
    if (gold_ids.empty()) return;
    RelationOptions ro;
    ro.label_names = labels;
    ro.negative_class = -1;
    if (!o.negative_label.empty()) {
      const auto it = std::find(labels.begin(), labels.end(), o.negative_label);
      if (it == labels.end()) {
        fail(kWhere, "negative_label '" + o.negative_label + "' is not one of the model's labels",
             "labels: " + join(labels, ", "));
      }
      ro.negative_class = it - labels.begin();
    }
    const RelationReport report = relation_report(gold_ids, pred_ids, ro);
    r.scalars["micro_f1"] = report.micro.f1;
    r.scalars["f1"] = report.micro.f1;
    r.scalars["micro_precision"] = report.micro.precision;
    r.scalars["micro_recall"] = report.micro.recall;
    r.scalars["macro_f1"] = report.macro.f1;
    r.scalars["accuracy"] = report.all_classes.accuracy;
    r.metrics = to_json(report);
    r.table = format_table(report);
  } else if (pt == data::ProblemType::kSingleLabel) {
    if (gold_ids.empty()) return;
    ClassificationOptions co;
    co.label_names = labels;
    const ClassificationReport report = classification_report(gold_ids, pred_ids, co);
    r.scalars["accuracy"] = report.accuracy;
    r.scalars["micro_f1"] = report.micro.f1;
    r.scalars["macro_f1"] = report.macro.f1;
    r.scalars["weighted_f1"] = report.weighted.f1;
    r.scalars["f1"] = report.macro.f1;
    r.metrics = to_json(report);
    r.table = format_table(report);
  } else if (pt == data::ProblemType::kMultiLabel) {
    if (gold_rows.empty()) return;
    MultiLabelOptions mo;
    mo.label_names = labels;
    const MultiLabelReport report = multilabel_report(gold_rows, pred_rows, mo);
    r.scalars["accuracy"] = report.subset_accuracy;
    r.scalars["micro_f1"] = report.micro.f1;
    r.scalars["macro_f1"] = report.macro.f1;
    r.scalars["weighted_f1"] = report.weighted.f1;
    r.scalars["example_f1"] = report.example_based.f1;
    r.scalars["f1"] = report.micro.f1;
    r.metrics = to_json(report);
    r.table = format_table(report);
  } else {
    if (gold_values.size() < 2) return;
    const RegressionReport report = regression_report(gold_values, pred_values);
    r.scalars["pearson"] = report.pearson;
    r.scalars["spearman"] = report.spearman;
    r.metrics = to_json(report);
    r.table = format_table(report);
  }
}

void finish_classification(const data::TaskDataset& d, const model::TaskModel& m,
                           const data::WindowAggregator& agg, const TaskEvalOptions& o,
                           TaskEvalResult& r, bool re) {
  const data::ProblemType pt = re ? data::ProblemType::kSingleLabel : d.problem_type;
  const Outcomes out = collect_outcomes(d, m, agg, o, r, re, pt);
  if (d.labeled && o.compute_metrics) score_outcomes(out, m->head().labels(), o, r, re, pt);
}

class SequenceScorer : public TaskScorer {
 public:
  SequenceScorer(const data::TaskDataset& d, model::TaskModel& m, const TaskEvalOptions& o, bool re)
      : d_(d),
        model_(m),
        re_(re),
        aggregator_(d.features, d.num_examples(), o.window_aggregation) {}

  void add(const std::vector<size_t>& indices, const data::Batch&, const model::Batch&,
           const model::HeadOutput& out) override {
    aggregator_.add(indices, out.logits.to(torch::kFloat32));
  }

  void finish(const TaskEvalOptions& o, TaskEvalResult& r) override {
    if (d_.num_examples() > 0) finish_classification(d_, model_, aggregator_, o, r, re_);
  }

 private:
  const data::TaskDataset& d_;
  model::TaskModel& model_;
  bool re_;
  data::WindowAggregator aggregator_;
};

std::unique_ptr<TaskScorer> make_cls(const data::Dataset& dataset, model::TaskModel& m,
                                     const TaskEvalOptions& o) {
  return std::make_unique<SequenceScorer>(dynamic_cast<const data::TaskDataset&>(dataset), m, o,
                                          /*re=*/false);
}

std::unique_ptr<TaskScorer> make_re(const data::Dataset& dataset, model::TaskModel& m,
                                    const TaskEvalOptions& o) {
  return std::make_unique<SequenceScorer>(dynamic_cast<const data::TaskDataset&>(dataset), m, o,
                                          /*re=*/true);
}

std::vector<std::string> cls_names(data::ProblemType problem_type, bool) {
  if (problem_type == data::ProblemType::kRegression) return {"pearson", "spearman"};
  std::vector<std::string> names{"accuracy", "micro_f1", "macro_f1", "weighted_f1", "f1"};
  if (problem_type == data::ProblemType::kMultiLabel) names.emplace_back("example_f1");
  return names;
}

std::vector<std::string> re_names(data::ProblemType, bool) {
  return {"f1", "micro_f1", "micro_precision", "micro_recall", "macro_f1", "accuracy"};
}

}  // namespace

const TaskEvalOps& classification_eval_ops() {
  static const TaskEvalOps ops{data::Task::kSequenceClassification, &make_cls, &cls_names};
  return ops;
}

const TaskEvalOps& re_eval_ops() {
  static const TaskEvalOps ops{data::Task::kRelationExtraction, &make_re, &re_names};
  return ops;
}

}  // namespace clintorch::eval
