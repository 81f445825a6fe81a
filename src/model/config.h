// BertConfig: every field of a HuggingFace BERT config.json that the encoder uses, read and
// validated once. Fields we do not use (architectures, id2label, label2id, torch_dtype, ...) are
// kept verbatim in `extra` and written back on export.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace clintorch::model {

struct BertConfig {
  // Rows of the word-embedding matrix (tokenizer vocabulary size). Default: 30522.
  int64_t vocab_size = 30522;
  // Width of every hidden state. Default: 768.
  int64_t hidden_size = 768;
  // Number of transformer layers. Default: 12.
  int64_t num_hidden_layers = 12;
  // Attention heads per layer; must divide hidden_size. Default: 12.
  int64_t num_attention_heads = 12;
  // Width of the feed-forward layer. Default: 3072.
  int64_t intermediate_size = 3072;
  // Feed-forward activation: gelu, gelu_python, gelu_new, gelu_pytorch_tanh, relu, silu, swish,
  // tanh (transformers' ACT2FN names). Default: "gelu".
  std::string hidden_act = "gelu";
  // Dropout after embeddings, attention output and feed-forward output. Default: 0.1.
  double hidden_dropout_prob = 0.1;
  // Dropout on attention probabilities. Default: 0.1.
  double attention_probs_dropout_prob = 0.1;
  // Longest supported sequence (rows of the position embeddings). Default: 512.
  int64_t max_position_embeddings = 512;
  // Segment (token type) vocabulary size. Default: 2.
  int64_t type_vocab_size = 2;
  // Standard deviation of the normal initialiser. Default: 0.02.
  double initializer_range = 0.02;
  // LayerNorm epsilon. Default: 1e-12.
  double layer_norm_eps = 1e-12;
  // Padding token id (its embedding row gets no gradient); null in config.json = none. Default: 0.
  std::optional<int64_t> pad_token_id = 0;
  // Only "absolute" is supported (transformers 5 dropped the relative variants). Default: absolute.
  std::string position_embedding_type = "absolute";
  // Dropout of classification heads; null = hidden_dropout_prob. Default: null.
  std::optional<double> classifier_dropout;

  // Every other config.json field, verbatim (architectures, id2label, label2id, model_type,
  // torch_dtype, transformers_version, ...). Default: empty object.
  nlohmann::json extra = nlohmann::json::object();

  // Reads and validates a config.json object. `where` (usually the file path) prefixes errors,
  // which name the field, the bad value and the allowed values.
  static BertConfig from_json(const nlohmann::json& json, const std::string& where);
  // Reads PATH, or PATH/config.json when PATH is a directory.
  static BertConfig load(const std::string& path);

  // Throws an Error naming the field when a value is out of range or unsupported.
  void validate(const std::string& where) const;

  // The config.json object: every field above plus `extra`, with model_type "bert".
  nlohmann::json to_json() const;

  int64_t head_dim() const { return hidden_size / num_attention_heads; }

  // transformers' activation names that the encoder implements.
  static const std::vector<std::string>& supported_activations();
};

}  // namespace clintorch::model
