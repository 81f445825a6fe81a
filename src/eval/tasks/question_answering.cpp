// question_answering: start/end logits of every window kept, answers extracted per example
// (n-best spans, SQuAD v2 null answers) and scored with the official SQuAD metric.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "data/dataset.h"
#include "data/qa_postprocess.h"
#include "data/windows.h"
#include "eval/metric_common.h"
#include "eval/qa_metrics.h"
#include "eval/task_scoring.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::eval {
namespace {

void finish_qa(const data::TaskDataset& d, const at::Tensor& start, const at::Tensor& end,
               const TaskEvalOptions& o, TaskEvalResult& r) {
  const std::vector<data::QaPrediction> preds = data::postprocess_qa(d, start, end, o.qa);
  std::vector<QaExample> scored;
  for (size_t e = 0; e < preds.size(); ++e) {
    const data::QaPrediction& p = preds[e];
    const data::QaExample& ex = d.qa[e];
    if (o.keep_predictions) {
      nlohmann::json j = prediction_base(ex.id, ex.line);
      j["answer"] = p.text;
      j["start"] = p.start;
      j["end"] = p.end;
      j["score"] = p.probability;
      if (o.qa.version_2_with_negative) j["null_score_diff"] = p.null_score_diff;
      r.predictions.push_back(std::move(j));
    }
    if (d.labeled && o.compute_metrics) {
      QaExample q;
      q.id = ex.id;
      for (const data::QaAnswer& a : ex.answers) q.gold_answers.push_back(a.text);
      q.prediction = p.text;
      q.no_answer_probability = 0.0;  // as HF run_qa's post-processing
      scored.push_back(std::move(q));
    }
  }
  if (scored.empty()) return;
  SquadOptions so;
  so.version = o.qa.version_2_with_negative ? SquadVersion::kV2 : SquadVersion::kV1;
  if (so.version == SquadVersion::kV1) {
    for (const QaExample& q : scored) {
      if (q.gold_answers.empty()) {
        fail(kWhere + std::string(" ") + d.path,
             "question " + (q.id.empty() ? std::string("?") : q.id) +
                 " has no answer, which SQuAD v1.1 scoring cannot score",
             "set version_2_with_negative (SQuAD v2 data)");
      }
    }
  }
  const SquadReport report = squad_report(scored, so);
  r.scalars["exact"] = report.overall.exact;
  r.scalars["f1"] = report.overall.f1;
  if (so.version == SquadVersion::kV2) {
    if (report.has_answer.total > 0) {
      r.scalars["HasAns_exact"] = report.has_answer.exact;
      r.scalars["HasAns_f1"] = report.has_answer.f1;
    }
    if (report.no_answer.total > 0) {
      r.scalars["NoAns_exact"] = report.no_answer.exact;
      r.scalars["NoAns_f1"] = report.no_answer.f1;
    }
  }
  r.metrics = to_json(report);
  r.table = format_table(report);
}

class QaScorer : public TaskScorer {
 public:
  explicit QaScorer(const data::TaskDataset& d) : d_(d) {
    size_t longest = 1;
    for (uint32_t len : d.lengths()) longest = std::max<size_t>(longest, len);
    start_ = torch::zeros({static_cast<int64_t>(d.features.size()), static_cast<int64_t>(longest)},
                          torch::kFloat32);  // (features, longest)
    end_ = torch::zeros_like(start_);
  }

  void add(const std::vector<size_t>& indices, const data::Batch&, const model::Batch&,
           const model::HeadOutput& out) override {
    const at::Tensor s = out.start_logits.to(torch::kCPU, torch::kFloat32);  // (batch, seq)
    const at::Tensor e = out.end_logits.to(torch::kCPU, torch::kFloat32);    // (batch, seq)
    const int64_t seq = s.size(1);
    for (size_t k = 0; k < indices.size(); ++k) {
      const auto fi = static_cast<int64_t>(indices[k]);
      const auto len = std::min<int64_t>(seq, start_.size(1));
      start_[fi].narrow(0, 0, len).copy_(s[static_cast<int64_t>(k)].narrow(0, 0, len));
      end_[fi].narrow(0, 0, len).copy_(e[static_cast<int64_t>(k)].narrow(0, 0, len));
    }
  }

  void finish(const TaskEvalOptions& o, TaskEvalResult& r) override {
    if (d_.num_examples() > 0) finish_qa(d_, start_, end_, o, r);
  }

 private:
  const data::TaskDataset& d_;
  at::Tensor start_, end_;  // (features, longest) float32
};

std::unique_ptr<TaskScorer> make(const data::Dataset& dataset, model::TaskModel&,
                                 const TaskEvalOptions&) {
  return std::make_unique<QaScorer>(dynamic_cast<const data::TaskDataset&>(dataset));
}

std::vector<std::string> names(data::ProblemType, bool squad_v2) {
  std::vector<std::string> out{"exact", "f1"};
  if (squad_v2) out.insert(out.end(), {"HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1"});
  return out;
}

}  // namespace

const TaskEvalOps& qa_eval_ops() {
  static const TaskEvalOps ops{data::Task::kQuestionAnswering, &make, &names};
  return ops;
}

}  // namespace clintorch::eval
