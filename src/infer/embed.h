// Dense text embeddings from a BERT encoder: a hidden state (the last layer, a chosen layer, or
// the average of the last N layers) pooled over the tokens (cls, mean, max), optionally L2
// normalised. With mean pooling and normalisation on all-MiniLM-L6-v2 this is exactly what
// sentence-transformers computes for that model.
//
// Long texts: a text longer than max_seq_length tokens is split into windows of max_seq_length
// tokens ([CLS] ... [SEP] each) overlapping by `stride` tokens (HF return_overflowing_tokens);
// each window is pooled on its own and the text's vector is the mean of its windows' vectors,
// normalised afterwards when asked. A text that fits is one window, so nothing changes for it.
//
//   infer::EmbedOptions o;
//   o.normalize = true;
//   infer::Embedder embedder("sentence-transformers/all-MiniLM-L6-v2", o);
//   std::vector<float> rows = embedder.embed({"chest pain", "no fever"});   // (2, dim)
#pragma once

#include <c10/core/Device.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace clintorch::infer {

enum class Pooling {
  kCls,   // the [CLS] token's state
  kMean,  // mean over the real tokens ([CLS] and [SEP] included, padding excluded), as
          // sentence-transformers' Pooling(mode="mean")
  kMax,   // element-wise max over the real tokens
};
// "cls", "mean" or "max"; UsageError otherwise.
Pooling parse_pooling(const std::string& name);

struct EmbedOptions {
  // How token states become one vector. Default: mean.
  Pooling pooling = Pooling::kMean;
  // The hidden state pooled: 0 = the embedding output, num_hidden_layers = the last layer;
  // negative counts from the end (-1 = last). Unset = the last layer. Default: unset.
  std::optional<int> layer;
  // Average the last N hidden states token-wise before pooling (0 = off; not with `layer`).
  // Default: 0.
  int last_n_layers = 0;
  // L2-normalise each text's vector (after averaging its windows). Default: false.
  bool normalize = false;
  // Window length in tokens, special tokens included (0 = the model's sentence_bert_config.json
  // max_seq_length, else the tokenizer's model_max_length, at most max_position_embeddings).
  // Default: 0.
  size_t max_seq_length = 0;
  // Tokens shared by consecutive windows of a long text; must be below max_seq_length - 2.
  // Default: 32 (or less when the window is short: at most a quarter of it).
  std::optional<size_t> stride;
  // Windows per forward pass. Default: 32.
  size_t batch_size = 32;
  // Tokenizer threads (0 = all cores). Default: 0.
  size_t threads = 0;
  // Where the model runs. Default: CPU.
  c10::Device device = c10::Device(c10::DeviceType::CPU);
  // Autocast dtype of the forward pass: "" (fp32) or "bf16" (model::inference_autocast).
  // Default: "".
  std::string autocast;
};

class Embedder {
 public:
  // Loads the encoder (BertModel or any BertFor* folder, or a cached HF model id) and its
  // tokenizer; checks the options against the model (layer range, window length).
  Embedder(const std::string& model, const EmbedOptions& options);
  ~Embedder();
  Embedder(Embedder&&) noexcept;

  // Row-major (texts.size(), dim()) float32, one row per text in order.
  std::vector<float> embed(const std::vector<std::string>& texts) const;
  int64_t dim() const;
  size_t max_seq_length() const;
  size_t stride() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace clintorch::infer
