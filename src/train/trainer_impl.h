// The Trainer behind train::run_training (trainer.h), private to the train layer. Its methods
// live in trainer.cpp (the loop, logging, evaluation, checkpoints, the end of a run) and
// trainer_step.cpp (one optimizer step: micro-batches, data-parallel reduction, non-finite steps).
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/batching.h"
#include "eval/task_eval.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/metrics_log.h"
#include "train/optim.h"
#include "train/progress.h"
#include "train/recipe_check.h"
#include "train/schedule.h"
#include "train/setup.h"
#include "train/tensorboard.h"
#include "train/trainer.h"

namespace clintorch::train::detail {

// The signal (SIGINT/SIGTERM) the handler saw; 0 = none.
extern std::atomic<int> g_signal;

// The generator seed of micro-batch `index` of `epoch` (trainer_step.cpp).
uint64_t micro_batch_seed(uint64_t seed, uint64_t epoch, uint64_t index);

// torch.amp.GradScaler with its defaults (init 2^16, growth 2 every 2000 good steps, backoff
// 0.5), for fp16 on CUDA.
struct GradScaler {
  bool enabled = false;
  at::Tensor scale;           // () float32
  at::Tensor growth_tracker;  // () int32
  at::Tensor found_inf;       // () float32

  void init(const c10::Device& device) {
    enabled = true;
    scale = torch::full({}, 65536.0, torch::dtype(torch::kFloat32).device(device));
    growth_tracker = torch::zeros({}, torch::dtype(torch::kInt32).device(device));
    found_inf = torch::zeros({}, torch::dtype(torch::kFloat32).device(device));
  }
  // Divides the gradients by the scale (and `extra`), recording non-finite values.
  void unscale(std::vector<at::Tensor>& grads, double extra) {
    found_inf.zero_();
    const at::Tensor inv = (scale.to(torch::kFloat64) * extra).reciprocal().to(torch::kFloat32);
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv);
  }
  void update() { at::_amp_update_scale_(scale, growth_tracker, found_inf, 2.0, 0.5, 2000); }
  NamedTensorList state() const {
    if (!enabled) return {};
    return {{"scaler/scale", scale}, {"scaler/growth_tracker", growth_tracker}};
  }
  void load(const NamedTensorList& s) {
    for (const auto& [k, t] : s) {
      if (k == "scaler/scale") scale.copy_(t);
      if (k == "scaler/growth_tracker") growth_tracker.copy_(t);
    }
  }
};

class Trainer {
 public:
  Trainer(const Recipe& recipe, const TrainOptions& options)
      : r_(recipe), options_(options), pg_(options.process_group) {
    if (pg_) {
      rank_ = pg_->rank();
      world_ = pg_->size();
      main_ = rank_ == 0;
    }
  }

  TrainResult run();

 private:
  void prepare();
  // run()'s phases: set-up and the first log line; progress, logs, evaluation and checkpoints
  // after each optimizer step; the end of a run stopped early (signal, --stop-after-steps) and
  // of a finished one.
  void start();
  void after_step(bool epoch_end, bool* stop);
  void finish_interrupted(TrainResult& result, int stop_signal);
  void finish(TrainResult& result);
  // Rank 0's output files: the previous run cleared (overwrite_output_dir), recipe.yaml,
  // metrics.jsonl, TensorBoard.
  void open_outputs(bool resuming);
  void build_optimizer();
  // Data-parallel runs: rank 0's weights everywhere, the gradient reducer.
  void setup_data_parallel();
  // Restores the weights, optimizer, scheduler, RNG and data position of `ckpt`.
  void resume(const LoadedCheckpoint& ckpt);
  // The checkpoint training.resume_from_checkpoint names, read (and verified) once; nullopt
  // when starting anew.
  std::optional<LoadedCheckpoint> read_resume_checkpoint() const;
  // This rank's share of micro-batches [index, index + count) of `epoch` (their indices in
  // `mine`), and the labelled targets of all of them over every rank.
  int64_t load_micro_batches(int64_t epoch, int64_t index, int64_t count,
                             std::vector<int64_t>& mine, std::vector<data::Batch>& batches);
  // One optimizer step over micro-batches [index, index + count) of epoch `epoch`.
  void train_step(int64_t epoch, int64_t index, int64_t count);
  std::map<std::string, double> evaluate(const data::Dataset& dataset);
  void log_train();
  // Evaluates on the validation set and logs eval_*; with `track`, updates the best metric,
  // saves for save_strategy best and counts towards early stopping.
  void evaluate_and_track(bool* stop, bool track = true);
  std::string save_checkpoint();
  void write_model_dir(const std::string& dir) const;
  void write_export(TrainResult& result);
  void log_record(const std::string& split, const std::vector<std::pair<std::string, double>>& v);
  // Logs evaluation scalars as a `split` record (names prefixed "<split>_") and one info line
  // starting with `title`.
  void log_metrics(const std::string& split, const std::string& title,
                   const std::map<std::string, double>& scalars);

  // Data-parallel steps: the gradients and the step's scalars summed over the ranks.
  // A step whose loss or gradient norm is not finite: stop with a diagnostic, or count and skip
  // it (training.nan_policy).
  void on_nonfinite_step(double loss);
  void reduce_step(std::vector<at::Tensor>& grads, double* loss_sum, double* weight_sum,
                   int64_t* tokens, const std::vector<data::Batch>& batches);
  // Evaluation options with this rank's shard of the batches.
  void shard_evaluation(eval::TaskEvalOptions& o) const;
  void barrier(const std::string& what) const {
    if (pg_) pg_->barrier(what);
  }

  const Recipe& r_;
  TrainOptions options_;
  std::shared_ptr<ProcessGroup> pg_;
  int rank_ = 0;
  int world_ = 1;
  bool main_ = true;     // rank 0: the one process that writes
  int step_signal_ = 0;  // SIGINT/SIGTERM seen by any rank during the last step
  // The word embeddings, whose gradient the ranks sum over the rows of the step's tokens only
  // (the others are zero on every rank); undefined when the matrix is tied to an output layer
  // (MLM), whose gradient reaches every row.
  at::Tensor word_embeddings_;
  // Sums every other gradient over the ranks, overlapped with the backward pass.
  std::unique_ptr<GradientReducer> reducer_;
  RecipeCheck check_;
  RunSetup setup_;
  c10::Device device_ = c10::Device(c10::DeviceType::CPU);
  bool autocast_ = false;
  c10::ScalarType autocast_dtype_ = c10::ScalarType::BFloat16;
  std::unique_ptr<data::DataLoader> loader_;
  std::unique_ptr<AdamW> optimizer_;
  std::unique_ptr<LrScheduler> scheduler_;
  GradScaler scaler_;
  std::vector<at::Tensor> params_;        // every parameter, model order (for clipping)
  std::vector<std::string> param_names_;  // their names, for diagnostics
  TrainerState state_;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  std::unique_ptr<ProgressBar> progress_;
  std::string metric_name_;  // without "eval_"
  bool greater_is_better_ = false;
  int64_t last_saved_step_ = -1;
  std::string last_checkpoint_;
  std::map<std::string, double> last_eval_;
  // Logging window.
  double window_loss_ = 0.0;
  int64_t window_steps_ = 0;
  int64_t window_tokens_ = 0;
  std::chrono::steady_clock::time_point window_start_;
  double last_grad_norm_ = 0.0;
  double last_lr_ = 0.0;
  double last_loss_ = 0.0;
  std::chrono::steady_clock::time_point run_start_;
  int64_t run_start_step_ = 0;
};

}  // namespace clintorch::train::detail
