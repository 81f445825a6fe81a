#include "eval/task_eval.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "data/dataset.h"
#include "data/task_registry.h"
#include "eval/classification_metrics.h"
#include "eval/ner_metrics.h"
#include "eval/qa_metrics.h"
#include "eval/regression_metrics.h"
#include "eval/task_scoring.h"
#include "model/autocast.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::eval {

namespace {

// Restores the model's train/eval mode on scope exit (also when an error escapes).
class ModeGuard {
 public:
  explicit ModeGuard(model::TaskModel& m) : model_(m), was_training_(m->is_training()) {
    model_->eval();
  }
  ~ModeGuard() { model_->train(was_training_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  model::TaskModel& model_;
  bool was_training_;
};

c10::ScalarType autocast_dtype(const std::string& name) {
  if (name == "bf16" || name == "bfloat16") return c10::ScalarType::BFloat16;
  if (name == "fp16" || name == "float16") return c10::ScalarType::Half;
  fail(kWhere, "unknown autocast dtype '" + name + "'", "use \"\", bf16 or fp16");
}

// Checks that the dataset's labels are the head's (same names, same order).
void check_labels(const data::TaskDataset& d, const model::TaskModel& m) {
  const auto& head_labels = m->head().labels();
  if (d.labels.empty()) return;
  if (d.labels.labels() != head_labels) {
    const bool same_size = d.labels.size() == head_labels.size();
    fail(kWhere + std::string(" ") + d.path,
         "the dataset's " + std::to_string(d.labels.size()) + " labels " +
             (same_size ? "differ from" : "do not match") + " the model's " +
             std::to_string(head_labels.size()) + " labels (id2label)",
         "load the data with the model's labels (data::DataOptions::labels = the head's labels)");
  }
}

struct Accumulated {
  double loss_sum = 0.0;
  double loss_weight = 0.0;
  bool has_loss = false;
};

void add_loss(Accumulated& acc, const model::HeadOutput& out) {
  if (!out.loss_sum.defined() || !out.loss_weight.defined()) return;
  acc.loss_sum += out.loss_sum.detach().to(torch::kCPU, torch::kFloat64).item<double>();
  acc.loss_weight += out.loss_weight.detach().to(torch::kCPU, torch::kFloat64).item<double>();
  acc.has_loss = true;
}

}  // namespace

// Long on purpose: the evaluation loop (length-sorted batches, device transfer, autocast, loss
// accumulation, the task's scorer), one pass whose local state every step reads.
TaskEvalResult evaluate_task(model::TaskModel& model, const data::Dataset& dataset,
                             const TaskEvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  TaskEvalResult r;
  const model::HeadInfo info = model->info();
  const auto* td = dynamic_cast<const data::TaskDataset*>(&dataset);
  const bool mlm = info.metric_family == "mlm";
  if (mlm == (td != nullptr)) {
    fail(kWhere,
         mlm ? "the mlm head needs a text corpus (MlmCorpus), got a task dataset"
             : "the " + info.name + " head needs a task dataset, got a text corpus",
         "evaluate the model on data of its task");
  }
  if (td) {
    const std::string task = data::task_name(td->task);
    if (std::find(info.dataset_tasks.begin(), info.dataset_tasks.end(), task) ==
        info.dataset_tasks.end()) {
      fail(kWhere + std::string(" ") + td->path,
           "the dataset is for task " + task + " but the model's head is " + info.name,
           "evaluate with data of the head's task (" + join(info.dataset_tasks, ", ") + ")");
    }
    if (data::task_spec(td->task).data().label_map &&
        td->problem_type != data::ProblemType::kRegression) {
      check_labels(*td, model);
    }
    r.num_examples = td->num_examples();
  }
  r.num_features = dataset.size();
  if (o.batch_size == 0 && o.max_tokens == 0) {
    fail(kWhere, "batch_size is 0", "use a batch size of at least 1");
  }

  ModeGuard mode(model);
  torch::NoGradGuard no_grad;
  std::optional<model::AutocastScope> autocast;
  if (!o.autocast.empty()) autocast.emplace(o.device.type(), autocast_dtype(o.autocast));

  data::BatchOptions bo;
  bo.batch_size = o.batch_size;
  bo.max_tokens = o.max_tokens;
  bo.shuffle = false;
  // Task data in length order (results go back by feature index). MLM keeps its order (its
  // evaluation masks are drawn per batch), and so does QA, whose loss reads the padding
  // (HeadInfo::reads_padding) and so depends on the batches as transformers forms them.
  bo.sort_by_length = td != nullptr && !info.reads_padding;
  const std::vector<std::vector<size_t>> plan = data::plan_batches(dataset.lengths(), bo, 0);

  // The task's scorer collects what each batch gives (src/eval/tasks/<task>.cpp).
  const data::Task task = td ? td->task : data::parse_task(info.name);
  const std::unique_ptr<TaskScorer> scorer = task_eval_ops(task).make(dataset, model, o);
  const int64_t num_labels = model->head().num_labels();
  const bool labeled = td ? td->labeled : true;

  Accumulated acc;
  // One batch: collated on the CPU (label ids checked), on the device, prepared by the scorer.
  struct Prepared {
    data::Batch cpu;
    model::Batch batch;
  };
  auto prepare = [&](size_t bi) {
    Prepared p;
    p.cpu = dataset.collate(plan[bi], o.mlm_seed + bi);
    // Label ids outside the head: an Error, not a device-side assert.
    if (td && p.cpu.labels.defined() && p.cpu.labels.scalar_type() == torch::kLong &&
        num_labels > 0) {
      const at::Tensor valid = p.cpu.labels.ne(-100);
      if (valid.any().item<bool>()) {
        const int64_t mx = p.cpu.labels.masked_select(valid).max().item<int64_t>();
        if (mx >= num_labels) {
          fail(kWhere + std::string(" ") + td->path,
               "label id " + std::to_string(mx) + " is outside the head's " +
                   std::to_string(num_labels) + " labels",
               "load the data with the model's labels");
        }
      }
    }
    p.batch = to_model_batch(o.device.is_cpu() ? p.cpu : p.cpu.to(o.device));
    scorer->prepare(p.cpu, p.batch, o.device);
    return p;
  };
  auto forward = [&](const Prepared& p) {
    model::TaskForwardOptions fo;
    fo.compute_loss = labeled;
    fo.unpad = true;
    return model->forward(p.batch, fo);
  };
  auto score = [&](size_t bi, const Prepared& p, const model::HeadOutput& out) {
    if (labeled) add_loss(acc, out);
    scorer->add(plan[bi], p.cpu, p.batch, out);
  };

  const auto shards = static_cast<size_t>(std::max(1, o.shard_count));
  if (shards == 1) {
    for (size_t bi = 0; bi < plan.size(); ++bi) {
      if (plan[bi].empty()) continue;
      const Prepared p = prepare(bi);
      score(bi, p, forward(p));
      if (o.on_batch) o.on_batch(bi + 1, plan.size());
    }
  } else {
    // Rounds of `shards` batches: each process runs one, all score all of them in plan order.
    const auto rank = static_cast<size_t>(o.shard_rank);
    for (size_t round = 0; round < plan.size(); round += shards) {
      std::optional<Prepared> own;
      std::vector<at::Tensor> mine;
      if (round + rank < plan.size() && !plan[round + rank].empty()) {
        own = prepare(round + rank);
        const model::HeadOutput out = forward(*own);
        mine = {out.loss_sum,     out.loss_weight, out.logits,
                out.start_logits, out.end_logits,  out.positions};
      }
      const std::vector<std::vector<at::Tensor>> all = o.all_gather(mine);
      for (size_t r = 0; r < shards && round + r < plan.size(); ++r) {
        const size_t bi = round + r;
        if (plan[bi].empty() || all.at(r).size() != 6) continue;
        const Prepared p = r == rank && own ? std::move(*own) : prepare(bi);
        auto on_device = [&](const at::Tensor& t) { return t.defined() ? t.to(o.device) : t; };
        model::HeadOutput out;
        out.loss_sum = on_device(all[r][0]);
        out.loss_weight = on_device(all[r][1]);
        out.logits = on_device(all[r][2]);
        out.start_logits = on_device(all[r][3]);
        out.end_logits = on_device(all[r][4]);
        out.positions = on_device(all[r][5]);
        score(bi, p, out);
      }
      if (o.on_batch) o.on_batch(std::min(round + shards, plan.size()), plan.size());
    }
  }

  if (labeled && acc.has_loss && acc.loss_weight > 0) {
    r.scalars["loss"] = acc.loss_sum / acc.loss_weight;
  }
  scorer->finish(o, r);
  if (r.metrics.is_null()) r.metrics = nlohmann::json::object();
  if (r.scalars.count("loss") && r.metrics.is_object()) r.metrics["loss"] = r.scalars["loss"];
  if (!mlm && r.scalars.count("loss")) {
    std::ostringstream line;
    line << "\nloss " << format_fixed(r.scalars.at("loss"), 4) << "\n";
    r.table += line.str();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<std::string> declared = scalar_names(
      task, td ? td->problem_type : data::ProblemType::kSingleLabel, o.qa.version_2_with_negative);
  for (const auto& [name, value] : r.scalars) {
    if (std::find(declared.begin(), declared.end(), name) == declared.end()) {
      throw std::logic_error("evaluate_task: scalar '" + name + "' is missing in scalar_names()");
    }
  }
  return r;
}

std::vector<std::string> scalar_names(data::Task task, data::ProblemType problem_type,
                                      bool squad_v2) {
  std::vector<std::string> names{"loss"};
  for (std::string& n : task_eval_ops(task).scalar_names(problem_type, squad_v2)) {
    names.push_back(std::move(n));
  }
  return names;
}

nlohmann::json evaluation_settings(const TaskEvalOptions& o) {
  return {{"seqeval_mode", o.seqeval_mode},
          {"tag_scheme", o.tag_scheme},
          {"negative_label", o.negative_label},
          {"window_aggregation",
           o.window_aggregation == data::WindowAggregation::kMax ? "max" : "mean"},
          {"version_2_with_negative", o.qa.version_2_with_negative},
          {"max_answer_length", o.qa.max_answer_length},
          {"n_best_size", o.qa.n_best_size},
          {"null_score_diff_threshold", o.qa.null_score_diff_threshold}};
}

void apply_evaluation_settings(TaskEvalOptions& o, const nlohmann::json& settings,
                               const std::string& where) {
  if (!settings.is_object()) return;
  auto get = [&](const char* key, auto& field) {
    const auto it = settings.find(key);
    if (it == settings.end() || it->is_null()) return;
    try {
      field = it->get<std::remove_reference_t<decltype(field)>>();
    } catch (const nlohmann::json::exception&) {
      fail(where, std::string("clintorch.evaluation.") + key + ": wrong type " + it->type_name(),
           "re-export the model, or remove the key");
    }
  };
  get("seqeval_mode", o.seqeval_mode);
  get("tag_scheme", o.tag_scheme);
  get("negative_label", o.negative_label);
  std::string aggregation;
  get("window_aggregation", aggregation);
  if (!aggregation.empty()) o.window_aggregation = data::parse_window_aggregation(aggregation);
  get("version_2_with_negative", o.qa.version_2_with_negative);
  get("max_answer_length", o.qa.max_answer_length);
  get("n_best_size", o.qa.n_best_size);
  get("null_score_diff_threshold", o.qa.null_score_diff_threshold);
}

double metric_value(const std::map<std::string, double>& scalars, const std::string& metric) {
  std::string name = metric;
  if (name.rfind("eval_", 0) == 0) name = name.substr(5);
  const auto it = scalars.find(name);
  if (it != scalars.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [k, v] : scalars) names.push_back(k);
  fail("metric '" + metric + "'", "is not among the evaluation metrics" + did_you_mean(name, names),
       "available: " + (names.empty() ? std::string("(none)") : join(names, ", ")));
}

}  // namespace clintorch::eval
