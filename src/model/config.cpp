#include "model/config.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "util/error.h"
#include "util/strings.h"

namespace clintorch::model {
namespace {

using json = nlohmann::json;

// Reads one typed field, with errors that name it. A missing field keeps the default.
class FieldReader {
 public:
  FieldReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  void integer(const char* key, int64_t& out) {
    if (const json* v = find(key)) {
      if (!v->is_number_integer()) type_error(key, "an integer", *v);
      out = v->get<int64_t>();
    }
  }
  void optional_integer(const char* key, std::optional<int64_t>& out) {
    if (const json* v = find(key)) {
      if (v->is_null()) {
        out.reset();
      } else {
        if (!v->is_number_integer()) type_error(key, "an integer or null", *v);
        out = v->get<int64_t>();
      }
    }
  }
  void number(const char* key, double& out) {
    if (const json* v = find(key)) {
      if (!v->is_number()) type_error(key, "a number", *v);
      out = v->get<double>();
    }
  }
  void optional_number(const char* key, std::optional<double>& out) {
    if (const json* v = find(key)) {
      if (v->is_null()) {
        out.reset();
      } else {
        if (!v->is_number()) type_error(key, "a number or null", *v);
        out = v->get<double>();
      }
    }
  }
  void string(const char* key, std::string& out) {
    if (const json* v = find(key)) {
      if (!v->is_string()) type_error(key, "a string", *v);
      out = v->get<std::string>();
    }
  }
  const std::set<std::string>& used() const { return used_; }

 private:
  const json* find(const char* key) {
    used_.insert(key);
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }
  [[noreturn]] void type_error(const char* key, const char* expected, const json& v) const {
    std::string shown = v.dump();
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    fail(where_, std::string(key) + ": expected " + expected + ", got " + shown);
  }
  const json& j_;
  std::string where_;
  std::set<std::string> used_;
};

}  // namespace

const std::vector<std::string>& BertConfig::supported_activations() {
  static const std::vector<std::string> kNames = {
      "gelu", "gelu_python", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish", "tanh"};
  return kNames;
}

BertConfig BertConfig::from_json(const json& j, const std::string& where) {
  if (!j.is_object()) fail(where, "config.json is not a JSON object");
  BertConfig c;
  FieldReader r(j, where);
  r.integer("vocab_size", c.vocab_size);
  r.integer("hidden_size", c.hidden_size);
  r.integer("num_hidden_layers", c.num_hidden_layers);
  r.integer("num_attention_heads", c.num_attention_heads);
  r.integer("intermediate_size", c.intermediate_size);
  r.string("hidden_act", c.hidden_act);
  r.number("hidden_dropout_prob", c.hidden_dropout_prob);
  r.number("attention_probs_dropout_prob", c.attention_probs_dropout_prob);
  r.integer("max_position_embeddings", c.max_position_embeddings);
  r.integer("type_vocab_size", c.type_vocab_size);
  r.number("initializer_range", c.initializer_range);
  r.number("layer_norm_eps", c.layer_norm_eps);
  r.optional_integer("pad_token_id", c.pad_token_id);
  r.string("position_embedding_type", c.position_embedding_type);
  r.optional_number("classifier_dropout", c.classifier_dropout);
  for (const auto& [key, value] : j.items()) {
    if (!r.used().count(key)) c.extra[key] = value;
  }

  // Fields we keep in `extra` but whose value changes the architecture: only BERT's is accepted.
  auto require = [&](const char* key, const json& allowed, const std::string& hint) {
    auto it = j.find(key);
    if (it != j.end() && *it != allowed) {
      fail(where, std::string(key) + ": " + it->dump() + " is not supported", hint);
    }
  };
  if (auto it = j.find("model_type"); it != j.end()) {
    if (!it->is_string() || it->get<std::string>() != "bert") {
      fail(where, "model_type: " + it->dump() + " is not supported",
           "clintorch runs BERT encoders (model_type \"bert\"); RoBERTa, DistilBERT, ... differ "
           "in architecture");
    }
  }
  require("is_decoder", false, "only the bidirectional encoder is supported");
  require("add_cross_attention", false, "cross-attention (encoder-decoder BERT) is not supported");
  if (auto it = j.find("embedding_size");
      it != j.end() && *it != j.value("hidden_size", json(768))) {
    fail(where, "embedding_size: " + it->dump() + " differs from hidden_size",
         "factorised embeddings belong to ALBERT, not BERT");
  }
  c.validate(where);
  return c;
}

BertConfig BertConfig::load(const std::string& path) {
  std::string file = path;
  if (std::filesystem::is_directory(path))
    file = (std::filesystem::path(path) / "config.json").string();
  std::ifstream in(file);
  if (!in) {
    fail(file, "cannot open",
         std::filesystem::exists(file)
             ? "check the file's permissions"
             : "a HuggingFace model directory holds config.json beside its "
               "weights; download the whole model");
  }
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    fail(file, std::string("not valid JSON (") + e.what() + ")");
  }
  return from_json(j, file);
}

void BertConfig::validate(const std::string& where) const {
  auto positive = [&](const char* key, int64_t v) {
    if (v <= 0) fail(where, std::string(key) + ": " + std::to_string(v) + " must be positive");
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (num_hidden_layers < 0) {
    fail(where,
         "num_hidden_layers: " + std::to_string(num_hidden_layers) + " must not be negative");
  }
  if (hidden_size % num_attention_heads != 0) {
    fail(where, "hidden_size: " + std::to_string(hidden_size) + " is not a multiple of " +
                    "num_attention_heads (" + std::to_string(num_attention_heads) + ")");
  }
  const auto& acts = supported_activations();
  if (std::find(acts.begin(), acts.end(), hidden_act) == acts.end()) {
    fail(where,
         "hidden_act: '" + hidden_act + "' is not supported" + did_you_mean(hidden_act, acts),
         "supported: " + join(acts, ", "));
  }
  auto probability = [&](const char* key, double p) {
    if (!(p >= 0.0 && p < 1.0)) {
      fail(where, std::string(key) + ": " + std::to_string(p) + " must be in [0, 1)");
    }
  };
  probability("hidden_dropout_prob", hidden_dropout_prob);
  probability("attention_probs_dropout_prob", attention_probs_dropout_prob);
  if (classifier_dropout) probability("classifier_dropout", *classifier_dropout);
  if (!(layer_norm_eps > 0.0)) fail(where, "layer_norm_eps: must be positive");
  if (!(initializer_range >= 0.0)) fail(where, "initializer_range: must not be negative");
  if (position_embedding_type != "absolute") {
    fail(where, "position_embedding_type: '" + position_embedding_type + "' is not supported",
         "only \"absolute\" position embeddings are supported");
  }
  if (pad_token_id && (*pad_token_id < 0 || *pad_token_id >= vocab_size)) {
    fail(where, "pad_token_id: " + std::to_string(*pad_token_id) +
                    " is outside the vocabulary (0.." + std::to_string(vocab_size - 1) + ")");
  }
}

json BertConfig::to_json() const {
  json j = extra;
  j["model_type"] = "bert";
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["pad_token_id"] = pad_token_id ? json(*pad_token_id) : json(nullptr);
  j["position_embedding_type"] = position_embedding_type;
  j["classifier_dropout"] = classifier_dropout ? json(*classifier_dropout) : json(nullptr);
  return j;
}

}  // namespace clintorch::model
