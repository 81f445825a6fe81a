// The BERT encoder as LibTorch modules. Every submodule is registered under the name transformers
// uses, so named_parameters() yields exactly the state_dict keys of HF BertModel
// ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", ...,
// "pooler.dense.bias") and loading a checkpoint is a plain name match (see model/pretrained.h).
//
// Usage:
//   auto bert = clintorch::model::BertModel(config);
//   auto out = bert->forward(input_ids, attention_mask, token_type_ids, {/*hidden*/ true});
//   out.last_hidden_state  // (batch, seq, hidden)
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "model/config.h"
#include "model/packed_linear.h"

namespace clintorch::model {

// What forward() returns besides the last hidden state.
struct ForwardOptions {
  // Fill BertModelOutput::hidden_states: the embedding output, then each layer's output
  // (num_hidden_layers + 1 tensors). Default: false.
  bool output_hidden_states = false;
  // Fill BertModelOutput::attentions with each layer's attention probabilities. The softmax is
  // then computed explicitly instead of by the fused scaled_dot_product_attention kernel (slower,
  // more memory). Default: false.
  bool output_attentions = false;
  // Check that token ids, token type ids and the sequence length fit the config, with a clear
  // error instead of an index error from the embedding (costs one device sync). Default: true.
  bool check_inputs = true;
  // Run the embeddings, every projection, the FFN, GELU, LayerNorm and dropout on the real tokens
  // only, as one (total_tokens, hidden) matrix, and pad just around attention. Padded positions
  // of last_hidden_state and hidden_states are then zero (transformers fills them with values
  // that no head should read); real positions are equal to the padded path up to rounding.
  // Ignored when output_attentions is set or nothing is padded. On the CPU in bf16 (autocast or
  // bf16 weights) the row count is rounded up (unpadded_rows) with padding positions, whose
  // outputs are then the padded path's: oneDNN keeps kernels per matrix shape, and a new row
  // count per batch made its memory grow with the input. Default: false.
  bool unpad = false;
};

struct BertModelOutput {
  at::Tensor last_hidden_state;  // (batch, seq, hidden)
  at::Tensor pooler_output;      // (batch, hidden): tanh(dense(h[:, 0])); undefined without pooler
  std::vector<at::Tensor> hidden_states;  // num_hidden_layers + 1 of (batch, seq, hidden), if asked
  std::vector<at::Tensor> attentions;     // num_hidden_layers of (batch, heads, seq, seq), if asked
};

// The rows the unpadded path runs for `real` real tokens where shapes are bucketed: the next of
// 64, 128, ... below 512, then 8 steps per doubling (at most 12.5% extra rows), so that a run sees
// a few dozen distinct shapes instead of one per batch.
int64_t unpadded_rows(int64_t real);

// The padding mask in the two forms attention needs, built once per forward.
struct AttentionMask {
  at::Tensor keep;      // (batch, 1, 1, seq) bool, true = attend; undefined when nothing is padded
  at::Tensor additive;  // (batch, 1, 1, seq) 0 or finfo.min in the hidden dtype; same condition
  // The unpadded layout (ForwardOptions::unpad): hidden states are (tokens, hidden) rows, the
  // real tokens of the (batch, seq) grid (plus, when the row count is bucketed, the first padding
  // positions) in row-major order; `tokens` holds their flat indices
  // b * seq + t, (tokens) int64. Undefined in the padded layout.
  at::Tensor tokens;
  int64_t batch = 0, seq = 0;

  bool unpadded() const { return tokens.defined(); }
  // (tokens, width) rows -> (batch * seq, width) with zeros at the padding.
  at::Tensor pad(const at::Tensor& rows) const;

  // From a (batch, seq) mask of 1 = token, 0 = padding (any integer or bool dtype); `dtype` is the
  // floating type of the additive form. An undefined or all-ones mask gives an empty AttentionMask.
  static AttentionMask from_padding_mask(const at::Tensor& attention_mask, c10::ScalarType dtype);
};

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& config);
  // input_ids, token_type_ids: (batch, seq) int64 -> (batch, seq, hidden). With `tokens`
  // (AttentionMask::tokens) defined, only those flat positions: -> (tokens, hidden).
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& token_type_ids,
                     const at::Tensor& tokens = {});
  // Replaces word_embeddings by one with `num_tokens` rows, keeping the first rows; new rows get
  // the mean of the old ones (transformers' mean_resizing, without its 1e-9-scaled noise).
  void resize(int64_t num_tokens, const std::optional<int64_t>& padding_idx);

  torch::nn::Embedding word_embeddings{nullptr};        // (vocab, hidden)
  torch::nn::Embedding position_embeddings{nullptr};    // (max_position_embeddings, hidden)
  torch::nn::Embedding token_type_embeddings{nullptr};  // (type_vocab_size, hidden)
  torch::nn::LayerNorm LayerNorm{nullptr};              // NOLINT: the HF name
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(BertEmbeddings);

class BertSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit BertSelfAttentionImpl(const BertConfig& config);
  // hidden: (batch, seq, hidden), or (tokens, hidden) when mask.unpadded() -> context of the same
  // shape; when `probs` is non-null it receives the attention probabilities
  // (batch, heads, seq, seq). Q, K and V come from one GEMM on the concatenated weights.
  at::Tensor forward(const at::Tensor& hidden, const AttentionMask& mask, at::Tensor* probs);

  // The three projections stay separate parameters so that checkpoints load and export under
  // their transformers names; forward() concatenates them once per call.
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};  // (hidden, hidden) each

 private:
  int64_t num_heads_, head_dim_;
  double attention_dropout_;
  PackedLinear packed_qkv_;  // inference: Q, K, V packed as one oneDNN weight
};
TORCH_MODULE(BertSelfAttention);

// Attention output projection, dropout, residual, LayerNorm (HF BertSelfOutput / BertOutput).
class BertProjectionImpl : public torch::nn::Module {
 public:
  BertProjectionImpl(const BertConfig& config, int64_t in_features);
  // hidden: (batch, seq, in_features), residual: (batch, seq, hidden) -> (batch, seq, hidden)
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& residual);

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT: the HF name
  torch::nn::Dropout dropout{nullptr};

 private:
  PackedLinear packed_;  // inference: dense with the residual add fused (fp32)
};
TORCH_MODULE(BertProjection);

class BertAttentionImpl : public torch::nn::Module {
 public:
  explicit BertAttentionImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const AttentionMask& mask, at::Tensor* probs);

  BertSelfAttention self{nullptr};
  BertProjection output{nullptr};
};
TORCH_MODULE(BertAttention);

class BertIntermediateImpl : public torch::nn::Module {
 public:
  explicit BertIntermediateImpl(const BertConfig& config);
  // (batch, seq, hidden) -> (batch, seq, intermediate)
  at::Tensor forward(const at::Tensor& hidden);

  torch::nn::Linear dense{nullptr};

 private:
  // hidden_act applied to x, with transformers' formulas.
  at::Tensor activate(const at::Tensor& x) const;

  std::string activation_;
  PackedLinear packed_;  // inference: dense with GELU/ReLU fused
};
TORCH_MODULE(BertIntermediate);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& config);
  at::Tensor forward(const at::Tensor& hidden, const AttentionMask& mask, at::Tensor* probs);

  BertAttention attention{nullptr};
  BertIntermediate intermediate{nullptr};
  BertProjection output{nullptr};
};
TORCH_MODULE(BertLayer);

class BertEncoderImpl : public torch::nn::Module {
 public:
  explicit BertEncoderImpl(const BertConfig& config);
  // Runs every layer; appends to `hidden_states` / `attentions` when they are non-null.
  at::Tensor forward(at::Tensor hidden, const AttentionMask& mask,
                     std::vector<at::Tensor>* hidden_states, std::vector<at::Tensor>* attentions);

  torch::nn::ModuleList layer{nullptr};  // of BertLayer
};
TORCH_MODULE(BertEncoder);

class BertPoolerImpl : public torch::nn::Module {
 public:
  explicit BertPoolerImpl(const BertConfig& config);
  // (batch, seq, hidden) -> (batch, hidden)
  at::Tensor forward(const at::Tensor& hidden);

  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(BertPooler);

class BertModelImpl : public torch::nn::Module {
 public:
  // Builds the encoder with transformers' initialisation (normal(0, initializer_range) weights,
  // zero biases, LayerNorm 1/0, zero padding row). Without the pooler, as HF
  // BertModel(add_pooling_layer=False) for token-level heads, pooler_output stays undefined.
  explicit BertModelImpl(const BertConfig& config, bool add_pooling_layer = true);

  // input_ids: (batch, seq) int64. attention_mask: (batch, seq), 1 = token, 0 = padding;
  // undefined = no padding. token_type_ids: (batch, seq) int64; undefined = all zeros.
  // Under an AutocastScope (model/autocast.h) the matmuls run in bf16/fp16.
  BertModelOutput forward(const at::Tensor& input_ids, const at::Tensor& attention_mask = {},
                          const at::Tensor& token_type_ids = {},
                          const ForwardOptions& options = {});

  const BertConfig& config() const { return config_; }
  bool has_pooler() const { return !pooler.is_empty(); }

  // The (vocab, hidden) input embedding; an MLM decoder ties its weight to this one's.
  torch::nn::Embedding word_embeddings() const { return embeddings->word_embeddings; }
  // Grows or shrinks the vocabulary (config().vocab_size follows). The Embedding module is
  // replaced: re-tie any weight shared with it afterwards.
  void resize_token_embeddings(int64_t num_tokens);

  BertEmbeddings embeddings{nullptr};
  BertEncoder encoder{nullptr};
  BertPooler pooler{nullptr};

 private:
  // The floating type of the hidden states (that of the embedding weights).
  c10::ScalarType hidden_dtype() const;

  BertConfig config_;
};
TORCH_MODULE(BertModel);

// transformers' _init_weights for every Linear, Embedding and LayerNorm inside `module`: weights
// normal(0, std), biases zero, LayerNorm weight 1 and bias 0, Embedding padding row zero. Heads
// call it on their own modules.
// Does nothing while a SkipWeightInit is alive on this thread.
void init_bert_weights(torch::nn::Module& module, double std);

// While alive, init_bert_weights does nothing on this thread: for models whose every weight is
// about to be overwritten by a checkpoint (drawing 22 M normal numbers for MiniLM costs 0.14 s of
// a short predict run). The loaders that use it initialise and reload when a weight is missing.
class SkipWeightInit {
 public:
  SkipWeightInit();
  ~SkipWeightInit();
  SkipWeightInit(const SkipWeightInit&) = delete;
  SkipWeightInit& operator=(const SkipWeightInit&) = delete;

 private:
  bool previous_;
};

}  // namespace clintorch::model
