// One optimizer step of the Trainer (trainer_impl.h): this rank's micro-batches, their forward
// and backward passes, the data-parallel reduction and what a non-finite step does.
#include <torch/torch.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "data/model_batch.h"
#include "io/safetensors.h"
#include "model/autocast.h"
#include "train/trainer_impl.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::train::detail {

namespace fs = std::filesystem;

namespace {

void dump_batch(const std::string& dir, int64_t step, int64_t micro, const data::Batch& b) {
  io::NamedTensors t;
  for (const auto& [k, v] : data::to_model_batch(b)) t.emplace_back(k, v);
  io::write_safetensors((fs::path(dir) / ("step" + std::to_string(step) + "_micro" +
                                          std::to_string(micro) + ".safetensors"))
                            .string(),
                        t);
}

}  // namespace

// A splitmix64 mix of the three, so each micro-batch draws its dropout masks from its own
// stream, whichever process runs it.
uint64_t micro_batch_seed(uint64_t seed, uint64_t epoch, uint64_t index) {
  uint64_t z = seed ^ (epoch * 0x9e3779b97f4a7c15ULL) ^ (index * 0xbf58476d1ce4e5b9ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int64_t Trainer::load_micro_batches(int64_t epoch, int64_t index, int64_t count,
                                    std::vector<int64_t>& mine, std::vector<data::Batch>& batches) {
  // This rank's micro-batches of the step: every world_-th from its rank on.
  for (int64_t m = rank_; m < count; m += world_) mine.push_back(index + m);
  int64_t targets = 0;
  for (const int64_t i : mine) {
    batches.push_back(loader_->batch(static_cast<uint64_t>(epoch), static_cast<size_t>(i)));
    targets += batches.back().num_label_tokens;
    if (!options_.dump_batches_dir.empty()) {
      dump_batch(options_.dump_batches_dir, state_.global_step, i - index, batches.back());
    }
  }
  if (pg_) {  // the divisor counts the labelled targets of every rank's micro-batches
    std::vector<at::Tensor> t{torch::full({1}, static_cast<double>(targets), torch::kFloat64)};
    pg_->all_reduce_sum(t, "the target count of step " + std::to_string(state_.global_step + 1));
    targets = static_cast<int64_t>(t[0].item<double>());
  }
  return targets;
}

void Trainer::train_step(int64_t epoch, int64_t index, int64_t count) {
  std::vector<int64_t> mine;
  std::vector<data::Batch> batches;
  const int64_t targets = load_micro_batches(epoch, index, count, mine, batches);
  // The divisor of every micro-batch's summed loss: the step's labelled targets.
  const double divisor = targets > 0 ? static_cast<double>(targets) : 1.0;
  at::Tensor loss_sum = torch::zeros({}, torch::dtype(torch::kFloat64).device(device_));
  at::Tensor weight_sum = torch::zeros({}, torch::dtype(torch::kFloat64).device(device_));
  int64_t tokens = 0;
  for (size_t k = 0; k < batches.size(); ++k) {
    const data::Batch b = device_.is_cpu() ? batches[k] : batches[k].to(device_, true);
    tokens += b.num_tokens;
    torch::manual_seed(micro_batch_seed(static_cast<uint64_t>(r_.training.seed),
                                        static_cast<uint64_t>(epoch),
                                        static_cast<uint64_t>(mine[k])));
    model::HeadOutput out;
    {
      model::AutocastScope autocast(device_.type(), autocast_dtype_, autocast_);
      model::TaskForwardOptions fo;
      fo.unpad = true;
      out = setup_.model->forward(data::to_model_batch(b), fo);
    }
    if (!out.loss_sum.defined()) {
      fail(r_.where("data.train_file"), "the training batches carry no targets",
           "the training file must be labelled");
    }
    at::Tensor loss = out.loss_sum.to(torch::kFloat32) / divisor;
    if (scaler_.enabled) loss = loss * scaler_.scale;
    if (reducer_) {  // reduce during the backward pass of this rank's last micro-batch
      reducer_->arm(k + 1 == batches.size(),
                    "the gradients of step " + std::to_string(state_.global_step + 1));
    }
    loss.backward();
    loss_sum += out.loss_sum.detach().to(torch::kFloat64);
    weight_sum += out.loss_weight.detach().to(torch::kFloat64);
  }
  double loss_total = loss_sum.item<double>(), weight = weight_sum.item<double>();
  std::vector<at::Tensor> grads;
  for (const auto& p : params_) {
    if (!p.requires_grad()) continue;
    // A rank without micro-batches (the end of an epoch) adds zeros.
    if (pg_ && !p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (pg_) reduce_step(grads, &loss_total, &weight, &tokens, batches);
  window_tokens_ += tokens;
  state_.num_input_tokens_seen += tokens;
  const double step_loss = weight > 0 ? loss_total / weight : 0.0;
  // Heads whose loss weight is not the target count (class weights, CRF): rescale so that the
  // step's gradient is d(sum loss_sum / sum loss_weight).
  const double correction = weight > 0 ? divisor / weight : 1.0;
  if (scaler_.enabled) {
    scaler_.unscale(grads, 1.0 / correction);
  } else if (correction != 1.0 && !grads.empty()) {
    at::_foreach_mul_(grads, correction);
  }
  const double max_norm = r_.training.max_grad_norm > 0 ? r_.training.max_grad_norm : INFINITY;
  const at::Tensor norm = clip_grad_norm(params_, max_norm);
  last_grad_norm_ = norm.defined() ? norm.item<double>() : 0.0;
  const auto lrs = scheduler_->last_lr();
  last_lr_ = lrs.empty() ? 0.0 : lrs.front();
  bool stepped = true;
  // fp16 has its scaler (which skips such steps itself); otherwise the nan_policy decides.
  if (!scaler_.enabled && !(std::isfinite(step_loss) && std::isfinite(last_grad_norm_))) {
    stepped = false;
    on_nonfinite_step(step_loss);
  }
  if (!stepped) {
    // No update: the weights stay those of the last good step.
  } else if (scaler_.enabled) {
    stepped = scaler_.found_inf.item<float>() == 0.0f;
    if (stepped) optimizer_->step();
    scaler_.update();
  } else {
    optimizer_->step();
    state_.nonfinite_in_a_row = 0;
  }
  if (stepped) scheduler_->step();
  optimizer_->zero_grad();
  ++state_.global_step;
  state_.scheduler_step = scheduler_->current_step();
  last_loss_ = step_loss;
  window_loss_ += step_loss;
  ++window_steps_;
}

void Trainer::on_nonfinite_step(double loss) {
  const int64_t step = state_.global_step + 1;
  // The first parameter whose gradient is not finite (model order), for the diagnostic.
  std::string first = "none (the loss itself)";
  for (size_t i = 0; i < params_.size(); ++i) {
    const at::Tensor& g = params_[i].grad();
    if (g.defined() && !torch::isfinite(g).all().item<bool>()) {
      first = param_names_[i];
      break;
    }
  }
  char what[512];
  std::snprintf(what, sizeof what,
                "step %lld: the loss is %g and the gradient norm %g; first non-finite gradient: %s",
                static_cast<long long>(step), loss, last_grad_norm_, first.c_str());
  if (r_.training.nan_policy == NanPolicy::kStop) {
    fail(r_.where("training.nan_policy"), std::string(what) + " (the weights were not updated)",
         "lower training.learning_rate or lengthen the warmup (with bf16, try fp32), or set "
         "training.nan_policy: skip to skip such steps");
  }
  ++state_.nonfinite_skipped;
  ++state_.nonfinite_in_a_row;
  log_warning(std::string(what) + "; step skipped (" + std::to_string(state_.nonfinite_in_a_row) +
              " in a row, " + std::to_string(state_.nonfinite_skipped) + " in all)");
  if (state_.nonfinite_in_a_row >= r_.training.nan_skip_limit) {
    fail(r_.where("training.nan_skip_limit"),
         std::to_string(state_.nonfinite_in_a_row) +
             " steps in a row had a non-finite loss or gradient (training.nan_skip_limit " +
             std::to_string(r_.training.nan_skip_limit) + "); the run diverged",
         "lower training.learning_rate; the last checkpoint holds the last finite weights");
  }
}

void Trainer::reduce_step(std::vector<at::Tensor>& grads, double* loss_sum, double* weight_sum,
                          int64_t* tokens, const std::vector<data::Batch>& batches) {
  const std::string step = "step " + std::to_string(state_.global_step + 1);
  // The word embeddings' gradient is zero outside the rows of the step's tokens, on every rank:
  // only the union of those rows is summed (the matrix is most of a BERT's gradient bytes).
  std::optional<size_t> embedding;
  at::Tensor rows;
  if (word_embeddings_.defined() && word_embeddings_.grad().defined()) {
    for (size_t i = 0; i < grads.size(); ++i) {
      if (grads[i].is_same(word_embeddings_.grad())) embedding = i;
    }
  }
  if (embedding) {
    std::vector<at::Tensor> ids;
    for (const auto& b : batches) ids.push_back(b.input_ids.reshape({-1}));
    const at::Tensor local = ids.empty() ? torch::empty({0}, torch::kLong)
                                         : std::get<0>(at::_unique(torch::cat(ids), false));
    std::vector<at::Tensor> all;
    for (const auto& bytes :
         pg_->all_gather_bytes(pack_tensors({local}), "the tokens of " + step)) {
      all.push_back(unpack_tensors(bytes).at(0));
    }
    rows =
        std::get<0>(at::_unique(torch::cat(all), /*sorted=*/true)).to(grads[*embedding].device());
    grads[*embedding] = grads[*embedding].index_select(0, rows);
  }
  reducer_->finish();  // the other gradients, reduced while the backward pass ran
  if (embedding) {
    std::vector<at::Tensor> selected{grads[*embedding]};
    pg_->all_reduce_sum(selected, "the word-embedding gradient of " + step);
    word_embeddings_.grad().index_copy_(0, rows, selected[0]);
    grads[*embedding] = word_embeddings_.grad();
  }
  // The step's loss, loss weight and tokens, and whether a rank was asked to stop (SIGINT or
  // SIGTERM): all ranks stop after the same step.
  const int signal = g_signal.load();
  std::vector<at::Tensor> scalars{
      torch::tensor({*loss_sum, *weight_sum, static_cast<double>(*tokens), signal != 0 ? 1.0 : 0.0},
                    torch::kFloat64)};
  pg_->all_reduce_sum(scalars, "the loss of " + step);
  const double* v = scalars[0].const_data_ptr<double>();
  *loss_sum = v[0];
  *weight_sum = v[1];
  *tokens = static_cast<int64_t>(v[2]);
  step_signal_ = v[3] > 0 ? (signal != 0 ? signal : SIGTERM) : 0;
}

void Trainer::shard_evaluation(eval::TaskEvalOptions& o) const {
  if (!pg_) return;
  o.shard_rank = rank_;
  o.shard_count = world_;
  std::shared_ptr<ProcessGroup> pg = pg_;
  o.all_gather = [pg](const std::vector<at::Tensor>& mine) {
    std::vector<std::vector<at::Tensor>> out;
    for (const auto& bytes : pg->all_gather_bytes(pack_tensors(mine), "evaluation outputs")) {
      out.push_back(unpack_tensors(bytes));
    }
    return out;
  };
}

void Trainer::setup_data_parallel() {
  {  // every rank starts from rank 0's weights
    std::vector<at::Tensor> tensors;
    for (const auto& t : setup_.model->parameters()) tensors.push_back(t.detach());
    for (const auto& t : setup_.model->buffers()) tensors.push_back(t.detach());
    torch::NoGradGuard no_grad;
    pg_->broadcast(tensors, 0, "the initial weights");
    for (auto& t : tensors) torch::autograd::impl::bump_version(t);  // packed copies follow
  }
  // A head that multiplies by the embedding matrix (the tied MLM decoder) reaches every row.
  if (!setup_.model->info().uses_word_embeddings) {
    word_embeddings_ = setup_.model->bert->word_embeddings()->weight;
  }
  std::vector<at::Tensor> reduced;
  for (const auto& p : params_) {
    if (p.requires_grad() && !(word_embeddings_.defined() && p.is_same(word_embeddings_))) {
      reduced.push_back(p);
    }
  }
  reducer_ = std::make_unique<GradientReducer>(pg_, reduced);
}

}  // namespace clintorch::train::detail
