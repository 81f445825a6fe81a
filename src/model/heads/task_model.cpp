#include "model/heads/task_model.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "model/heads/registry.h"
#include "model/pretrained.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::model {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// transformers' placeholder names LABEL_0, LABEL_1, ...: a count, not real names.
bool generic_labels(const std::vector<std::string>& labels) {
  static const std::regex pattern("LABEL_[0-9]+");
  return std::all_of(labels.begin(), labels.end(),
                     [](const std::string& l) { return std::regex_match(l, pattern); });
}

std::vector<std::string> numbered_labels(int64_t n) {
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) out.push_back("LABEL_" + std::to_string(i));
  return out;
}

// id2label of a config.json in id order; empty when absent. `where` names the file.
std::vector<std::string> labels_from_config(const nlohmann::json& config,
                                            const std::string& where) {
  if (!config.contains("id2label") || !config["id2label"].is_object()) return {};
  std::map<int64_t, std::string> by_id;
  for (const auto& [key, value] : config["id2label"].items()) {
    int64_t id = -1;
    try {
      size_t used = 0;
      id = std::stoll(key, &used);
      if (used != key.size()) id = -1;
    } catch (const std::exception&) {
    }
    if (id < 0 || !value.is_string()) {
      fail(where, "id2label entry \"" + key + "\" is not \"<id>\": \"<label>\"");
    }
    by_id[id] = value.get<std::string>();
  }
  std::vector<std::string> labels;
  for (const auto& [id, label] : by_id) {
    if (id != static_cast<int64_t>(labels.size())) {
      fail(where, "id2label has no entry for id " + std::to_string(labels.size()),
           "label ids must run from 0 to num_labels - 1");
    }
    labels.push_back(label);
  }
  return labels;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
TaskModelImpl::TaskModelImpl(const BertConfig& config, std::shared_ptr<TaskHead> head)
    : head_(std::move(head)) {
  if (!head_) fail("TaskModel", "no head given");
  bert = register_module("bert", BertModel(config, head_->info().uses_pooler));
  head_->attach(*this, bert->config());
}

HeadOutput TaskModelImpl::forward(const Batch& batch, const TaskForwardOptions& options) {
  const HeadInfo info = head_->info();
  const at::Tensor ids = batch_require(batch, batch_key::kInputIds, info.name);
  ForwardOptions encoder_options;
  encoder_options.check_inputs = options.check_inputs;
  // CLINTORCH_PADDED=1 turns the unpadded path off everywhere: the A/B switch of bench/run.
  static const bool padded_only = std::getenv("CLINTORCH_PADDED") != nullptr;
  encoder_options.unpad = options.unpad && !padded_only && !info.reads_padding;
  const BertModelOutput encoded =
      bert->forward(ids, batch_get(batch, batch_key::kAttentionMask),
                    batch_get(batch, batch_key::kTokenTypeIds), encoder_options);
  return head_->forward(HeadInput{batch, encoded, *bert, options.compute_loss});
}

at::Tensor TaskModelImpl::decode(const HeadOutput& output, const Batch& batch) const {
  torch::NoGradGuard no_grad;
  return head_->decode(output, batch);
}

io::NamedTensors TaskModelImpl::hf_tensors() const {
  io::NamedTensors out;
  for (const auto& item : named_parameters(/*recurse=*/true))
    out.emplace_back(item.key(), item.value());
  for (const auto& item : named_buffers(/*recurse=*/true))
    out.emplace_back(item.key(), item.value());
  return out;
}

io::LoadReport TaskModelImpl::load_weights(const std::string& model_name_or_dir, bool strict,
                                           bool ignore_mismatched_sizes) {
  const BertCheckpoint ckpt = BertCheckpoint::open(model_name_or_dir);
  const std::string& model_dir = ckpt.dir;
  const io::TensorStore& store = ckpt.weights;
  const HeadInfo info = head_->info();
  io::NamedTensors targets = hf_tensors();

  // The head's own tensors found in the checkpoint, and whether they fit this head.
  std::vector<std::string> head_keys, mismatched;
  for (const auto& [name, tensor] : targets) {
    if (starts_with(name, "bert.") || !store.contains(name)) continue;
    head_keys.push_back(name);
    const io::TensorEntry& e = store.at(name);
    if (e.shape != tensor.sizes().vec()) {
      mismatched.push_back(name + " (checkpoint " + e.shape_string() + ", model " +
                           io::shape_to_string(tensor.sizes().vec()) + ")");
    }
  }
  const std::string config_path = (std::filesystem::path(model_dir) / "config.json").string();
  std::string label_conflict;
  if (!head_keys.empty() && !head_->labels().empty()) {
    const std::vector<std::string> saved = labels_from_config(ckpt.config.extra, config_path);
    if (!saved.empty() && !generic_labels(saved) && saved != head_->labels()) {
      std::string a, b;
      for (const auto& l : saved) a += (a.empty() ? "" : ", ") + l;
      for (const auto& l : head_->labels()) b += (b.empty() ? "" : ", ") + l;
      label_conflict = "its head was trained on the labels [" + a + "], the task has [" + b + "]";
    }
  }
  std::vector<std::string> reinitialised;
  if (!mismatched.empty() || !label_conflict.empty()) {
    std::string what = label_conflict;
    for (const auto& m : mismatched) what += (what.empty() ? "" : "; ") + m;
    if (!ignore_mismatched_sizes) {
      fail(store.source(), "the " + info.hf_architecture + " head weights do not fit: " + what,
           "to fine-tune this checkpoint on other labels, start the head fresh with "
           "ignore_mismatched_sizes");
    }
    log_warning(store.source() + ": the head weights do not fit (" + what +
                "); they are newly initialized (ignore_mismatched_sizes)");
    reinitialised = head_keys;
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [&](const auto& t) {
                                   return std::find(head_keys.begin(), head_keys.end(), t.first) !=
                                          head_keys.end();
                                 }),
                  targets.end());
  }

  io::LoadOptions options;
  options.strict = strict;
  options.model_name = info.hf_architecture;
  for (const auto& key : head_->ignored_checkpoint_keys()) options.ignore_unexpected.push_back(key);
  for (const auto& key : reinitialised) options.ignore_unexpected.push_back(key);
  io::LoadReport report = io::load_into(store, targets, options);
  for (const auto& key : reinitialised) report.missing.push_back(key);
  return report;
}

nlohmann::json TaskModelImpl::hf_config() const {
  nlohmann::json j = bert->config().to_json();
  for (const char* key :
       {"id2label", "label2id", "num_labels", "problem_type", "clintorch", "architectures"}) {
    j.erase(key);
  }
  head_->write_config(j);
  if (!evaluation_settings.empty()) {
    if (!j["clintorch"].is_object()) j["clintorch"] = nlohmann::json::object();
    j["clintorch"]["evaluation"] = evaluation_settings;
  }
  j["architectures"] = {head_->info().hf_architecture};
  return j;
}

void TaskModelImpl::save_pretrained(const std::string& out_dir,
                                    const std::string& tokenizer_dir) const {
  BertConfig config = bert->config();
  config.extra = hf_config();
  io::NamedTensors tensors;
  for (const auto& [name, tensor] : hf_tensors()) {
    tensors.emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
  }
  model::save_pretrained(out_dir, config, tensors, tokenizer_dir, {head_->info().hf_architecture});
}

void TaskModelImpl::resize_token_embeddings(int64_t num_tokens) {
  bert->resize_token_embeddings(num_tokens);
  head_->on_vocab_resized(num_tokens);
}

// ---------------------------------------------------------------------------------------------
HeadOptions resolve_head_options(const HeadOptions& given, const nlohmann::json& config,
                                 int64_t label_rows) {
  HeadOptions o = given;
  if (o.labels.empty()) {
    o.labels = labels_from_config(config, "config.json");
    if (o.labels.empty() && config.contains("num_labels") &&
        config["num_labels"].is_number_integer()) {
      o.labels = numbered_labels(config["num_labels"].get<int64_t>());
    }
    if (o.labels.empty() && label_rows > 0) o.labels = numbered_labels(label_rows);
  }
  if (o.problem_type.empty() && config.contains("problem_type") &&
      config["problem_type"].is_string()) {
    o.problem_type = config["problem_type"].get<std::string>();
  }
  if (config.contains("clintorch") && config["clintorch"].is_object()) {
    const nlohmann::json& c = config["clintorch"];
    // What the trained weights depend on comes from the checkpoint when it says.
    if (!o.crf && c.contains("crf") && c["crf"].is_boolean()) o.crf = c["crf"].get<bool>();
    if (c.contains("crf_bio_constraints") && c["crf_bio_constraints"].is_boolean()) {
      o.crf_bio_constraints = c["crf_bio_constraints"].get<bool>();
    }
    if (o.pooling.empty() && c.contains("pooling") && c["pooling"].is_string()) {
      o.pooling = c["pooling"].get<std::string>();
    }
    if (c.contains("entity_markers") && c["entity_markers"].is_array()) {
      o.entity_markers = c["entity_markers"].get<std::vector<std::string>>();
    }
    if (o.thresholds.empty() && c.contains("thresholds") && c["thresholds"].is_array()) {
      o.thresholds = c["thresholds"].get<std::vector<double>>();
    }
    if (!o.null_score_threshold && c.contains("null_score_threshold") &&
        c["null_score_threshold"].is_number()) {
      o.null_score_threshold = c["null_score_threshold"].get<double>();
    }
  }
  return o;
}

TaskModel create_task_model(const std::string& head_name, const BertConfig& config,
                            const HeadOptions& options) {
  std::shared_ptr<TaskHead> head =
      make_head(head_name, resolve_head_options(options, config.extra));
  return TaskModel(config, head);
}

PretrainedTask load_task_model(const std::string& model_name_or_dir, const std::string& head_name,
                               const HeadOptions& options, const TaskLoadOptions& load) {
  const BertCheckpoint ckpt = BertCheckpoint::open(model_name_or_dir);
  const std::string& model_dir = ckpt.dir;
  std::string name = head_name;
  if (name.empty()) {
    name = head_name_from_config(ckpt.config.extra);
    if (name.empty()) {
      std::string list;
      for (const auto& n : head_names()) list += (list.empty() ? "" : ", ") + n;
      fail((std::filesystem::path(model_dir) / "config.json").string(),
           "does not say which task head the model has (no \"clintorch\" block, no known "
           "\"architectures\")",
           "name the head: " + list);
    }
  }
  int64_t label_rows = -1;
  if (ckpt.weights.contains("classifier.weight")) {
    label_rows = ckpt.weights.at("classifier.weight").shape.at(0);
  }
  const HeadOptions head_options = resolve_head_options(options, ckpt.config.extra, label_rows);
  PretrainedTask out;
  {
    std::optional<SkipWeightInit> skip;
    if (load.skip_init) skip.emplace();
    out.model = TaskModel(ckpt.config, make_head(name, head_options));
  }
  const nlohmann::json& extra = ckpt.config.extra;
  if (extra.contains("clintorch") && extra["clintorch"].is_object() &&
      extra["clintorch"].contains("evaluation") && extra["clintorch"]["evaluation"].is_object()) {
    out.model->evaluation_settings = extra["clintorch"]["evaluation"];
  }
  out.report = out.model->load_weights(model_dir, load.strict, load.ignore_mismatched_sizes);
  if (load.skip_init && !out.report.missing.empty()) {  // initialise what the file lacks
    nlohmann::json settings = out.model->evaluation_settings;
    out.model = TaskModel(ckpt.config, make_head(name, head_options));
    out.model->evaluation_settings = std::move(settings);
    out.report = out.model->load_weights(model_dir, load.strict, load.ignore_mismatched_sizes);
  }
  out.model->to(load.device);
  out.model->eval();
  return out;
}

}  // namespace clintorch::model
