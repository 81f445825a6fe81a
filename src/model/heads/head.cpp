#include "model/heads/head.h"

#include <torch/torch.h>

#include <algorithm>

#include "util/error.h"
#include "util/strings.h"

namespace clintorch::model {

at::Tensor batch_get(const Batch& batch, const std::string& key) {
  auto it = batch.find(key);
  return it == batch.end() ? at::Tensor() : it->second;
}

at::Tensor batch_require(const Batch& batch, const std::string& key, const std::string& head) {
  at::Tensor t = batch_get(batch, key);
  if (!t.defined()) {
    std::vector<std::string> present;
    for (const auto& [name, tensor] : batch) present.push_back(name);
    std::string have;
    for (const auto& name : present) have += (have.empty() ? "" : ", ") + name;
    fail(head + " head", "the batch has no '" + key + "' tensor" + did_you_mean(key, present),
         "the batch holds: " + (have.empty() ? std::string("nothing") : have));
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
HeadOptions HeadOptions::from_json(const nlohmann::json& json, const std::string& where) {
  static const std::vector<std::string> keys = {"labels",
                                                "problem_type",
                                                "class_weights",
                                                "thresholds",
                                                "crf",
                                                "crf_bio_constraints",
                                                "pooling",
                                                "entity_markers",
                                                "mlm_masked_only",
                                                "max_answer_length",
                                                "null_score_threshold"};
  if (!json.is_object()) fail(where, "head options must be a JSON object");
  HeadOptions o;
  for (const auto& [key, value] : json.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      fail(where, "unknown head option '" + key + "'" + did_you_mean(key, keys));
    }
    try {
      if (key == "labels") o.labels = value.get<std::vector<std::string>>();
      if (key == "problem_type") o.problem_type = value.get<std::string>();
      if (key == "class_weights") o.class_weights = value.get<std::vector<double>>();
      if (key == "thresholds") o.thresholds = value.get<std::vector<double>>();
      if (key == "crf" && !value.is_null()) o.crf = value.get<bool>();
      if (key == "crf_bio_constraints") o.crf_bio_constraints = value.get<bool>();
      if (key == "pooling") o.pooling = value.get<std::string>();
      if (key == "entity_markers") o.entity_markers = value.get<std::vector<std::string>>();
      if (key == "mlm_masked_only") o.mlm_masked_only = value.get<bool>();
      if (key == "max_answer_length") o.max_answer_length = value.get<int64_t>();
      if (key == "null_score_threshold" && !value.is_null()) {
        o.null_score_threshold = value.get<double>();
      }
    } catch (const nlohmann::json::exception&) {
      fail(where, "head option '" + key + "' has the wrong type (" + value.type_name() + ")");
    }
  }
  return o;
}

nlohmann::json HeadOptions::to_json() const {
  nlohmann::json j = {
      {"labels", labels},
      {"problem_type", problem_type},
      {"class_weights", class_weights},
      {"thresholds", thresholds},
      {"crf", crf ? nlohmann::json(*crf) : nlohmann::json(nullptr)},
      {"crf_bio_constraints", crf_bio_constraints},
      {"pooling", pooling},
      {"entity_markers", entity_markers},
      {"mlm_masked_only", mlm_masked_only},
      {"max_answer_length", max_answer_length},
      {"null_score_threshold",
       null_score_threshold ? nlohmann::json(*null_score_threshold) : nlohmann::json(nullptr)}};
  return j;
}

// ---------------------------------------------------------------------------------------------
void TaskHead::write_config(nlohmann::json& config) const {
  config["clintorch"] = {{"head", info().name}};
}

void TaskHead::write_labels(nlohmann::json& config) const {
  nlohmann::json id2label = nlohmann::json::object();
  nlohmann::json label2id = nlohmann::json::object();
  for (size_t i = 0; i < options_.labels.size(); ++i) {
    id2label[std::to_string(i)] = options_.labels[i];
    label2id[options_.labels[i]] = static_cast<int64_t>(i);
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
}

double TaskHead::classifier_dropout(const BertConfig& config) {
  return config.classifier_dropout ? *config.classifier_dropout : config.hidden_dropout_prob;
}

// ---------------------------------------------------------------------------------------------
LossParts cross_entropy_parts(const at::Tensor& logits, const at::Tensor& targets,
                              const at::Tensor& class_weights, int64_t ignore_index) {
  const at::Tensor x = logits.to(torch::kFloat32);  // (n, classes)
  const at::Tensor y = targets.to(torch::kLong);    // (n)
  LossParts parts;
  auto options = torch::nn::functional::CrossEntropyFuncOptions()
                     .ignore_index(ignore_index)
                     .reduction(torch::kSum);
  const at::Tensor valid = y != ignore_index;  // (n)
  if (class_weights.defined()) {
    const at::Tensor w = class_weights.to(x.device(), torch::kFloat32);
    options.weight(w);
    // torch divides by the summed weight of the non-ignored targets.
    parts.weight = w.index_select(0, torch::where(valid, y, torch::zeros_like(y)))
                       .mul(valid.to(torch::kFloat32))
                       .sum();
  } else {
    parts.weight = valid.sum().to(torch::kFloat32);
  }
  parts.sum = torch::nn::functional::cross_entropy(x, y, options);
  parts.mean = parts.sum / parts.weight;
  return parts;
}

at::Tensor weights_tensor(const std::vector<double>& values, int64_t expected,
                          const std::string& what, const c10::Device& device) {
  if (values.empty()) return {};
  if (static_cast<int64_t>(values.size()) != expected) {
    fail(
        what,
        std::to_string(values.size()) + " values given for " + std::to_string(expected) + " labels",
        "give one value per label, in label id order");
  }
  return torch::tensor(values, torch::kFloat64).to(device, torch::kFloat32);
}

}  // namespace clintorch::model
