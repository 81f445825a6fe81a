// Training checkpoints. output_dir/checkpoint-<global_step>/ is a HF model folder (config.json,
// model.safetensors, vocab.txt, tokenizer_config.json, ...) that transformers loads as it is,
// plus the trainer's files:
//   optimizer.safetensors   AdamW state per parameter ("<name>/step", "/exp_avg", "/exp_avg_sq")
//                           and the fp16 grad scaler ("scaler/scale", "scaler/growth_tracker")
//   rng_state.safetensors   the CPU generator ("cpu") and every CUDA generator ("cuda:<i>")
//   trainer_state.json      global_step, epoch, data position, best metric and checkpoint,
//                           early-stopping count, scheduler step, log_history (HF field names)
//   recipe.yaml             the resolved recipe (dump_recipe)
// A checkpoint is written into a temporary folder and renamed into place, so an interruption
// never leaves a half checkpoint under a checkpoint-N name.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace clintorch::train {

using NamedTensorList = std::vector<std::pair<std::string, at::Tensor>>;

// What trainer_state.json holds.
struct TrainerState {
  int64_t global_step = 0;            // optimizer steps done
  double epoch = 0.0;                 // epochs done, fractional (HF "epoch")
  int64_t max_steps = 0;              // optimizer steps of the whole run
  int64_t data_epoch = 0;             // epoch of the next micro-batch
  int64_t data_batch = 0;             // index of the next micro-batch within data_epoch
  int64_t micro_step = 0;             // micro-batches of an unfinished optimizer step (always 0)
  int64_t scheduler_step = 0;         // LrScheduler::current_step()
  int64_t num_input_tokens_seen = 0;  // real tokens trained on
  std::optional<double> best_metric;  // best value of metric_for_best_model
  std::string best_model_checkpoint;  // the folder of the best checkpoint ("" when none)
  std::string metric_for_best_model;  // e.g. "eval_f1"
  int64_t evals_without_improvement = 0;  // early stopping counter
  int64_t nonfinite_skipped = 0;          // steps skipped for a non-finite loss (nan_policy skip)
  int64_t nonfinite_in_a_row = 0;         // of them, in a row up to now
  nlohmann::json log_history = nlohmann::json::array();  // every log / eval record

  nlohmann::json to_json() const;
  // Throws an Error naming `where` on a missing or mistyped field.
  static TrainerState from_json(const nlohmann::json& json, const std::string& where);
};

// The random generators' states: "cpu" and "cuda:<i>" for every CUDA device.
NamedTensorList rng_states();
// Restores rng_states() output (CUDA states for devices that exist).
void set_rng_states(const NamedTensorList& states);

struct CheckpointWriteInput {
  // Writes the HF model folder (config.json, weights, tokenizer files) into the given folder.
  std::function<void(const std::string&)> write_model;
  NamedTensorList optimizer;  // AdamW::state() and the scaler's tensors
  TrainerState state;         // with global_step set
  std::string recipe_yaml;    // dump_recipe of the run
};

// Writes output_dir/checkpoint-<state.global_step> atomically (replacing an older one of the
// same step) and returns its path.
std::string write_checkpoint(const std::string& output_dir, const CheckpointWriteInput& input);

// Removes the .checkpoint-N*.tmp folders of writes or deletions that never finished (a kill, a
// full disk): a complete checkpoint always has its checkpoint-N name, so these are partial by
// construction.
void remove_partial_checkpoints(const std::string& output_dir);

struct LoadedCheckpoint {
  std::string dir;
  TrainerState state;
  NamedTensorList optimizer;
  NamedTensorList rng;
};

// Reads the trainer files of a checkpoint folder (the weights are loaded by the caller), after
// checking its manifest (io::verify_manifest) unless the caller just did (`verified`).
LoadedCheckpoint read_checkpoint(const std::string& dir, bool verified = false);

// The checkpoint-<N> folders of output_dir, sorted by N (complete ones only).
std::vector<std::string> list_checkpoints(const std::string& output_dir);

// Deletes the oldest checkpoints so that at most `limit` remain, never `keep` (the best one);
// 0 = keep all. Returns the deleted folders.
std::vector<std::string> rotate_checkpoints(const std::string& output_dir, int64_t limit,
                                            const std::string& keep);

// Writes `text` to `path` through a temporary file and a rename.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace clintorch::train
