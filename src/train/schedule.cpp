#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "train/optim.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::train {

ScheduleType parse_schedule_type(const std::string& name) {
  if (const auto type = choice_from_name<ScheduleType>(name)) return *type;
  const std::vector<std::string>& names = choice_names<ScheduleType>();
  fail("lr_scheduler_type", "unknown schedule '" + name + "'" + did_you_mean(name, names));
}

int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps) {
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * warmup_ratio));
}

int64_t total_training_steps(int64_t max_steps, double num_train_epochs, int64_t batches_per_epoch,
                             int64_t gradient_accumulation_steps) {
  if (max_steps > 0) return max_steps;
  const int64_t accumulation = std::max<int64_t>(gradient_accumulation_steps, 1);
  const int64_t per_epoch = std::max<int64_t>(
      batches_per_epoch / accumulation + (batches_per_epoch % accumulation > 0), 1);
  return static_cast<int64_t>(std::ceil(num_train_epochs * static_cast<double>(per_epoch)));
}

double lr_multiplier(const ScheduleOptions& o, int64_t step) {
  const int64_t warmup = o.warmup_steps;
  const int64_t total = o.total_steps;
  switch (o.type) {
    case ScheduleType::kConstant:
      return 1.0;
    case ScheduleType::kConstantWithWarmup:
      if (step < warmup) {
        return static_cast<double>(step) / std::max(1.0, static_cast<double>(warmup));
      }
      return 1.0;
    case ScheduleType::kLinear:
      if (step < warmup) {
        return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
      }
      return std::max(0.0, static_cast<double>(total - step) /
                               static_cast<double>(std::max<int64_t>(1, total - warmup)));
    case ScheduleType::kCosine: {
      if (step < warmup) {
        return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
      }
      const double progress = static_cast<double>(step - warmup) /
                              static_cast<double>(std::max<int64_t>(1, total - warmup));
      // 0.5 * (1 + cos(pi * num_cycles * 2 * progress)), evaluated left to right as HF does.
      const double factor = 0.5 * (1.0 + std::cos(M_PI * o.num_cycles * 2.0 * progress));
      return std::max(0.0, factor);
    }
  }
  return 1.0;
}

LrScheduler::LrScheduler(AdamW& optimizer, ScheduleOptions options)
    : optimizer_(optimizer), options_(options) {
  apply();
}

void LrScheduler::step() {
  ++step_;
  apply();
}

void LrScheduler::set_step(int64_t step) {
  step_ = step;
  apply();
}

std::vector<double> LrScheduler::last_lr() const {
  std::vector<double> out;
  for (const auto& g : optimizer_.groups()) out.push_back(g.lr);
  return out;
}

void LrScheduler::apply() {
  const double m = lr_multiplier(options_, step_);
  for (auto& g : optimizer_.groups()) g.lr = g.initial_lr * m;
}

}  // namespace clintorch::train
