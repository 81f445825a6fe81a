#include "train/trainer.h"

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "data/model_batch.h"
#include "eval/task_eval.h"
#include "io/durable.h"
#include "io/safetensors.h"
#include "model/autocast.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/metrics_log.h"
#include "train/optim.h"
#include "train/progress.h"
#include "train/recipe_check.h"
#include "train/schedule.h"
#include "train/setup.h"
#include "train/tensorboard.h"
#include "train/trainer_impl.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::train::detail {

namespace fs = std::filesystem;

// ------------------------------------------------------------------------------------- signals

std::atomic<int> g_signal{0};  // declared in trainer_impl.h

extern "C" void on_stop_signal(int sig) {
  if (g_signal.load() != 0) {
    // A second signal aborts at once.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal.store(sig);
}

class SignalGuard {
 public:
  explicit SignalGuard(bool install) : installed_(install) {
    g_signal.store(0);
    if (!installed_) return;
    old_int_ = std::signal(SIGINT, on_stop_signal);
    old_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~SignalGuard() {
    if (!installed_) return;
    std::signal(SIGINT, old_int_);
    std::signal(SIGTERM, old_term_);
  }
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  bool installed_;
  void (*old_int_)(int) = SIG_DFL;
  void (*old_term_)(int) = SIG_DFL;
};

// ------------------------------------------------------------------------------- grad scaler

// ---------------------------------------------------------------------------------- helpers

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string strip_eval_prefix(const std::string& metric) {
  return metric.rfind("eval_", 0) == 0 ? metric.substr(5) : metric;
}

// Deletes what an earlier run left in output_dir under the names a run writes.
void clear_previous_run(const std::string& out) {
  std::error_code ec;
  if (!fs::is_directory(out, ec)) return;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("checkpoint-", 0) == 0 || name.rfind(".checkpoint-", 0) == 0 ||
        name == "export" || name == ".export.tmp" || name == ".export.deleted.tmp" ||
        name == "metrics.jsonl" || name == "trainer_state.json" || name == "runs") {
      fs::remove_all(entry.path(), ec);
    }
  }
}

// ------------------------------------------------------------------------------------ trainer

std::optional<LoadedCheckpoint> Trainer::read_resume_checkpoint() const {
  const std::string& resume = r_.training.resume_from_checkpoint;
  if (resume.empty()) return std::nullopt;
  if (resume == "last") {
    const auto all = list_checkpoints(r_.output.output_dir);
    if (all.empty()) {
      fail(r_.where("training.resume_from_checkpoint"),
           "training.resume_from_checkpoint: last, but " + r_.output.output_dir +
               " holds no checkpoint-N folder",
           "start without resume_from_checkpoint, or name a checkpoint folder");
    }
    // The newest complete one: a damaged or half-written checkpoint is skipped, with a warning.
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      const auto problem = io::verify_manifest(*it);
      if (!problem) return read_checkpoint(*it, /*verified=*/true);
      log_warning("skipping " + *it + ": " + *problem);
    }
    fail(r_.where("training.resume_from_checkpoint"),
         "training.resume_from_checkpoint: last, but no checkpoint in " + r_.output.output_dir +
             " is complete (each was skipped above)",
         "start anew, or restore a checkpoint folder from a backup");
  }
  return read_checkpoint(resume);
}

void Trainer::prepare() {
  // Rank 0 logs; the others print only errors (their warnings would repeat rank 0's).
  set_log_level(main_ ? r_.logging.log_level : std::max(r_.logging.log_level, LogLevel::kError));
  // 1. Everything that can fail on the input, before anything is written.
  check_ = check_recipe_files(r_);
  check_output_dir(r_);
  device_ = resolve_device(r_);
  if (pg_ && device_.is_cuda()) {  // one GPU per process of a node
    device_ =
        c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(pg_->env().local_rank));
  }
  if (r_.training.fp16 && device_.type() != c10::DeviceType::CUDA) {
    fail(r_.where("training.fp16"), "training.fp16 needs CUDA, but training runs on the CPU",
         "use training.bf16 on the CPU");
  }
  if (r_.training.bf16 && device_.is_cpu() && !model::cpu_has_native_bf16()) {
    log_warning(r_.where("training.bf16") +
                ": this CPU has no bf16 matmul instructions (neither AVX512-BF16 nor AMX), so "
                "bf16 autocast runs many times slower than fp32 here (transformers' too); "
                "leave training.bf16 off on this machine");
  }
  if (r_.training.threads > 0) {
    at::set_num_threads(static_cast<int>(r_.training.threads));
  } else if (pg_) {
    at::set_num_threads(default_threads_per_rank(pg_->env()));
  }
  if (r_.training.deterministic) {
    if (device_.is_cuda()) setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
    at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  }
  setup_ = setup_run(r_, check_);
  // Read now: a broken checkpoint must fail before anything is written.
  const std::optional<LoadedCheckpoint> resume = read_resume_checkpoint();
  for (const auto& name : setup_.load_report.missing) {
    log_info("newly initialised (not in the checkpoint): " + name);
  }
  autocast_ = r_.training.bf16 || r_.training.fp16;
  autocast_dtype_ = r_.training.fp16 ? c10::ScalarType::Half : c10::ScalarType::BFloat16;

  data::BatchOptions batch;
  batch.batch_size = static_cast<size_t>(r_.training.per_device_train_batch_size);
  batch.max_tokens = static_cast<size_t>(r_.data.max_tokens);
  batch.shuffle = true;
  batch.group_by_length = r_.data.group_by_length;
  batch.seed = static_cast<uint64_t>(r_.training.seed);
  loader_ = std::make_unique<data::DataLoader>(setup_.train, batch);

  metric_name_ = strip_eval_prefix(r_.evaluation.metric_for_best_model.empty()
                                       ? std::string("loss")
                                       : r_.evaluation.metric_for_best_model);
  greater_is_better_ = r_.evaluation.greater_is_better.value_or(!ends_with(metric_name_, "loss"));

  // 2. Writing starts here, by rank 0, once every rank has checked its input.
  barrier("the checks before training");
  if (main_) open_outputs(resume.has_value());

  setup_.model->to(device_);
  build_optimizer();
  if (pg_) setup_data_parallel();
  const int64_t batches = static_cast<int64_t>(loader_->num_batches(0));
  state_.max_steps =
      total_training_steps(r_.training.max_steps, r_.training.num_train_epochs, batches,
                           r_.training.gradient_accumulation_steps * world_);
  ScheduleOptions schedule;
  schedule.type = r_.training.lr_scheduler_type;
  schedule.total_steps = state_.max_steps;
  schedule.warmup_steps =
      resolve_warmup_steps(r_.training.warmup_steps, r_.training.warmup_ratio, state_.max_steps);
  scheduler_ = std::make_unique<LrScheduler>(*optimizer_, schedule);
  if (r_.training.fp16) scaler_.init(device_);
  state_.metric_for_best_model = "eval_" + metric_name_;
  if (resume) this->resume(*resume);  // the checkpoint read above, not read again
}

void Trainer::open_outputs(bool resuming) {
  if (r_.output.overwrite_output_dir && !resuming) clear_previous_run(r_.output.output_dir);
  fs::create_directories(r_.output.output_dir);
  remove_partial_checkpoints(r_.output.output_dir);  // of a run killed while writing one
  write_file_atomic((fs::path(r_.output.output_dir) / "recipe.yaml").string(), dump_recipe(r_));
  metrics_ =
      std::make_unique<MetricsLog>((fs::path(r_.output.output_dir) / "metrics.jsonl").string());
  if (r_.logging.tensorboard) {
    const std::string dir = r_.logging.logging_dir.empty()
                                ? (fs::path(r_.output.output_dir) / "runs").string()
                                : r_.logging.logging_dir;
    tensorboard_ = std::make_unique<TensorBoardWriter>(dir);
  }
}

void Trainer::build_optimizer() {
  NamedParameters named;
  for (const auto& item : setup_.model->named_parameters(/*recurse=*/true)) {
    named.emplace_back(item.key(), item.value());
    params_.push_back(item.value());
    param_names_.push_back(item.key());
  }
  FreezeOptions freeze;
  freeze.embeddings = r_.training.freeze_embeddings;
  freeze.layers = r_.training.freeze_layers;
  const auto frozen = freeze_parameters(named, freeze);
  if (!frozen.empty()) log_info("frozen parameters: " + std::to_string(frozen.size()));
  ParamGroupOptions groups;
  groups.learning_rate = r_.training.learning_rate;
  groups.weight_decay = r_.training.weight_decay;
  groups.layerwise_lr_decay = r_.training.layerwise_lr_decay;
  groups.num_layers = setup_.model->config().num_hidden_layers;
  AdamWOptions adam;
  adam.beta1 = r_.training.adam_beta1;
  adam.beta2 = r_.training.adam_beta2;
  adam.eps = r_.training.adam_epsilon;
  optimizer_ = std::make_unique<AdamW>(build_param_groups(named, groups), adam);
}

void Trainer::resume(const LoadedCheckpoint& ckpt) {
  const std::string& dir = ckpt.dir;
  if (ckpt.state.max_steps != state_.max_steps) {
    log_warning("the checkpoint's run had " + std::to_string(ckpt.state.max_steps) +
                " steps, this recipe gives " + std::to_string(state_.max_steps) +
                ": the schedule follows the recipe");
  }
  setup_.model->load_weights(dir, /*strict=*/true);
  NamedTensorList adam, scaler;
  for (auto& [k, t] : ckpt.optimizer) {
    if (k.rfind("scaler/", 0) == 0) {
      scaler.emplace_back(k, t);
    } else {
      adam.emplace_back(k, t.to(device_));
    }
  }
  optimizer_->load_state(adam);
  if (scaler_.enabled) scaler_.load(scaler);
  const int64_t max_steps = state_.max_steps;
  const std::string metric = state_.metric_for_best_model;
  state_ = ckpt.state;
  state_.max_steps = max_steps;
  state_.metric_for_best_model = metric;
  scheduler_->set_step(state_.scheduler_step);
  set_rng_states(ckpt.rng);
  last_saved_step_ = state_.global_step;
  last_checkpoint_ = dir;
  log_info("resumed from " + dir + " at step " + std::to_string(state_.global_step) + " (epoch " +
           std::to_string(state_.data_epoch) + ", batch " + std::to_string(state_.data_batch) +
           ")");
}

std::map<std::string, double> Trainer::evaluate(const data::Dataset& dataset) {
  eval::TaskEvalOptions o = task_eval_options(r_, setup_.model->head().labels());
  o.device = device_;
  shard_evaluation(o);
  return eval::evaluate_task(setup_.model, dataset, o).scalars;
}

void Trainer::log_record(const std::string& split,
                         const std::vector<std::pair<std::string, double>>& values) {
  if (metrics_) metrics_->log(state_.global_step, state_.epoch, split, values);
  nlohmann::json rec = nlohmann::json::object();
  for (const auto& [k, v] : values)
    rec[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  rec["epoch"] = state_.epoch;
  rec["step"] = state_.global_step;
  state_.log_history.push_back(rec);
  if (tensorboard_) {
    std::vector<std::pair<std::string, double>> tb;
    for (const auto& [k, v] : values) {
      std::string tag = k;
      const std::string prefix = split + "_";
      if (tag.rfind(prefix, 0) == 0) tag = tag.substr(prefix.size());
      tb.emplace_back(split + "/" + tag, v);
    }
    tensorboard_->add_scalars(tb, state_.global_step);
    tensorboard_->flush();
  }
}

void Trainer::log_train() {
  if (window_steps_ == 0) return;
  const double elapsed = seconds_since(window_start_);
  const double loss = window_loss_ / static_cast<double>(window_steps_);
  const double tps = elapsed > 0 ? static_cast<double>(window_tokens_) / elapsed : 0.0;
  std::vector<std::pair<std::string, double>> values{{"loss", loss},
                                                     {"learning_rate", last_lr_},
                                                     {"grad_norm", last_grad_norm_},
                                                     {"tokens_per_second", tps}};
  if (r_.training.nan_policy == NanPolicy::kSkip) {
    values.emplace_back("nonfinite_skipped", static_cast<double>(state_.nonfinite_skipped));
  }
  log_record("train", values);
  if (!progress_->enabled()) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "step %lld/%lld  epoch %.2f  loss %.4f  lr %.3g  grad_norm %.3f  %.0f tok/s",
                  static_cast<long long>(state_.global_step),
                  static_cast<long long>(state_.max_steps), state_.epoch, loss, last_lr_,
                  last_grad_norm_, tps);
    log_info(line);
  }
  window_loss_ = 0.0;
  window_steps_ = 0;
  window_tokens_ = 0;
  window_start_ = std::chrono::steady_clock::now();
}

void Trainer::log_metrics(const std::string& split, const std::string& title,
                          const std::map<std::string, double>& scalars) {
  std::vector<std::pair<std::string, double>> values;
  std::string line = title + ":";
  for (const auto& [k, v] : scalars) {
    values.emplace_back(split + "_" + k, v);
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s %.4f", k.c_str(), v);
    line += buf;
  }
  log_record(split, values);
  log_info(line);
}

void Trainer::evaluate_and_track(bool* stop, bool track) {
  if (!setup_.validation) return;
  progress_->clear();
  const auto scalars = evaluate(*setup_.validation);
  last_eval_ = scalars;
  log_metrics("eval", "eval at step " + std::to_string(state_.global_step), scalars);
  if (!track) return;
  const double value = eval::metric_value(scalars, metric_name_);
  const double threshold = r_.evaluation.early_stopping_threshold;
  bool improved = !state_.best_metric && std::isfinite(value);
  if (state_.best_metric && !std::isfinite(value)) {  // never the best; counts as no improvement
    ++state_.evals_without_improvement;
  } else if (state_.best_metric) {
    const double best = *state_.best_metric;
    improved = greater_is_better_ ? value > best : value < best;
    // Early stopping counts an improvement only beyond the threshold (HF EarlyStoppingCallback).
    const bool counts = improved && std::fabs(value - best) > threshold;
    state_.evals_without_improvement = counts ? 0 : state_.evals_without_improvement + 1;
  }
  if (improved) {
    state_.best_metric = value;
    // The checkpoint of this step (written now or by the save that follows).
    state_.best_model_checkpoint =
        (fs::path(r_.output.output_dir) / ("checkpoint-" + std::to_string(state_.global_step)))
            .string();
    if (r_.evaluation.save_strategy == Strategy::kBest) save_checkpoint();
  }
  if (r_.evaluation.early_stopping_patience > 0 &&
      state_.evals_without_improvement >= r_.evaluation.early_stopping_patience) {
    log_info("early stopping: " + std::to_string(state_.evals_without_improvement) +
             " evaluations without improvement of eval_" + metric_name_);
    *stop = true;
  }
}

void Trainer::write_model_dir(const std::string& dir) const {
  setup_.model->save_pretrained(dir, "");
  write_tokenizer_files(dir, r_, setup_);
}

std::string Trainer::save_checkpoint() {
  if (last_saved_step_ == state_.global_step) return last_checkpoint_;
  if (!main_) {  // rank 0 writes it; the others wait until it is complete
    barrier("checkpoint-" + std::to_string(state_.global_step));
    last_checkpoint_ =
        (fs::path(r_.output.output_dir) / ("checkpoint-" + std::to_string(state_.global_step)))
            .string();
    last_saved_step_ = state_.global_step;
    return last_checkpoint_;
  }
  progress_->clear();
  for (size_t i = 0; i < params_.size(); ++i) {  // a checkpoint never holds NaN or Inf weights
    if (!torch::isfinite(params_[i]).all().item<bool>()) {
      fail(r_.output.output_dir,
           "checkpoint-" + std::to_string(state_.global_step) +
               " is not written: " + param_names_[i] + " holds non-finite values",
           "the run diverged; the earlier checkpoints hold finite weights");
    }
  }
  CheckpointWriteInput in;
  in.write_model = [this](const std::string& dir) { write_model_dir(dir); };
  in.optimizer = optimizer_->state();
  for (auto& t : scaler_.state()) in.optimizer.push_back(t);
  in.state = state_;
  in.recipe_yaml = dump_recipe(r_);
  last_checkpoint_ = write_checkpoint(r_.output.output_dir, in);
  last_saved_step_ = state_.global_step;
  // A best checkpoint that was never written (save_strategy steps off the eval step) is none.
  const auto deleted = rotate_checkpoints(r_.output.output_dir, r_.evaluation.save_total_limit,
                                          state_.best_model_checkpoint);
  for (const auto& d : deleted) log_debug("deleted old checkpoint " + d);
  log_info("saved " + last_checkpoint_);
  barrier("checkpoint-" + std::to_string(state_.global_step));
  return last_checkpoint_;
}

void Trainer::write_export(TrainResult& result) {
  const fs::path out = fs::path(r_.output.output_dir) / "export";
  const fs::path tmp = fs::path(r_.output.output_dir) / ".export.tmp";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  try {
    write_model_dir(tmp.string());
    io::seal_folder(tmp.string());  // synced, with a manifest, before it gets its name
  } catch (const Error& e) {
    fs::remove_all(tmp, ec);
    fail(out.string(), std::string("is not written: ") + e.what(),
         "the checkpoints are intact; free disk space and run `clintorch export` on one of them");
  }
  // The previous export is set aside, not deleted, until the new one has its name.
  io::replace_folder(tmp.string(), out.string());
  result.export_dir = out.string();
  log_info("exported the " +
           std::string(r_.evaluation.load_best_model_at_end && !state_.best_model_checkpoint.empty()
                           ? "best"
                           : "final") +
           " model to " + out.string());
}

// The run in phases: start (checks, set-up, resume), the step loop, then the end of an
// interrupted run (checkpoint, exit code) or of a finished one (best model, export, test).
TrainResult Trainer::run() {
  start();
  SignalGuard signals(options_.handle_signals);
  setup_.model->train();
  bool stop = false;
  if (r_.evaluation.eval_on_start && state_.global_step == 0 && setup_.validation) {
    evaluate_and_track(&stop, /*track=*/false);
    setup_.model->train();
  }
  int stop_signal = 0;
  bool stop_hook = false;
  int64_t epoch = state_.data_epoch;
  int64_t index = state_.data_batch;
  // Micro-batches per optimizer step, over all ranks.
  const int64_t gas = r_.training.gradient_accumulation_steps * world_;
  while (state_.global_step < state_.max_steps && !stop) {
    const int64_t batches =
        static_cast<int64_t>(loader_->num_batches(static_cast<uint64_t>(epoch)));
    if (index >= batches) {
      ++epoch;
      index = 0;
      continue;
    }
    const int64_t count = std::min(gas, batches - index);
    train_step(epoch, index, count);
    index += count;
    const bool epoch_end = index >= batches;
    state_.epoch =
        static_cast<double>(epoch) + static_cast<double>(index) / static_cast<double>(batches);
    state_.data_epoch = epoch_end ? epoch + 1 : epoch;
    state_.data_batch = epoch_end ? 0 : index;
    after_step(epoch_end, &stop);
    const int64_t step = state_.global_step;
    const int signal = pg_ ? step_signal_ : g_signal.load();
    if (signal != 0) {
      stop_signal = signal;
      stop = true;
    } else if (options_.stop_after_steps > 0 && step >= options_.stop_after_steps &&
               step < state_.max_steps) {
      stop_hook = true;
      stop = true;
    }
  }
  if (window_steps_ > 0 && (stop_signal != 0 || stop_hook)) log_train();
  progress_->finish();
  if (!options_.dump_weights_dir.empty()) {
    fs::create_directories(options_.dump_weights_dir);
    io::NamedTensors weights;
    for (const auto& item : setup_.model->named_parameters()) {
      weights.emplace_back(item.key(), item.value().detach().to(torch::kCPU).contiguous());
    }
    io::write_safetensors(
        (fs::path(options_.dump_weights_dir) / ("rank" + std::to_string(rank_) + ".safetensors"))
            .string(),
        weights);
  }
  TrainResult result;
  result.global_step = state_.global_step;
  result.eval = last_eval_;
  if (stop_signal != 0 || stop_hook) {
    finish_interrupted(result, stop_signal);
  } else {
    finish(result);
  }
  return result;
}

void Trainer::start() {
  const char* env_dump = std::getenv("CLINTORCH_DUMP_BATCHES");
  if (options_.dump_batches_dir.empty() && env_dump != nullptr) {
    options_.dump_batches_dir = env_dump;
  }
  if (!options_.dump_batches_dir.empty()) fs::create_directories(options_.dump_batches_dir);
  prepare();
  ProgressOptions po;
  po.mode = main_ ? r_.logging.progress_bar : ProgressMode::kNever;
  po.total_steps = state_.max_steps;
  progress_ = std::make_unique<ProgressBar>(po);
  log_info("training " + data::task_name(r_.task_id()) + " on " + device_.str() + ": " +
           std::to_string(state_.max_steps) + " optimizer steps, " +
           std::to_string(loader_->num_batches(0)) + " batches per epoch, " +
           std::to_string(setup_.train->size()) + " training features");
  run_start_ = window_start_ = std::chrono::steady_clock::now();
  run_start_step_ = state_.global_step;
}

void Trainer::after_step(bool epoch_end, bool* stop) {
  const int64_t step = state_.global_step;
  const double elapsed = seconds_since(run_start_);
  const double sps = elapsed > 0 ? static_cast<double>(step - run_start_step_) / elapsed : 0;
  const double window_seconds = seconds_since(window_start_);
  progress_->update(step, last_loss_, last_lr_,
                    window_seconds > 0 ? static_cast<double>(window_tokens_) / window_seconds : 0,
                    elapsed, sps);
  if (step % r_.logging.logging_steps == 0 || (step == 1 && r_.logging.logging_first_step)) {
    log_train();
  }
  const Strategy eval_strategy = r_.evaluation.eval_strategy;
  const int64_t eval_every =
      r_.evaluation.eval_steps > 0 ? r_.evaluation.eval_steps : r_.logging.logging_steps;
  if ((eval_strategy == Strategy::kSteps && step % eval_every == 0) ||
      (eval_strategy == Strategy::kEpoch && epoch_end)) {
    evaluate_and_track(stop);
    setup_.model->train();
  }
  const Strategy save_strategy = r_.evaluation.save_strategy;
  if ((save_strategy == Strategy::kSteps && step % r_.evaluation.save_steps == 0) ||
      (save_strategy == Strategy::kEpoch && epoch_end)) {
    save_checkpoint();
  }
}

void Trainer::finish_interrupted(TrainResult& result, int stop_signal) {
  result.last_checkpoint = save_checkpoint();
  result.interrupted = true;
  if (stop_signal != 0) {
    result.exit_code = 128 + stop_signal;
    if (!main_) return;
    log_warning(std::string("interrupted by ") + (stop_signal == SIGINT ? "SIGINT" : "SIGTERM") +
                " after step " + std::to_string(state_.global_step) + "; checkpoint " +
                result.last_checkpoint +
                " written; resume with --set "
                "training.resume_from_checkpoint=last; exit code " +
                std::to_string(result.exit_code));
  } else {
    log_info("stopped after step " + std::to_string(state_.global_step) +
             " (--stop-after-steps); checkpoint " + result.last_checkpoint);
  }
}

void Trainer::finish(TrainResult& result) {
  // All steps done, or early stopping.
  if (window_steps_ > 0) log_train();
  const Strategy save_strategy = r_.evaluation.save_strategy;
  if (save_strategy == Strategy::kSteps || save_strategy == Strategy::kEpoch) {
    result.last_checkpoint = save_checkpoint();
  }
  if (r_.evaluation.load_best_model_at_end && !state_.best_model_checkpoint.empty() &&
      fs::exists(state_.best_model_checkpoint)) {
    setup_.model->load_weights(state_.best_model_checkpoint, /*strict=*/true);
    log_info("loaded the best model (eval_" + metric_name_ + " " +
             std::to_string(state_.best_metric.value_or(NAN)) + ") from " +
             state_.best_model_checkpoint);
  }
  if (r_.output.export_model && main_) write_export(result);
  if (setup_.test) {
    const auto scalars = evaluate(*setup_.test);
    result.test = scalars;
    log_metrics("test", "test", scalars);
  }
  if (main_) {
    write_file_atomic((fs::path(r_.output.output_dir) / "trainer_state.json").string(),
                      state_.to_json().dump(2) + "\n");
  }
  barrier("the end of training");
  log_info("training done: " + std::to_string(state_.global_step) + " steps in " +
           format_duration(seconds_since(run_start_)));
}

}  // namespace clintorch::train::detail

namespace clintorch::train {

TrainResult run_training(const Recipe& recipe, const TrainOptions& options) {
  detail::Trainer trainer(recipe, options);
  return trainer.run();
}

}  // namespace clintorch::train
