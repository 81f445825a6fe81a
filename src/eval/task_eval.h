// Running a task model over a whole dataset: batched inference, windows merged back onto
// examples, per-example predictions, and (for labelled data) the head's metrics. One code path
// serves evaluation during training, `clintorch evaluate` and `clintorch predict`.
//
//   eval::TaskEvalOptions options;
//   options.batch_size = 32;
//   options.seqeval_mode = "strict";
//   eval::TaskEvalResult result = eval::evaluate_task(model, *dev, options);
//   result.scalars.at("f1");          // flat metrics, names as in metrics.jsonl ("loss", "f1",
//   ...) result.metrics;                   // the full report as JSON (per type / per class, ...)
//   std::cout << result.table;        // readable table
//
// MLM: `dataset` is any data::Dataset (an MlmCorpus or a held-out SubsetDataset of one); the
// result is the loss and perplexity.
#pragma once

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/model_batch.h"
#include "data/qa_postprocess.h"
#include "data/readers.h"
#include "data/windows.h"
#include "model/heads/task_model.h"

namespace clintorch::data {
class Dataset;
struct Batch;
}  // namespace clintorch::data

namespace clintorch::eval {

struct TaskEvalOptions {
  // Features per batch. Default 32.
  size_t batch_size = 32;
  // Token budget per batch instead of a fixed size (0 = off). Default 0.
  size_t max_tokens = 0;
  // Where the model runs (the model must already be there). Default CPU.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  // Autocast dtype for the forward pass: "" (fp32), "bf16" or "fp16". Default "".
  std::string autocast;
  // Compute metrics when the dataset is labelled. Default true.
  bool compute_metrics = true;
  // Keep one JSON prediction per example in TaskEvalResult::predictions (what `predict` and
  // `evaluate --predictions` write). Default false.
  bool keep_predictions = false;
  // NER: seqeval mode ("default" | "strict") and the tag scheme strict mode reads. Defaults as
  // the recipe's evaluation.seqeval_mode / data.tag_scheme.
  std::string seqeval_mode = "default";
  std::string tag_scheme = "iob2";
  // RE: label left out of micro-F1 ("" = none).
  std::string negative_label;
  // Sequence classification / RE: how the logits of one long input's windows are combined.
  data::WindowAggregation window_aggregation = data::WindowAggregation::kMean;
  // QA answer extraction.
  data::QaPostprocessOptions qa;
  // Called after each batch with (batches done, total batches), e.g. for a progress bar.
  std::function<void(size_t, size_t)> on_batch;
  // Data-parallel evaluation: process shard_rank of shard_count runs the forward of batches
  // shard_rank, shard_rank + shard_count, ...; all_gather hands every process each one's
  // outputs of a round (HeadOutput tensors: loss_sum, loss_weight, logits, start_logits,
  // end_logits, positions; none when it had no batch), so all of them score the whole dataset in
  // the single-process order and get the same metrics. Default: one process.
  int shard_rank = 0;
  int shard_count = 1;
  std::function<std::vector<std::vector<at::Tensor>>(const std::vector<at::Tensor>&)> all_gather;
  // MLM: seed of the evaluation masking (batch i is masked with key seed + i, so every
  // evaluation of the same data masks the same tokens). Default 0.
  uint64_t mlm_seed = 0;
};

struct TaskEvalResult {
  // Flat numbers for logging, TensorBoard and best-model selection, without an "eval_" prefix:
  // always "loss" when the data are labelled; NER "precision"/"recall"/"f1"/"accuracy";
  // classification "accuracy", "micro_f1"/"macro_f1"/"weighted_f1" and "f1" (= the head's main
  // F1); multi-label also "example_f1"; regression "pearson"/"spearman"; QA "exact"/"f1"
  // (+ "HasAns_*"/"NoAns_*" for v2); RE "micro_f1" and "f1"; MLM "perplexity".
  std::map<std::string, double> scalars;
  // The full report (what `evaluate` writes to its metrics JSON).
  nlohmann::json metrics;
  // The report as a readable table.
  std::string table;
  // With keep_predictions: one object per example in example order (fields as `predict` writes:
  // NER entities with character offsets, label + probabilities, answer + span, ...).
  std::vector<nlohmann::json> predictions;
  size_t num_examples = 0;
  size_t num_features = 0;
  double seconds = 0.0;
};

// How "loss" is averaged: the sum of the batches' HeadOutput::loss_sum over the sum of their
// loss_weight, i.e. the mean over every labelled token (NER without CRF, MLM) or example
// (sequence tasks, QA; for these it equals HF's eval_loss, which weights each batch's mean by its
// batch size). For NER this is the token-weighted mean the trainer's training loss uses, not HF's
// batch-weighted mean of per-batch token means. MLM "perplexity" = exp(loss) (HF run_mlm).

// Runs `model` (switched to eval mode and back to its previous mode) over `dataset` without
// gradients. Throws clintorch::Error when the dataset does not fit the head (e.g. labels outside
// the head's label count).
TaskEvalResult evaluate_task(model::TaskModel& model, const data::Dataset& dataset,
                             const TaskEvalOptions& options);

// The value of `metric` in `scalars`, accepting HF's "eval_" prefix ("eval_f1" = "f1"); throws
// clintorch::Error listing the available names when it is absent.
double metric_value(const std::map<std::string, double>& scalars, const std::string& metric);

// Every name evaluate_task can put in TaskEvalResult::scalars for this task ("loss" included;
// MLM: task kMlm), so that metric_for_best_model is checked before training writes anything.
// evaluate_task throws a logic error if it ever produces a name missing here.
std::vector<std::string> scalar_names(data::Task task, data::ProblemType problem_type,
                                      bool squad_v2);

// The settings of `options` that say how a task is scored, as the JSON object a model carries in
// config.json ("clintorch": {"evaluation": ...}, model::TaskModelImpl::evaluation_settings):
// seqeval_mode, tag_scheme, negative_label, window_aggregation and the QA answer options. The
// trainer writes them from its recipe, so `evaluate --model EXPORT` scores as `evaluate --recipe`.
nlohmann::json evaluation_settings(const TaskEvalOptions& options);
// Sets the fields of `options` that `settings` (as written by evaluation_settings) holds; fields
// it lacks stay as they are, and keys of a newer version are ignored. Throws Error naming
// `where` when a value has the wrong type.
void apply_evaluation_settings(TaskEvalOptions& options, const nlohmann::json& settings,
                               const std::string& where);

// The data -> model batch adapter lives beside the batch (data/model_batch.h); the name is kept
// here for callers of the eval layer.
using data::to_model_batch;

}  // namespace clintorch::eval
