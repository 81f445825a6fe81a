#include "model/bert.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "model/fast_dropout.h"
#include "util/error.h"

namespace clintorch::model {

namespace F = torch::nn::functional;

// ---------------------------------------------------------------------------------------------
int64_t unpadded_rows(int64_t real) {
  int64_t step = 64;
  while (step * 16 <= real) step *= 2;  // 8 steps per doubling above 512
  return (real + step - 1) / step * step;
}

namespace {

// oneDNN runs the CPU's bf16 matmuls, and in inference the packed fp32 ones (PackedLinear), and
// caches kernels per shape; fp32 training goes to BLAS, CUDA to cuBLAS.
bool bucket_rows(const at::Tensor& like, c10::ScalarType hidden_dtype, bool training) {
  if (!like.is_cpu()) return false;
  if (hidden_dtype == torch::kBFloat16 || hidden_dtype == torch::kFloat16) return true;
  if (at::autocast::is_autocast_enabled(at::kCPU) &&
      at::autocast::get_autocast_dtype(at::kCPU) != torch::kFloat32) {
    return true;
  }
  return !training && !at::GradMode::is_enabled() && PackedLinear::available();
}

}  // namespace

AttentionMask AttentionMask::from_padding_mask(const at::Tensor& attention_mask,
                                               c10::ScalarType dtype) {
  AttentionMask m;
  if (!attention_mask.defined()) return m;
  const at::Tensor keep = attention_mask.to(torch::kBool);  // (batch, seq)
  if (keep.all().item<bool>()) return m;    // no padding: the fused kernels need no mask
  m.keep = keep.unsqueeze(1).unsqueeze(2);  // (batch, 1, 1, seq)
  // transformers' eager mask: 0 where attended, the dtype's most negative value where padded.
  const double min_value = dtype == torch::kFloat64   ? std::numeric_limits<double>::lowest()
                           : dtype == torch::kFloat16 ? -65504.0
                           : dtype == torch::kBFloat16
                               ? static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest())
                               : static_cast<double>(std::numeric_limits<float>::lowest());
  auto options = torch::TensorOptions().dtype(dtype).device(attention_mask.device());
  m.additive = torch::where(m.keep, torch::zeros({}, options), torch::full({}, min_value, options));
  return m;
}

at::Tensor AttentionMask::pad(const at::Tensor& rows) const {
  // index_copy into zeros is differentiable in `rows`; its backward is an index_select.
  return torch::zeros({batch * seq, rows.size(1)}, rows.options()).index_copy(0, tokens, rows);
}

// ---------------------------------------------------------------------------------------------
BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) {
  auto word = torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size);
  if (c.pad_token_id) word.padding_idx(*c.pad_token_id);
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(word));
  position_embeddings = register_module(
      "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings",
                                          torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor BertEmbeddingsImpl::forward(const at::Tensor& input_ids,
                                       const at::Tensor& token_type_ids, const at::Tensor& tokens) {
  const int64_t seq = input_ids.size(1);
  const auto long_options = torch::TensorOptions().dtype(torch::kLong).device(input_ids.device());
  at::Tensor ids = input_ids, types = token_type_ids, positions;
  if (tokens.defined()) {  // the real tokens only: (tokens)
    ids = input_ids.reshape({-1}).index_select(0, tokens);
    types = token_type_ids.reshape({-1}).index_select(0, tokens);
    positions = tokens.remainder(seq);  // transformers' positions are 0..seq-1 in every row
  } else {
    positions = torch::arange(seq, long_options).unsqueeze(0);  // (1, seq)
  }
  // Summed in HF's order (word + type, then + position) so fp32 rounding matches.
  at::Tensor x = word_embeddings(ids) + token_type_embeddings(types);
  x = x + position_embeddings(positions);  // (batch, seq, hidden) or (tokens, hidden)
  return fast_dropout(LayerNorm(x), dropout->options.p(), is_training());
}

void BertEmbeddingsImpl::resize(int64_t num_tokens, const std::optional<int64_t>& padding_idx) {
  torch::NoGradGuard no_grad;
  const at::Tensor old = word_embeddings->weight;  // (old_vocab, hidden)
  auto options = torch::nn::EmbeddingOptions(num_tokens, old.size(1));
  if (padding_idx && *padding_idx < num_tokens) options.padding_idx(*padding_idx);
  torch::nn::Embedding fresh(options);
  fresh->to(old.device(), old.scalar_type());
  const int64_t keep = std::min(num_tokens, old.size(0));
  fresh->weight.narrow(0, 0, keep).copy_(old.narrow(0, 0, keep));
  if (num_tokens > keep) {
    fresh->weight.narrow(0, keep, num_tokens - keep)
        .copy_(old.to(torch::kFloat32).mean(0, /*keepdim=*/true).expand({num_tokens - keep, -1}));
  }
  word_embeddings = replace_module("word_embeddings", fresh);
}

// ---------------------------------------------------------------------------------------------
BertSelfAttentionImpl::BertSelfAttentionImpl(const BertConfig& c)
    : num_heads_(c.num_attention_heads),
      head_dim_(c.head_dim()),
      attention_dropout_(c.attention_probs_dropout_prob) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

at::Tensor BertSelfAttentionImpl::forward(const at::Tensor& hidden, const AttentionMask& mask,
                                          at::Tensor* probs) {
  const int64_t hidden_size = num_heads_ * head_dim_;
  // One GEMM for Q, K and V: (rows, hidden) x (3 hidden, hidden)^T. Under autocast the cat runs
  // in fp32 and linear casts once, as it would for each projection.
  at::Tensor qkv;  // (batch, seq, 3 hidden) or (tokens, 3 hidden)
  if (PackedLinear::usable(hidden, is_training())) {
    qkv = packed_qkv_.run(hidden, {&query->weight, &key->weight, &value->weight},
                          {&query->bias, &key->bias, &value->bias}, PackedLinear::Epilogue::kNone);
  } else {
    const at::Tensor weight = torch::cat({query->weight, key->weight, value->weight});
    const at::Tensor bias = torch::cat({query->bias, key->bias, value->bias});
    qkv = torch::linear(hidden, weight, bias);
  }
  const bool unpadded = mask.unpadded();
  const int64_t batch = unpadded ? mask.batch : hidden.size(0);
  const int64_t seq = unpadded ? mask.seq : hidden.size(1);
  if (unpadded) qkv = mask.pad(qkv);  // attention needs the (batch, seq) grid
  // (batch, seq, 3, heads, head_dim) -> three (batch, heads, seq, head_dim) views
  const at::Tensor split =
      qkv.view({batch, seq, 3, num_heads_, head_dim_}).permute({2, 0, 3, 1, 4});
  const at::Tensor q = split[0], k = split[1], v = split[2];
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  at::Tensor context;  // (batch, heads, seq, head_dim)
  // With attention dropout in training on the CPU, SDPA takes its math path (the flash kernel
  // has no dropout) with torch's serial Bernoulli draws; the explicit path below is the same
  // computation with fast_dropout.
  const bool cpu_dropout = is_training() && attention_dropout_ > 0.0 && hidden.is_cpu();
  if (probs == nullptr && !cpu_dropout) {
    const double p = is_training() ? attention_dropout_ : 0.0;
    std::optional<at::Tensor> attn_mask;
    if (mask.keep.defined()) attn_mask = mask.keep;
    context = at::scaled_dot_product_attention(q, k, v, attn_mask, p, /*is_causal=*/false, scale);
  } else {
    // Explicit softmax so the probabilities can be returned (transformers' eager attention).
    at::Tensor scores = torch::matmul(q, k.transpose(2, 3)) * scale;  // (batch, heads, seq, seq)
    if (mask.additive.defined()) scores = scores + mask.additive;
    at::Tensor attention = torch::softmax(scores, -1);
    if (probs != nullptr) *probs = attention;
    attention = fast_dropout(attention, attention_dropout_, is_training());
    context = torch::matmul(attention, v);
  }
  context = context.transpose(1, 2);  // (batch, seq, heads, head_dim)
  if (unpadded) return context.reshape({batch * seq, hidden_size}).index_select(0, mask.tokens);
  return context.reshape({batch, seq, hidden_size});
}

// ---------------------------------------------------------------------------------------------
BertProjectionImpl::BertProjectionImpl(const BertConfig& c, int64_t in_features) {
  dense = register_module("dense", torch::nn::Linear(in_features, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

at::Tensor BertProjectionImpl::forward(const at::Tensor& hidden, const at::Tensor& residual) {
  if (PackedLinear::usable(hidden, is_training())) {  // no dropout: eval mode
    // fp32: the residual added in the GEMM's epilogue. Under bf16 autocast the residual stays
    // fp32 and is added after the GEMM, as torch::linear's bf16 output + an fp32 residual is.
    if (at::autocast::is_autocast_enabled(at::kCPU) ||
        hidden.scalar_type() != residual.scalar_type()) {
      return LayerNorm(
          packed_.run(hidden, {&dense->weight}, {&dense->bias}, PackedLinear::Epilogue::kNone) +
          residual);
    }
    return LayerNorm(packed_.run(hidden, {&dense->weight}, {&dense->bias},
                                 PackedLinear::Epilogue::kAdd, residual));
  }
  return LayerNorm(fast_dropout(dense(hidden), dropout->options.p(), is_training()) + residual);
}

BertAttentionImpl::BertAttentionImpl(const BertConfig& c) {
  self = register_module("self", BertSelfAttention(c));
  output = register_module("output", BertProjection(c, c.hidden_size));
}

at::Tensor BertAttentionImpl::forward(const at::Tensor& hidden, const AttentionMask& mask,
                                      at::Tensor* probs) {
  return output(self->forward(hidden, mask, probs), hidden);
}

// ---------------------------------------------------------------------------------------------
BertIntermediateImpl::BertIntermediateImpl(const BertConfig& c) : activation_(c.hidden_act) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

at::Tensor BertIntermediateImpl::forward(const at::Tensor& hidden) {
  if (PackedLinear::usable(hidden, is_training())) {
    using E = PackedLinear::Epilogue;
    const E fused = activation_ == "gelu"                ? E::kGelu
                    : activation_ == "gelu_pytorch_tanh" ? E::kGeluTanh
                    : activation_ == "relu"              ? E::kRelu
                                                         : E::kNone;
    const at::Tensor x = packed_.run(hidden, {&dense->weight}, {&dense->bias}, fused);
    return fused == E::kNone ? activate(x) : x;  // (batch, seq, intermediate)
  }
  return activate(dense(hidden));  // (batch, seq, intermediate)
}

at::Tensor BertIntermediateImpl::activate(const at::Tensor& x) const {
  // The formulas of transformers' ACT2FN, op for op, so fp32 results agree to the last bits.
  if (activation_ == "gelu") return torch::gelu(x);
  if (activation_ == "gelu_python") return x * 0.5 * (1.0 + torch::erf(x / std::sqrt(2.0)));
  if (activation_ == "gelu_new") {
    return 0.5 * x *
           (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * torch::pow(x, 3.0))));
  }
  if (activation_ == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (activation_ == "relu") return torch::relu(x);
  if (activation_ == "silu" || activation_ == "swish") return torch::silu(x);
  if (activation_ == "tanh") return torch::tanh(x);
  fail("BertIntermediate", "hidden_act '" + activation_ + "' is not supported");
}

// ---------------------------------------------------------------------------------------------
BertLayerImpl::BertLayerImpl(const BertConfig& c) {
  attention = register_module("attention", BertAttention(c));
  intermediate = register_module("intermediate", BertIntermediate(c));
  output = register_module("output", BertProjection(c, c.intermediate_size));
}

at::Tensor BertLayerImpl::forward(const at::Tensor& hidden, const AttentionMask& mask,
                                  at::Tensor* probs) {
  const at::Tensor attended = attention->forward(hidden, mask, probs);  // (batch, seq, hidden)
  return output(intermediate(attended), attended);
}

BertEncoderImpl::BertEncoderImpl(const BertConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(BertLayer(c));
}

at::Tensor BertEncoderImpl::forward(at::Tensor hidden, const AttentionMask& mask,
                                    std::vector<at::Tensor>* hidden_states,
                                    std::vector<at::Tensor>* attentions) {
  for (const auto& module : *layer) {
    at::Tensor probs;
    hidden = module->as<BertLayerImpl>()->forward(hidden, mask, attentions ? &probs : nullptr);
    if (hidden_states) hidden_states->push_back(hidden);
    if (attentions) attentions->push_back(probs);
  }
  return hidden;
}

BertPoolerImpl::BertPoolerImpl(const BertConfig& c) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

at::Tensor BertPoolerImpl::forward(const at::Tensor& hidden) {
  return torch::tanh(dense(hidden.select(1, 0)));  // first token: (batch, hidden)
}

// ---------------------------------------------------------------------------------------------
BertModelImpl::BertModelImpl(const BertConfig& config, bool add_pooling_layer) : config_(config) {
  config_.validate("BertConfig");
  embeddings = register_module("embeddings", BertEmbeddings(config_));
  encoder = register_module("encoder", BertEncoder(config_));
  if (add_pooling_layer) pooler = register_module("pooler", BertPooler(config_));
  init_bert_weights(*this, config_.initializer_range);
}

namespace {

void check_ids(const at::Tensor& ids, const char* what, int64_t limit, const char* field) {
  if (ids.numel() == 0) return;
  const auto [lo, hi] = torch::aminmax(ids);
  const int64_t min = lo.item<int64_t>(), max = hi.item<int64_t>();
  if (min < 0 || max >= limit) {
    fail("BertModel.forward",
         std::string(what) + " range from " + std::to_string(min) + " to " + std::to_string(max) +
             ", outside 0.." + std::to_string(limit - 1),
         std::string("config.json ") + field + " is " + std::to_string(limit) +
             "; the tokenizer and the model do not belong together");
  }
}

void check_shape(const at::Tensor& t, const at::Tensor& input_ids, const char* what) {
  if (t.defined() && t.sizes() != input_ids.sizes()) {
    fail("BertModel.forward", std::string(what) + " has shape " + c10::str(t.sizes()) +
                                  ", input_ids has " + c10::str(input_ids.sizes()));
  }
}

}  // namespace

BertModelOutput BertModelImpl::forward(const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask,
                                       const at::Tensor& token_type_ids,
                                       const ForwardOptions& options) {
  if (!input_ids.defined() || input_ids.dim() != 2) {
    fail("BertModel.forward", "input_ids must be a (batch, seq) tensor");
  }
  if (input_ids.scalar_type() != torch::kLong) {
    fail("BertModel.forward", "input_ids must be int64");
  }
  check_shape(attention_mask, input_ids, "attention_mask");
  check_shape(token_type_ids, input_ids, "token_type_ids");
  const at::Tensor types =
      token_type_ids.defined() ? token_type_ids.to(torch::kLong) : torch::zeros_like(input_ids);
  if (options.check_inputs) {
    if (input_ids.size(1) > config_.max_position_embeddings) {
      fail("BertModel.forward",
           "sequence length " + std::to_string(input_ids.size(1)) + " exceeds " +
               "max_position_embeddings (" + std::to_string(config_.max_position_embeddings) + ")",
           "truncate or window the input");
    }
    check_ids(input_ids, "input_ids", config_.vocab_size, "vocab_size");
    check_ids(types, "token_type_ids", config_.type_vocab_size, "type_vocab_size");
  }

  BertModelOutput out;
  AttentionMask mask = AttentionMask::from_padding_mask(attention_mask, hidden_dtype());
  if (options.unpad && !options.output_attentions && mask.keep.defined()) {
    at::Tensor rows = attention_mask.reshape({-1}).to(torch::kBool);  // (batch * seq)
    if (bucket_rows(rows, hidden_dtype(),
                    is_training())) {  // pad the row count with padding positions
      const int64_t real = rows.sum().item<int64_t>();
      const int64_t extra = std::min(unpadded_rows(real), rows.numel()) - real;
      if (extra > 0) {
        const at::Tensor pad = rows.logical_not();
        rows = rows.logical_or(pad.logical_and(pad.cumsum(0).le(extra)));
      }
    }
    mask.tokens = rows.nonzero().squeeze(1);  // (tokens) flat indices
    mask.batch = input_ids.size(0);
    mask.seq = input_ids.size(1);
  }
  at::Tensor hidden = embeddings->forward(input_ids, types, mask.tokens);
  if (options.output_hidden_states) out.hidden_states.push_back(hidden);
  hidden =
      encoder->forward(hidden, mask, options.output_hidden_states ? &out.hidden_states : nullptr,
                       options.output_attentions ? &out.attentions : nullptr);
  if (mask.unpadded()) {  // back to (batch, seq, hidden), zeros at the padding
    const std::vector<int64_t> grid = {mask.batch, mask.seq, -1};
    hidden = mask.pad(hidden).view(grid);
    for (auto& h : out.hidden_states) h = mask.pad(h).view(grid);
  }
  out.last_hidden_state = hidden;
  if (has_pooler()) out.pooler_output = pooler->forward(hidden);
  return out;
}

c10::ScalarType BertModelImpl::hidden_dtype() const {
  return embeddings->word_embeddings->weight.scalar_type();
}

void BertModelImpl::resize_token_embeddings(int64_t num_tokens) {
  if (num_tokens <= 0) {
    fail("resize_token_embeddings", std::to_string(num_tokens) + " tokens: must be positive");
  }
  embeddings->resize(num_tokens, config_.pad_token_id);
  config_.vocab_size = num_tokens;
  if (config_.pad_token_id && *config_.pad_token_id >= num_tokens) config_.pad_token_id.reset();
}

namespace {

thread_local bool skip_weight_init = false;

void init_one(torch::nn::Module& m, double std) {
  if (auto* linear = m.as<torch::nn::LinearImpl>()) {
    linear->weight.normal_(0.0, std);
    if (linear->bias.defined()) linear->bias.zero_();
  } else if (auto* embedding = m.as<torch::nn::EmbeddingImpl>()) {
    embedding->weight.normal_(0.0, std);
    if (embedding->options.padding_idx()) {
      embedding->weight[*embedding->options.padding_idx()].zero_();
    }
  } else if (auto* norm = m.as<torch::nn::LayerNormImpl>()) {
    norm->weight.fill_(1.0);
    norm->bias.zero_();
  }
}

}  // namespace

void init_bert_weights(torch::nn::Module& module, double std) {
  if (skip_weight_init) return;
  torch::NoGradGuard no_grad;
  // modules(false): `module` may still be under construction (not yet owned by a shared_ptr).
  init_one(module, std);
  for (auto& m : module.modules(/*include_self=*/false)) init_one(*m, std);
}

SkipWeightInit::SkipWeightInit() : previous_(skip_weight_init) {
  skip_weight_init = true;
}
SkipWeightInit::~SkipWeightInit() {
  skip_weight_init = previous_;
}

}  // namespace clintorch::model
