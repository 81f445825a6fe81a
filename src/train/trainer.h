// The training loop of `clintorch train`: recipe -> setup (train/setup.h) -> AdamW + schedule ->
// optimizer steps of gradient_accumulation_steps micro-batches -> logging, evaluation,
// checkpoints (train/checkpoint.h) -> export and test metrics.
//
// Losses: every micro-batch contributes its summed loss (HeadOutput.loss_sum); the optimizer step
// divides by the loss weight summed over all micro-batches of the step (labelled tokens for token
// tasks, rows for sequence tasks), so an accumulated step equals one big batch (the fix of
// transformers PR #34191). The gradients are computed as HF's reference loop does:
// backward(loss_sum / N) with N = the step's labelled-target count, then rescaled when the head's
// loss weight differs from that count (class weights, CRF).
//
// Nothing is written to output_dir before the recipe, its files and the data have been read.
//
// Dropout: the generator is seeded before each micro-batch from (training.seed, epoch, the
// micro-batch's index in the epoch), so its masks do not depend on which process runs it or on
// what ran before: N processes and one process with the same global batch train alike, and a
// run resumed on another number of processes continues as it would have.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "train/recipe.h"

namespace clintorch::train {

class ProcessGroup;

struct TrainOptions {
  // Behave as after SIGTERM once this many optimizer steps are done in total (write a checkpoint
  // and stop, without export or test), but exit 0: the interruption hook of the resume tests.
  // 0 = off. Default 0.
  int64_t stop_after_steps = 0;
  // Write every training micro-batch as DIR/step<S>_micro<M>.safetensors (input_ids,
  // attention_mask, token_type_ids, labels, ...): a debug aid the parity tests replay in Python.
  // "" = off; the environment variable CLINTORCH_DUMP_BATCHES sets it too. Default "".
  std::string dump_batches_dir;
  // At the end (finished or stopped), write this process's parameters as
  // DIR/rank<R>.safetensors: a debug aid the data-parallel tests compare across ranks. "" = off.
  std::string dump_weights_dir;
  // Install the SIGINT/SIGTERM handlers (finish the step, checkpoint, exit). Default true.
  bool handle_signals = true;
  // Data-parallel training (train/distributed.h): this process is one rank of the group. Each
  // optimizer step spans per_device_train_batch_size x ranks x gradient_accumulation_steps
  // examples; every rank runs its share of the step's micro-batches, the gradients and the loss
  // divisor are summed over the ranks, and every rank steps to the same parameters. Rank 0 alone
  // writes logs, metrics, TensorBoard, checkpoints and the export. Null: one process.
  std::shared_ptr<ProcessGroup> process_group;
};

struct TrainResult {
  // 0 when the run finished (or stopped at stop_after_steps), 128 + signal after SIGINT/SIGTERM.
  int exit_code = 0;
  int64_t global_step = 0;
  bool interrupted = false;
  // The last checkpoint written ("" when none) and the export folder ("" when none).
  std::string last_checkpoint;
  std::string export_dir;
  // The last evaluation and the test metrics (without prefixes).
  std::map<std::string, double> eval;
  std::map<std::string, double> test;
};

// Runs the whole training of a loaded recipe. Throws clintorch::Error for bad input (before
// anything is written) and for failures on the way.
TrainResult run_training(const Recipe& recipe, const TrainOptions& options = {});

}  // namespace clintorch::train
