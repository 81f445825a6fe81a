// AdamW equal to torch.optim.AdamW (decoupled weight decay), its parameter groups (HF Trainer's
// weight-decay exclusions, layer-wise learning-rate decay, freezing) and gradient clipping equal
// to torch.nn.utils.clip_grad_norm_.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace clintorch::train {

using NamedParameters = std::vector<std::pair<std::string, at::Tensor>>;

// HF Trainer.get_decay_parameter_names: a parameter gets no weight decay when its lower-cased
// name contains "bias", "layernorm" or "rmsnorm", or has a "norm" segment ("x.norm.y", "x_norm").
bool excluded_from_weight_decay(const std::string& name);

// Depth of a parameter for layer-wise LR decay, given the encoder's number of layers L:
// 0 for "embeddings." parameters, i + 1 for "encoder.layer.<i>." parameters, L + 1 for the rest
// (pooler, task head).
int64_t parameter_depth(const std::string& name, int64_t num_layers);

struct ParamGroupOptions {
  double learning_rate = 5e-5;      // peak LR of the top depth (the head)
  double weight_decay = 0.0;        // for parameters not excluded_from_weight_decay
  double layerwise_lr_decay = 1.0;  // depth d gets learning_rate * decay^(L + 1 - d); 1: off
  int64_t num_layers = 0;           // L, the encoder's layers (needed when decay < 1)
};

// One set of parameters sharing lr and weight decay (torch's param_groups).
struct ParamGroup {
  std::string name;                      // e.g. "decay", "no_decay", "decay/depth3"
  std::vector<std::string> param_names;  // names of `params`, same order
  std::vector<at::Tensor> params;        // the parameters (leaf tensors)
  double initial_lr = 0.0;               // LR before the schedule (torch's "initial_lr")
  double lr = 0.0;                       // LR of the next step (set by LrScheduler)
  double weight_decay = 0.0;             // decoupled weight decay
};

// Splits trainable parameters (requires_grad) into groups: decay / no_decay, and per depth when
// layerwise_lr_decay < 1. Groups keep the order of first appearance; parameters keep theirs.
std::vector<ParamGroup> build_param_groups(const NamedParameters& named,
                                           const ParamGroupOptions& options);

struct FreezeOptions {
  bool embeddings = false;  // freeze "embeddings." parameters
  int64_t layers = 0;       // freeze "encoder.layer.<i>." for i < layers
};

// Sets requires_grad(false) on the frozen parameters and returns their names.
std::vector<std::string> freeze_parameters(const NamedParameters& named,
                                           const FreezeOptions& options);

struct AdamWOptions {
  double beta1 = 0.9;    // first-moment decay
  double beta2 = 0.999;  // second-moment decay
  double eps = 1e-8;     // added to sqrt(v_hat)
  // Use ATen's fused AdamW kernel (CPU and CUDA; torch.optim.AdamW(fused=True)). false: the
  // per-tensor algorithm of torch.optim.AdamW's default CPU path, op for op.
  bool fused = true;
};

class AdamW {
 public:
  AdamW(std::vector<ParamGroup> groups, AdamWOptions options = {});

  // One update of every parameter that has a gradient. With fp16 loss scaling, pass the scaler's
  // scale and found_inf tensors: the fused kernel unscales the gradients and skips the update
  // (and the step count) when found_inf is non-zero.
  void step(const std::optional<at::Tensor>& grad_scale = std::nullopt,
            const std::optional<at::Tensor>& found_inf = std::nullopt);
  // Drops the gradients (set_to_none, as torch's default).
  void zero_grad();

  std::vector<ParamGroup>& groups() { return groups_; }
  const std::vector<ParamGroup>& groups() const { return groups_; }
  const AdamWOptions& options() const { return options_; }

  // The state for checkpoints: "<param name>/step", "/exp_avg", "/exp_avg_sq" per parameter that
  // has been updated at least once.
  NamedParameters state() const;
  // Restores state() output; throws on unknown names or shape mismatches.
  void load_state(const NamedParameters& state);

 private:
  struct ParamState {
    at::Tensor step;        // () float32 on the parameter's device (as torch fused)
    at::Tensor exp_avg;     // like the parameter
    at::Tensor exp_avg_sq;  // like the parameter
  };
  ParamState& state_for(size_t group, size_t index);
  void step_group_fused(size_t g, const std::optional<at::Tensor>& grad_scale,
                        const std::optional<at::Tensor>& found_inf);
  void step_group_single(size_t g);

  std::vector<ParamGroup> groups_;
  AdamWOptions options_;
  std::vector<std::vector<ParamState>> state_;  // [group][param]
};

// torch.nn.utils.clip_grad_norm_(params, max_norm) with norm_type 2: scales every gradient by
// min(1, max_norm / (total_norm + 1e-6)) and returns the total norm before clipping, a () tensor.
// Parameters without a gradient are skipped. Uses the foreach kernels, as torch does. Pass the
// parameters in the model's order (as HF Trainer passes model.parameters()): the total norm sums
// the per-tensor norms in that order, and another order changes its last bit.
at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace clintorch::train
