#include "eval/inference.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/features.h"
#include "data/task_registry.h"
#include "io/model_path.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::eval {

namespace fs = std::filesystem;

namespace {

bool has_config(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec);
}

std::string best_checkpoint(const fs::path& newest) {
  const fs::path state = newest / "trainer_state.json";
  std::error_code ec;
  if (!fs::is_regular_file(state, ec)) return "";
  std::ifstream in(state);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception&) {
    fail(state.string(), "is not valid JSON",
         "the checkpoint may be incomplete; give the "
         "checkpoint-N folder to use directly");
  }
  if (!j.is_object()) return "";
  const auto it = j.find("best_model_checkpoint");
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

data::Task head_task(const model::HeadInfo& info) {
  if (info.dataset_tasks.empty()) fail("model", "the head " + info.name + " names no data task");
  return data::parse_task(info.dataset_tasks.front());
}

}  // namespace

std::string resolve_checkpoint(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  if (!fs::is_directory(d, ec)) {
    fail(dir, "no such model directory",
         "give an exported model, a checkpoint (OUTPUT_DIR/checkpoint-N) or a trainer "
         "output_dir");
  }
  if (has_config(d)) return dir;
  long long newest_step = -1;
  fs::path newest;
  for (const auto& entry : fs::directory_iterator(d, ec)) {
    if (!entry.is_directory()) continue;
    const long long step = io::checkpoint_step(entry.path().filename().string());
    if (step > newest_step && has_config(entry.path())) {
      newest_step = step;
      newest = entry.path();
    }
  }
  if (newest_step >= 0) {
    const std::string best = best_checkpoint(newest);
    if (!best.empty()) {
      for (const fs::path& candidate : {fs::path(best), d / fs::path(best).filename()}) {
        if (has_config(candidate)) return candidate.string();
      }
      fail((newest / "trainer_state.json").string(),
           "best_model_checkpoint '" + fs::path(best).filename().string() +
               "' has no config.json (deleted?)",
           "give the checkpoint-N folder to use, e.g. " + newest.string());
    }
    return newest.string();
  }
  if (has_config(d / "export")) return (d / "export").string();
  fail(dir, "has no config.json, no checkpoint-N folder and no export folder",
       "give an exported model, a checkpoint (OUTPUT_DIR/checkpoint-N) or a trainer output_dir");
}

InferenceModel load_inference_model(const std::string& dir, const InferenceLoadOptions& o) {
  InferenceModel m;
  m.dir = resolve_checkpoint(dir);
  model::TaskLoadOptions lo;
  lo.device = o.device;
  lo.skip_init = true;  // every weight comes from the checkpoint (a missing one fails below)
  model::PretrainedTask t = model::load_task_model(m.dir, o.head, {}, lo);
  if (!t.report.missing.empty()) {
    std::string names;
    for (size_t i = 0; i < t.report.missing.size() && i < 3; ++i)
      names += (i ? ", " : "") + t.report.missing[i];
    if (t.report.missing.size() > 3) names += ", ...";
    fail(m.dir,
         std::to_string(t.report.missing.size()) +
             " weights of the model are missing from the checkpoint (" + names + ")",
         "predictions would be random; give a fine-tuned checkpoint or export of this task");
  }
  m.model = t.model;
  m.model->eval();
  tok::TokenizerOptions to;
  to.warn_cased_vocab_lowercased = false;
  m.tokenizer = std::make_shared<tok::Tokenizer>(tok::Tokenizer::from_dir(m.dir, to));
  const std::vector<std::string> required = m.model->head().required_tokens();
  if (!required.empty()) data::add_entity_markers(*m.tokenizer, required);
  const int64_t rows = m.model->config().vocab_size;
  if (static_cast<int64_t>(m.tokenizer->vocab_size()) > rows) {
    fail(m.dir,
         "the tokenizer has " + std::to_string(m.tokenizer->vocab_size()) +
             " tokens but the model's embeddings only " + std::to_string(rows) + " rows",
         "the tokenizer files do not belong to this model; export the model with the "
         "tokenizer it was trained with");
  }
  if (static_cast<int64_t>(m.tokenizer->vocab_size()) < rows) {
    log_debug(m.dir + ": the tokenizer has fewer tokens (" +
              std::to_string(m.tokenizer->vocab_size()) + ") than embedding rows (" +
              std::to_string(rows) + ")");
  }
  const model::HeadInfo info = m.model->info();
  m.task = head_task(info);
  m.labels = m.model->head().labels();
  if (data::task_spec(m.task).data().problem_type) {
    m.problem_type = data::parse_problem_type(m.model->head().options().problem_type);
  }
  return m;
}

std::string label_tag_scheme(const std::vector<std::string>& labels) {
  switch (data::detect_tag_scheme(labels)) {
    case data::TagScheme::kIOBES:
      return "iobes";
    case data::TagScheme::kIOB2:
    case data::TagScheme::kIOB1:
      return "iob2";
    case data::TagScheme::kNone:
      break;
  }
  return "none";
}

std::string strict_tag_scheme(const std::vector<std::string>& labels) {
  const std::string scheme = label_tag_scheme(labels);
  return scheme == "none" ? "iob2" : scheme;
}

std::shared_ptr<data::TaskDataset> load_eval_dataset(const InferenceModel& m,
                                                     const std::string& path, data::DataOptions o) {
  const data::TaskDataOps& ops = data::task_spec(m.task).data();
  if (ops.corpus) {
    fail(m.dir, "this is a masked-language model", "evaluate it on a text corpus (a recipe)");
  }
  o.task = m.task;
  o.labels = m.labels;
  if (ops.problem_type) {
    o.reader.problem_type = m.problem_type;
    o.features.problem_type = m.problem_type;
  }
  if (ops.word_index && o.reader.target_scheme == "same") {  // NER tags -> the labels' scheme
    const std::string scheme = label_tag_scheme(m.labels);
    if (scheme != "none") o.reader.target_scheme = scheme;
  }
  if (!m.model->head().required_tokens().empty()) {  // RE with entity markers: JSONL inserts them
    o.reader.entity_markers = m.model->head().options().entity_markers;
  }
  const data::LabelMap labels(m.labels);
  const bool with_labels = ops.label_map && m.problem_type != data::ProblemType::kRegression;
  return data::load_task_dataset(path, *m.tokenizer, o, with_labels ? &labels : nullptr);
}

std::string export_checkpoint(const std::string& checkpoint, const std::string& out_dir,
                              const std::string& head) {
  const std::string src = resolve_checkpoint(checkpoint);
  std::error_code ec;
  if (fs::exists(out_dir, ec) && fs::equivalent(src, out_dir, ec)) {
    fail(out_dir, "is the checkpoint being exported", "give another --out folder");
  }
  InferenceLoadOptions lo;
  lo.head = head;
  const InferenceModel m = load_inference_model(src, lo);
  m.model->save_pretrained(out_dir, src);
  return src;
}

}  // namespace clintorch::eval
