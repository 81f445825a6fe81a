// Learning-rate schedules equal to HF transformers' get_*_schedule_with_warmup (optimization.py),
// applied the way torch.optim.lr_scheduler.LambdaLR applies them: optimizer step k (0-based) runs
// with lr = initial_lr * multiplier(k), and the scheduler steps after each optimizer step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include "util/choice.h"

namespace clintorch::train {

class AdamW;

enum class ScheduleType {
  kLinear,              // get_linear_schedule_with_warmup
  kCosine,              // get_cosine_schedule_with_warmup (num_cycles 0.5: half a cosine)
  kConstant,            // get_constant_schedule (no warmup)
  kConstantWithWarmup,  // get_constant_schedule_with_warmup
};

// "linear" | "cosine" | "constant" | "constant_with_warmup" (the recipe's lr_scheduler_type).
ScheduleType parse_schedule_type(const std::string& name);

struct ScheduleOptions {
  ScheduleType type = ScheduleType::kLinear;  // the schedule's shape
  int64_t warmup_steps = 0;                   // linear warmup from 0 (ignored by kConstant)
  int64_t total_steps = 0;                    // optimizer steps of the whole run
  double num_cycles = 0.5;                    // cosine waves over the decay (HF default 0.5)
};

// HF TrainingArguments.get_warmup_steps: `warmup_steps` when > 0, else ceil(total * ratio).
int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

// HF Trainer's number of optimizer steps: max_steps when > 0, else
// ceil(num_train_epochs * max(ceil(batches_per_epoch / gradient_accumulation_steps), 1)).
int64_t total_training_steps(int64_t max_steps, double num_train_epochs, int64_t batches_per_epoch,
                             int64_t gradient_accumulation_steps);

// The multiplier of the initial learning rate for optimizer step `step` (0-based), computed in
// double exactly as HF's lambdas (same operations, same order).
double lr_multiplier(const ScheduleOptions& options, int64_t step);

// Sets the learning rate of every parameter group of an AdamW: group.lr = group.initial_lr *
// lr_multiplier(step). Construction applies step 0 (as LambdaLR); call step() after each
// optimizer step.
class LrScheduler {
 public:
  LrScheduler(AdamW& optimizer, ScheduleOptions options);

  // Advances to the next optimizer step and sets the groups' learning rates for it.
  void step();
  // Jumps to `step` (resume) and sets the groups' learning rates for it.
  void set_step(int64_t step);
  // The optimizer step whose learning rates are set now.
  int64_t current_step() const { return step_; }
  // The learning rate of each group now (HF get_last_lr).
  std::vector<double> last_lr() const;
  const ScheduleOptions& options() const { return options_; }

 private:
  void apply();

  AdamW& optimizer_;
  ScheduleOptions options_;
  int64_t step_ = 0;
};

}  // namespace clintorch::train

namespace clintorch {
template <>
struct ChoiceNames<train::ScheduleType> {
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> kNames{"linear", "cosine", "constant",
                                                 "constant_with_warmup"};
    return kNames;
  }
};
}  // namespace clintorch
