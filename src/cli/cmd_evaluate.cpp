// `clintorch evaluate --model DIR --data FILE` (a labelled file) or `--recipe R [--checkpoint DIR]
// [--split validation|test]` (the recipe's data, read as the trainer reads it): metrics as JSON and
// a readable table. See docs/inference.md "Evaluate, predict, export".
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/scoring.h"
#include "data/dataset.h"
#include "data/task_registry.h"
#include "data/windows.h"
#include "eval/inference.h"
#include "eval/task_eval.h"
#include "util/error.h"

#include "train/recipe.h"
#include "train/recipe_check.h"
#include "train/setup.h"

namespace clintorch::cli {

namespace {

struct EvaluateArgs {
  std::string model;
  std::string data;
  std::string recipe;
  std::vector<std::string> overrides;
  std::string split = "validation";
  std::string format = "auto";
  std::string text_column;
  std::string text_pair_column;
  std::vector<std::string> label_columns;
  std::string tag_scheme = "auto";
  std::string unknown_labels = "error";
  size_t max_seq_length = 0;
  size_t doc_stride = 0;
  size_t threads = 0;
  std::string device = "cpu";
  std::string output;
  std::string predictions;
  eval::TaskEvalOptions eval;
  ScoringArgs scoring;
};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) fail(path, "cannot write", "check the folder exists and is writable");
}

void report(const EvaluateArgs& a, const std::string& model_dir, const std::string& data,
            data::Task task, const eval::TaskEvalResult& r) {
  nlohmann::json out = {{"model", model_dir},
                        {"data", data},
                        {"task", data::task_name(task)},
                        {"num_examples", r.num_examples},
                        {"num_features", r.num_features},
                        {"seconds", r.seconds}};
  nlohmann::json scalars = nlohmann::json::object();
  for (const auto& [k, v] : r.scalars) scalars[k] = std::isfinite(v) ? nlohmann::json(v) : nullptr;
  out["scalars"] = scalars;
  out["metrics"] = r.metrics;
  std::printf("%s", r.table.c_str());
  if (!a.output.empty()) {
    write_text(a.output, out.dump(2) + "\n");
  } else {
    std::printf("%s\n", scalars.dump().c_str());
  }
  if (!a.predictions.empty()) {
    std::string lines;
    for (const auto& p : r.predictions) {
      lines += p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    write_text(a.predictions, lines);
  }
}

// (b) The recipe's validation or test data with the trained model (default: output_dir/export,
// else the best / newest checkpoint of output_dir), evaluated as the trainer evaluates.
void run_evaluate_recipe(EvaluateArgs& a) {
  const train::Recipe recipe = train::load_recipe(a.recipe, a.overrides);
  const train::RecipeCheck check = train::check_recipe_files(recipe);
  const bool test = a.split == "test";
  const std::string key = test ? "data.test_file" : "data.validation_file";
  const std::string file = test ? recipe.data.test_file : recipe.data.validation_file;
  const bool mlm_split = !test && data::task_spec(recipe.task_id()).data().corpus && file.empty() &&
                         recipe.data.validation_split_percentage > 0;
  if (file.empty() && !mlm_split) {
    throw UsageError(recipe.where(key) + ": " + key +
                     " is empty; nothing to evaluate with --split " + a.split);
  }
  std::string dir = a.model;
  if (dir.empty()) {
    const std::string exported = recipe.output.output_dir + "/export";
    dir = std::ifstream(exported + "/config.json") ? exported : recipe.output.output_dir;
  }
  const c10::Device device = train::resolve_device(recipe);
  if (recipe.training.threads > 0)
    torch::set_num_threads(static_cast<int>(recipe.training.threads));
  eval::InferenceLoadOptions lo;
  lo.device = device;
  eval::InferenceModel m = eval::load_inference_model(dir, lo);
  eval::TaskEvalOptions eo = train::task_eval_options(recipe, m.labels);
  eo.device = device;
  eo.keep_predictions = !a.predictions.empty();
  if (data::task_name(recipe.task_id()) != m.model->info().name) {
    fail(m.dir,
         "holds a " + m.model->info().name + " model but the recipe's task is " +
             data::task_name(recipe.task_id()),
         "give the checkpoint of this recipe with --checkpoint");
  }
  train::SetupOptions so;
  so.train = false;
  so.model = false;
  so.validation = !test;
  so.test = test;
  const train::RunSetup setup = train::setup_run(recipe, check, so);
  const std::shared_ptr<data::Dataset> dataset = test ? setup.test : setup.validation;
  if (!dataset) fail(recipe.where(key), key + ": no data to evaluate");
  const eval::TaskEvalResult r = eval::evaluate_task(m.model, *dataset, eo);
  report(a, m.dir, mlm_split ? recipe.data.train_file + " (held-out split)" : file, m.task, r);
}

void run_evaluate(EvaluateArgs& a) {
  if (!a.recipe.empty()) {
    run_evaluate_recipe(a);
    return;
  }
  if (a.model.empty() || a.data.empty()) {
    throw UsageError("give --model DIR --data FILE, or --recipe RECIPE [--checkpoint DIR]");
  }
  if (a.threads > 0) torch::set_num_threads(static_cast<int>(a.threads));
  eval::InferenceLoadOptions lo;
  lo.device = device_option(a.device);
  eval::InferenceModel m = eval::load_inference_model(a.model, lo);
  eval::TaskEvalOptions eo = a.eval;
  eo.device = lo.device;
  apply_scoring(eo, m, a.scoring);
  eo.keep_predictions = !a.predictions.empty();

  data::DataOptions o;
  o.format = data::task_format(m.task, a.format, "--format");
  o.cache.enabled = false;
  if (!a.text_column.empty()) o.reader.text_column = a.text_column;
  o.reader.text_pair_column = a.text_pair_column;
  if (!a.label_columns.empty()) o.reader.label_columns = a.label_columns;
  o.reader.tag_scheme = a.tag_scheme;
  o.features.unknown_labels = data::parse_unknown_labels(a.unknown_labels);
  const int64_t positions = m.model->config().max_position_embeddings;
  o.features.max_seq_length =
      a.max_seq_length ? a.max_seq_length : static_cast<size_t>(std::min<int64_t>(512, positions));
  if (static_cast<int64_t>(o.features.max_seq_length) > positions) {
    throw UsageError("--max-seq-length " + std::to_string(o.features.max_seq_length) +
                     " exceeds the model's " + std::to_string(positions) + " positions");
  }
  o.features.doc_stride =
      a.doc_stride ? a.doc_stride : std::min<size_t>(128, o.features.max_seq_length / 4);
  o.features.num_threads = a.threads;
  const auto d = eval::load_eval_dataset(m, a.data, o);
  if (!d->labeled) fail(a.data, "has no labels", "evaluate needs labelled data; use predict");
  const eval::TaskEvalResult r = eval::evaluate_task(m.model, *d, eo);

  report(a, m.dir, a.data, m.task, r);
}

}  // namespace

void add_evaluate(CLI::App& app) {
  CLI::App* sub =
      app.add_subcommand("evaluate", "Evaluate a model on a labelled dataset and write metrics");
  auto a = std::make_shared<EvaluateArgs>();
  sub->add_option("--model,--checkpoint", a->model,
                  "Model directory (an export, a checkpoint or a trainer output_dir); with "
                  "--recipe default output_dir/export");
  sub->add_option("--data", a->data, "Labelled file in a format of the model's task");
  sub->add_option("--recipe", a->recipe,
                  "Evaluate on the recipe's validation or test data (as the trainer reads it)");
  sub->add_option("--set", a->overrides, "With --recipe: override a key, section.key=value")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--split", a->split, "With --recipe: validation or test")
      ->check(CLI::IsMember({"validation", "test"}))
      ->capture_default_str();
  sub->add_option("--format", a->format,
                  "File format: auto, conll, ner_jsonl, ner_spans_jsonl, csv, tsv, jsonl, squad, "
                  "blue_tsv, re_jsonl")
      ->capture_default_str();
  sub->add_option("--text-column", a->text_column, "Classification: column/key of the text");
  sub->add_option("--text-pair-column", a->text_pair_column,
                  "Classification: column/key of the second text");
  sub->add_option("--label-column", a->label_columns,
                  "Classification: label column(s); several = 0/1 multi-label columns")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  sub->add_option("--tag-scheme", a->tag_scheme,
                  "NER: scheme of the file's tags (auto, iob1, iob2, iobes, none); they are "
                  "converted to the model's")
      ->capture_default_str();
  sub->add_option("--unknown-labels", a->unknown_labels,
                  "Labels the model does not know: error, map_to_o (NER) or ignore")
      ->capture_default_str();
  add_scoring_options(*sub, a->scoring, /*metrics=*/true);
  sub->add_option("--max-seq-length", a->max_seq_length,
                  "Tokens per window (0 = min(512, the model's positions))")
      ->capture_default_str();
  sub->add_option("--doc-stride", a->doc_stride,
                  "Tokens shared by consecutive windows (0 = min(128, max-seq-length/4))")
      ->capture_default_str();
  sub->add_option("--batch-size", a->eval.batch_size, "Windows per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--threads", a->threads, "Threads (0 = all cores)")->capture_default_str();
  sub->add_option("--device", a->device, kDeviceHelp)->capture_default_str();
  sub->add_option("--output", a->output,
                  "Write the metrics JSON here (default: print the scalars to stdout)");
  sub->add_option("--predictions", a->predictions,
                  "Also write one JSON prediction per example (JSONL) here");
  sub->callback([a, sub]() {
    capture_scoring(*sub, a->scoring);
    run_evaluate(*a);
  });
}

}  // namespace clintorch::cli
