// The per-task part of evaluate_task, internal to the eval layer: a task's scorer collects the
// model's outputs batch by batch, then turns them into metrics and per-example predictions. Each
// task defines its scorer in src/eval/tasks/<task>.cpp; task_scoring.cpp holds the table, the eval
// layer's entry of the task registry (data/task_registry.h is the data layer's).
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "eval/task_eval.h"
#include "model/heads/task_model.h"

namespace clintorch::eval {

class TaskScorer {
 public:
  virtual ~TaskScorer() = default;
  // Inputs a batch needs beyond the collated ones, before the forward (NER: the label mask of
  // unlabelled batches, so a CRF decodes the positions it would with labels).
  virtual void prepare(const data::Batch& cpu, model::Batch& batch, const c10::Device& device) {
    (void)cpu, (void)batch, (void)device;
  }
  // One batch: its feature indices, the CPU batch, the model's batch and output.
  virtual void add(const std::vector<size_t>& indices, const data::Batch& cpu,
                   const model::Batch& batch, const model::HeadOutput& out) = 0;
  // Metrics, the table and the predictions into `r` (whose scalars hold "loss" when labelled).
  virtual void finish(const TaskEvalOptions& o, TaskEvalResult& r) = 0;
};

struct TaskEvalOps {
  data::Task task;
  // A scorer for `dataset` (a TaskDataset of the task; an MlmCorpus or a split of one for mlm).
  std::unique_ptr<TaskScorer> (*make)(const data::Dataset& dataset, model::TaskModel& model,
                                      const TaskEvalOptions& o);
  // The scalar names the scorer may produce, "loss" aside.
  std::vector<std::string> (*scalar_names)(data::ProblemType problem_type, bool squad_v2);
};

// The eval layer's entry of `task`.
const TaskEvalOps& task_eval_ops(data::Task task);

// Defined in src/eval/tasks/<task>.cpp.
const TaskEvalOps& ner_eval_ops();
const TaskEvalOps& classification_eval_ops();
const TaskEvalOps& re_eval_ops();
const TaskEvalOps& qa_eval_ops();
const TaskEvalOps& mlm_eval_ops();

// Helpers the scorers share (task_scoring.cpp).
inline constexpr char kWhere[] = "evaluate";
// Base JSON of one example's prediction: its id (when the file gave one) and line.
nlohmann::json prediction_base(const std::string& id, size_t line);
// Softmax of one row of logits (float64 for stable sums).
std::vector<double> softmax(const float* logits, size_t n);
double sigmoid(float x);
// The index of each example's first feature (features are in example order).
std::vector<size_t> first_features(const data::TaskDataset& d);
// The scalars, one per line (the table of a loss-only report).
std::string loss_table(const TaskEvalResult& r);

}  // namespace clintorch::eval
