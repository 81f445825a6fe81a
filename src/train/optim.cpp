#include "train/optim.h"

#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>

#include "util/error.h"

namespace clintorch::train {
namespace {

std::string lower(const std::string& s) {
  std::string out = s;
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "encoder.layer.<i>." anywhere in the name: i, else -1.
int64_t encoder_layer_index(const std::string& name) {
  static const std::regex kLayer(R"((?:^|\.)encoder\.layer\.(\d+)\.)");
  std::smatch m;
  if (std::regex_search(name, m, kLayer)) return std::stoll(m[1].str());
  return -1;
}

bool is_embedding_parameter(const std::string& name) {
  return name.rfind("embeddings.", 0) == 0 || name.find(".embeddings.") != std::string::npos;
}

// Groups indices of `tensors` by (device, dtype), in order of first appearance (as torch's
// _group_tensors_by_device_and_dtype for one list).
std::vector<std::vector<size_t>> group_by_device_dtype(const std::vector<at::Tensor>& tensors) {
  std::vector<std::pair<std::pair<std::string, at::ScalarType>, std::vector<size_t>>> groups;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto key = std::make_pair(tensors[i].device().str(), tensors[i].scalar_type());
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == key; });
    if (it == groups.end()) {
      groups.push_back({key, {i}});
    } else {
      it->second.push_back(i);
    }
  }
  std::vector<std::vector<size_t>> out;
  for (auto& g : groups) out.push_back(std::move(g.second));
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------ groups

bool excluded_from_weight_decay(const std::string& name) {
  // transformers Trainer.get_decay_parameter_names: forbidden_name_patterns searched in the
  // lower-cased full name (the nn.LayerNorm type check is covered by the names: our modules are
  // registered under HF's names, where LayerNorm parameters are "...LayerNorm.weight/bias").
  static const std::regex kPatterns[] = {
      std::regex("bias"), std::regex("layernorm"), std::regex("rmsnorm"),
      std::regex(R"((?:^|\.)norm(?:$|\.))"), std::regex(R"(_norm(?:$|\.))")};
  const std::string l = lower(name);
  for (const auto& p : kPatterns) {
    if (std::regex_search(l, p)) return true;
  }
  return false;
}

int64_t parameter_depth(const std::string& name, int64_t num_layers) {
  if (is_embedding_parameter(name)) return 0;
  const int64_t layer = encoder_layer_index(name);
  if (layer >= 0) return layer + 1;
  return num_layers + 1;
}

std::vector<ParamGroup> build_param_groups(const NamedParameters& named,
                                           const ParamGroupOptions& options) {
  if (!(options.learning_rate > 0)) fail("optimizer", "learning_rate must be > 0");
  if (!(options.layerwise_lr_decay > 0 && options.layerwise_lr_decay <= 1)) {
    fail("optimizer", "layerwise_lr_decay must be in (0, 1]");
  }
  const bool layerwise = options.layerwise_lr_decay < 1.0;
  std::vector<ParamGroup> groups;
  std::map<std::string, size_t> index;
  for (const auto& [name, param] : named) {
    if (!param.requires_grad()) continue;
    const bool decay = options.weight_decay > 0 && !excluded_from_weight_decay(name);
    std::string key = decay ? "decay" : "no_decay";
    double lr = options.learning_rate;
    if (layerwise) {
      const int64_t depth = parameter_depth(name, options.num_layers);
      if (depth > options.num_layers + 1) {
        fail("optimizer", "parameter " + name + " is in encoder layer " +
                              std::to_string(depth - 1) + " but the model has " +
                              std::to_string(options.num_layers) + " layers");
      }
      key += "/depth" + std::to_string(depth);
      lr = options.learning_rate * std::pow(options.layerwise_lr_decay,
                                            static_cast<double>(options.num_layers + 1 - depth));
    }
    auto it = index.find(key);
    if (it == index.end()) {
      ParamGroup g;
      g.name = key;
      g.initial_lr = lr;
      g.lr = lr;
      g.weight_decay = decay ? options.weight_decay : 0.0;
      index[key] = groups.size();
      groups.push_back(std::move(g));
      it = index.find(key);
    }
    groups[it->second].param_names.push_back(name);
    groups[it->second].params.push_back(param);
  }
  return groups;
}

std::vector<std::string> freeze_parameters(const NamedParameters& named,
                                           const FreezeOptions& options) {
  std::vector<std::string> frozen;
  for (const auto& [name, param] : named) {
    const int64_t layer = encoder_layer_index(name);
    const bool freeze = (options.embeddings && is_embedding_parameter(name)) ||
                        (layer >= 0 && layer < options.layers);
    if (freeze) {
      param.requires_grad_(false);
      frozen.push_back(name);
    }
  }
  return frozen;
}

// ------------------------------------------------------------------------------ AdamW

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : groups_(std::move(groups)), options_(options) {
  if (!(options_.beta1 >= 0 && options_.beta1 < 1) ||
      !(options_.beta2 >= 0 && options_.beta2 < 1)) {
    fail("AdamW", "betas must be in [0, 1)");
  }
  if (!(options_.eps >= 0)) fail("AdamW", "eps must be >= 0");
  for (const auto& g : groups_) {
    if (g.params.size() != g.param_names.size()) {
      fail("AdamW", "group " + g.name + ": params and param_names differ in length");
    }
  }
  state_.resize(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) state_[g].resize(groups_[g].params.size());
}

AdamW::ParamState& AdamW::state_for(size_t g, size_t i) {
  ParamState& s = state_[g][i];
  if (!s.step.defined()) {
    const at::Tensor& p = groups_[g].params[i];
    s.step = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(p.device()));
    s.exp_avg = torch::zeros_like(p, at::MemoryFormat::Preserve);
    s.exp_avg_sq = torch::zeros_like(p, at::MemoryFormat::Preserve);
  }
  return s;
}

void AdamW::step(const std::optional<at::Tensor>& grad_scale,
                 const std::optional<at::Tensor>& found_inf) {
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (options_.fused) {
      step_group_fused(g, grad_scale, found_inf);
    } else {
      if (grad_scale || found_inf) {
        fail("AdamW", "gradient scaling needs the fused implementation");
      }
      step_group_single(g);
    }
  }
}

void AdamW::step_group_fused(size_t g, const std::optional<at::Tensor>& grad_scale,
                             const std::optional<at::Tensor>& found_inf) {
  ParamGroup& group = groups_[g];
  std::vector<size_t> with_grad;
  std::vector<at::Tensor> params;
  for (size_t i = 0; i < group.params.size(); ++i) {
    if (group.params[i].grad().defined()) {
      with_grad.push_back(i);
      params.push_back(group.params[i]);
    }
  }
  for (const auto& bucket : group_by_device_dtype(params)) {
    std::vector<at::Tensor> p, grads, exp_avgs, exp_avg_sqs, steps;
    for (size_t b : bucket) {
      const size_t i = with_grad[b];
      ParamState& s = state_for(g, i);
      p.push_back(group.params[i]);
      grads.push_back(group.params[i].grad());
      exp_avgs.push_back(s.exp_avg);
      exp_avg_sqs.push_back(s.exp_avg_sq);
      steps.push_back(s.step);
    }
    const auto device = p.front().device();
    std::optional<at::Tensor> scale, inf;
    if (grad_scale) scale = grad_scale->to(device);
    if (found_inf) inf = found_inf->to(device);
    // As torch.optim.adam._fused_adam: the step counts advance first, the kernel reads them.
    at::_foreach_add_(steps, 1);
    at::_fused_adamw_(p, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, group.lr,
                      options_.beta1, options_.beta2, group.weight_decay, options_.eps,
                      /*amsgrad=*/false, /*maximize=*/false, scale, inf);
    // The fused kernel updates the parameters in place without bumping their version counters
    // (torch 2.15, unlike _foreach_add_ or copy_); bump them, so that what keys on a weight's
    // version (model::PackedLinear's packed copy for evaluation) sees the change.
    for (const at::Tensor& t : p) {
      if (!t.is_inference()) torch::autograd::impl::bump_version(t);
    }
    if (inf) at::_foreach_sub_(steps, std::vector<at::Tensor>(steps.size(), *inf));
  }
}

void AdamW::step_group_single(size_t g) {
  // torch.optim.adam._single_tensor_adam with decoupled_weight_decay, op for op.
  ParamGroup& group = groups_[g];
  const double lr = group.lr, wd = group.weight_decay;
  const double beta1 = options_.beta1, beta2 = options_.beta2, eps = options_.eps;
  for (size_t i = 0; i < group.params.size(); ++i) {
    at::Tensor param = group.params[i];
    const at::Tensor grad = param.grad();
    if (!grad.defined()) continue;
    ParamState& s = state_for(g, i);
    s.step.add_(1);
    if (wd != 0) param.mul_(1 - lr * wd);
    s.exp_avg.lerp_(grad, 1 - beta1);
    s.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    const double step = s.step.item<double>();
    const double bias_correction1 = 1 - std::pow(beta1, step);
    const double bias_correction2 = 1 - std::pow(beta2, step);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);
    const at::Tensor denom = (s.exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps);
    param.addcdiv_(s.exp_avg, denom, -step_size);
  }
}

void AdamW::zero_grad() {
  for (auto& g : groups_) {
    for (auto& p : g.params) {
      if (p.grad().defined()) p.mutable_grad().reset();
    }
  }
}

NamedParameters AdamW::state() const {
  NamedParameters out;
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const ParamState& s = state_[g][i];
      if (!s.step.defined()) continue;
      const std::string& name = groups_[g].param_names[i];
      out.emplace_back(name + "/step", s.step);
      out.emplace_back(name + "/exp_avg", s.exp_avg);
      out.emplace_back(name + "/exp_avg_sq", s.exp_avg_sq);
    }
  }
  return out;
}

void AdamW::load_state(const NamedParameters& state) {
  std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
  size_t used = 0;
  torch::NoGradGuard no_grad;
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t i = 0; i < groups_[g].params.size(); ++i) {
      const std::string& name = groups_[g].param_names[i];
      const auto step = by_name.find(name + "/step");
      if (step == by_name.end()) continue;
      const auto m = by_name.find(name + "/exp_avg");
      const auto v = by_name.find(name + "/exp_avg_sq");
      if (m == by_name.end() || v == by_name.end()) {
        fail("optimizer state", "incomplete state for parameter " + name);
      }
      const at::Tensor& p = groups_[g].params[i];
      if (!m->second.sizes().equals(p.sizes()) || !v->second.sizes().equals(p.sizes())) {
        fail("optimizer state", "shape mismatch for parameter " + name);
      }
      ParamState& s = state_for(g, i);
      s.step.copy_(step->second);
      s.exp_avg.copy_(m->second);
      s.exp_avg_sq.copy_(v->second);
      used += 3;
    }
  }
  if (used != state.size()) {
    fail("optimizer state", std::to_string(state.size() - used) +
                                " tensors name no trainable parameter of this model");
  }
}

// ------------------------------------------------------------------------------ clipping

at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return torch::zeros({});
  // torch.nn.utils.clip_grad._get_total_norm: per (device, dtype) foreach norms, then the norm
  // of the stacked norms on the first device.
  const auto buckets = group_by_device_dtype(grads);
  const auto first_device = grads.front().device();
  std::vector<at::Tensor> norms;
  for (const auto& bucket : buckets) {
    std::vector<at::Tensor> g;
    for (size_t i : bucket) g.push_back(grads[i]);
    for (auto& n : at::_foreach_norm(g, 2.0)) norms.push_back(n.to(first_device));
  }
  const at::Tensor total = at::linalg_vector_norm(torch::stack(norms), 2.0);
  // _clip_grads_with_norm_: max_norm / (total + 1e-6) is Tensor.__rtruediv__, i.e.
  // reciprocal() * max_norm; clamp to 1; multiply every gradient.
  const at::Tensor coef = torch::clamp((total + 1e-6).reciprocal() * max_norm, std::nullopt, 1.0);
  for (const auto& bucket : buckets) {
    std::vector<at::Tensor> g;
    for (size_t i : bucket) g.push_back(grads[i]);
    at::_foreach_mul_(g, coef.to(g.front().device()));
  }
  return total;
}

}  // namespace clintorch::train
