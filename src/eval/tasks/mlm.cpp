// mlm: loss, perplexity (exp of the loss, as HF run_mlm) and masked-token accuracy.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "data/dataset.h"
#include "data/windows.h"
#include "eval/metric_common.h"
#include "eval/task_scoring.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::eval {
namespace {

class MlmScorer : public TaskScorer {
 public:
  MlmScorer(const data::Dataset& d, model::TaskModel& m) : d_(d), model_(m) {}

  void add(const std::vector<size_t>&, const data::Batch& cpu, const model::Batch& batch,
           const model::HeadOutput& out) override {
    if (!cpu.labels.defined()) return;
    const at::Tensor pred = model_->decode(out, batch).to(torch::kCPU);
    at::Tensor gold = cpu.labels;  // (batch, seq)
    if (out.positions.defined()) {
      gold = gold.reshape({-1}).index_select(0, out.positions.to(torch::kCPU));  // (n)
    }
    const at::Tensor valid = gold.ne(-100);
    total_ += valid.sum().item<int64_t>();
    correct_ += (pred.reshape(gold.sizes()).eq(gold) & valid).sum().item<int64_t>();
  }

  void finish(const TaskEvalOptions&, TaskEvalResult& r) override {
    nlohmann::json j = nlohmann::json::object();
    if (r.scalars.count("loss")) {
      r.scalars["perplexity"] = std::exp(r.scalars["loss"]);
      j["loss"] = r.scalars["loss"];
      j["perplexity"] = number_or_null(r.scalars["perplexity"]);
    }
    if (total_ > 0) {
      r.scalars["accuracy"] = static_cast<double>(correct_) / static_cast<double>(total_);
      j["accuracy"] = r.scalars["accuracy"];
    }
    j["num_masked_tokens"] = total_;
    j["num_sequences"] = d_.size();
    r.metrics = std::move(j);
    r.table = loss_table(r);
  }

 private:
  const data::Dataset& d_;
  model::TaskModel& model_;
  int64_t correct_ = 0;
  int64_t total_ = 0;
};

std::unique_ptr<TaskScorer> make(const data::Dataset& dataset, model::TaskModel& m,
                                 const TaskEvalOptions&) {
  return std::make_unique<MlmScorer>(dataset, m);
}

std::vector<std::string> names(data::ProblemType, bool) {
  return {"perplexity", "accuracy"};
}

}  // namespace

const TaskEvalOps& mlm_eval_ops() {
  static const TaskEvalOps ops{data::Task::kMlm, &make, &names};
  return ops;
}

}  // namespace clintorch::eval
