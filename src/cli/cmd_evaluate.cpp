// `clintorch evaluate --model DIR --data FILE`: metrics of a model on a labelled file (JSON and a
// readable table). See README "Evaluation, prediction and export".
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/dataset.h"
#include "data/windows.h"
#include "eval/inference.h"
#include "eval/task_eval.h"
#include "util/error.h"

namespace clintorch::cli {

namespace {

struct EvaluateArgs {
  std::string model;
  std::string data;
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
  std::string window_aggregation = "mean";
  bool squad_v2 = false;
  std::string output;
  std::string predictions;
  eval::TaskEvalOptions eval;
};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) fail(path, "cannot write", "check the folder exists and is writable");
}

void run_evaluate(EvaluateArgs& a) {
  if (a.threads > 0) torch::set_num_threads(static_cast<int>(a.threads));
  eval::TaskEvalOptions eo = a.eval;
  try {
    eo.device = c10::Device(a.device);
  } catch (const std::exception&) {
    throw UsageError("--device: unknown device '" + a.device + "' (use cpu or cuda[:N])");
  }
  eo.window_aggregation = data::parse_window_aggregation(a.window_aggregation);
  eo.qa.version_2_with_negative = a.squad_v2;
  eo.keep_predictions = !a.predictions.empty();
  eval::InferenceLoadOptions lo;
  lo.device = eo.device;
  eval::InferenceModel m = eval::load_inference_model(a.model, lo);

  data::DataOptions o;
  o.format = data::parse_format(a.format);
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
  if (m.task == data::Task::kTokenClassification) {
    const std::string scheme = eval::label_tag_scheme(m.labels);
    eo.tag_scheme = scheme == "none" ? "iob2" : scheme;
  }
  const eval::TaskEvalResult r = eval::evaluate_task(m.model, *d, eo);

  nlohmann::json report = {{"model", m.dir},
                           {"data", a.data},
                           {"task", data::task_name(m.task)},
                           {"num_examples", r.num_examples},
                           {"num_features", r.num_features},
                           {"seconds", r.seconds}};
  nlohmann::json scalars = nlohmann::json::object();
  for (const auto& [k, v] : r.scalars) scalars[k] = std::isfinite(v) ? nlohmann::json(v) : nullptr;
  report["scalars"] = scalars;
  report["metrics"] = r.metrics;
  std::printf("%s", r.table.c_str());
  if (!a.output.empty()) {
    write_text(a.output, report.dump(2) + "\n");
  } else {
    std::printf("%s\n", scalars.dump().c_str());
  }
  if (!a.predictions.empty()) {
    std::string lines;
    for (const auto& p : r.predictions)
      lines += p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    write_text(a.predictions, lines);
  }
}

}  // namespace

void add_evaluate(CLI::App& app) {
  CLI::App* sub =
      app.add_subcommand("evaluate", "Evaluate a model on a labelled dataset and write metrics");
  auto a = std::make_shared<EvaluateArgs>();
  sub->add_option("--model", a->model,
                  "Model directory (an export, a checkpoint or a trainer output_dir)")
      ->required();
  sub->add_option("--data", a->data, "Labelled file in a format of the model's task")->required();
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
  sub->add_option("--seqeval-mode", a->eval.seqeval_mode, "NER: seqeval default or strict")
      ->check(CLI::IsMember({"default", "strict"}))
      ->capture_default_str();
  sub->add_option("--negative-label", a->eval.negative_label,
                  "RE: label left out of the micro-F1 (e.g. false)");
  sub->add_flag("--squad-v2", a->squad_v2, "QA: SQuAD v2 (unanswerable questions)");
  sub->add_option("--null-score-diff-threshold", a->eval.qa.null_score_diff_threshold,
                  "QA with --squad-v2: null answer threshold")
      ->capture_default_str();
  sub->add_option("--max-answer-length", a->eval.qa.max_answer_length,
                  "QA: longest answer (tokens)")
      ->capture_default_str();
  sub->add_option("--window-aggregation", a->window_aggregation,
                  "Classification/RE: combine the windows' logits by mean or max")
      ->check(CLI::IsMember({"mean", "max"}))
      ->capture_default_str();
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
  sub->add_option("--device", a->device, "cpu or cuda[:N]")->capture_default_str();
  sub->add_option("--output", a->output,
                  "Write the metrics JSON here (default: print the scalars to stdout)");
  sub->add_option("--predictions", a->predictions,
                  "Also write one JSON prediction per example (JSONL) here");
  sub->callback([a]() { run_evaluate(*a); });
}

}  // namespace clintorch::cli
