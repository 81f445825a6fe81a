// mlm: masked-language-model head, transformers' BertForMaskedLM.
//
//   cls.predictions.transform.dense       Linear(hidden, hidden)
//   cls.predictions.transform.LayerNorm   after the config's hidden_act
//   cls.predictions.bias                  (vocab) output bias
//   decoder weight                        TIED to bert.embeddings.word_embeddings.weight (not
//                                         stored; older checkpoints' cls.predictions.decoder.*
//                                         copies are skipped on load)
// Training: with labels (-100 = not masked) the transform and the (hidden x vocab) decoder run
// only on the masked rows, (n_masked, vocab) instead of (batch, seq, vocab): the same loss as
// transformers' CrossEntropyLoss over every position, for ~15% of the work.
#include <torch/torch.h>

#include <cmath>

#include "model/heads/head.h"
#include "util/error.h"

namespace clintorch::model {
namespace {

// transformers' ACT2FN formulas, as the encoder's feed-forward layer applies them (bert.cpp).
at::Tensor activation(const std::string& name, const at::Tensor& x) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_python") return x * 0.5 * (1.0 + torch::erf(x / std::sqrt(2.0)));
  if (name == "gelu_new") {
    return 0.5 * x *
           (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * torch::pow(x, 3.0))));
  }
  if (name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  if (name == "tanh") return torch::tanh(x);
  fail("mlm head", "hidden_act '" + name + "' is not supported");
}

// HF BertPredictionHeadTransform: dense, activation, LayerNorm.
class PredictionTransformImpl : public torch::nn::Module {
 public:
  explicit PredictionTransformImpl(const BertConfig& c) : activation_(c.hidden_act) {
    dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
    LayerNorm = register_module(
        "LayerNorm",
        torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  }
  // (..., hidden) -> (..., hidden)
  at::Tensor forward(const at::Tensor& x) { return LayerNorm(activation(activation_, dense(x))); }

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT: the HF name

 private:
  std::string activation_;
};
TORCH_MODULE(PredictionTransform);

// HF BertLMPredictionHead minus the tied decoder weight.
class LmPredictionImpl : public torch::nn::Module {
 public:
  explicit LmPredictionImpl(const BertConfig& c) {
    transform = register_module("transform", PredictionTransform(c));
    bias = register_parameter("bias", torch::zeros({c.vocab_size}));
  }
  PredictionTransform transform{nullptr};
  at::Tensor bias;  // (vocab)
};
TORCH_MODULE(LmPrediction);

class MlmHead : public TaskHead {
 public:
  using TaskHead::TaskHead;

  HeadInfo info() const override {
    HeadInfo info{"mlm", {"mlm"}, "mlm", "BertForMaskedLM", /*uses_pooler=*/false};
    info.uses_word_embeddings = true;  // the tied decoder
    return info;
  }

  void attach(torch::nn::Module& model, const BertConfig& config) override {
    if (config.extra.contains("tie_word_embeddings") &&
        config.extra["tie_word_embeddings"] == false) {
      fail("mlm head", "config.json has tie_word_embeddings false",
           "only the tied decoder of BERT checkpoints is supported");
    }
    predictions_ = LmPrediction(config);
    auto cls = std::make_shared<torch::nn::Module>();
    cls->register_module("predictions", predictions_);
    model.register_module("cls", cls);
    init_bert_weights(*predictions_, config.initializer_range);  // bias stays zero, as HF
  }

  HeadOutput forward(const HeadInput& in) override {
    const at::Tensor hidden = in.encoded.last_hidden_state;  // (batch, seq, hidden)
    const at::Tensor labels = batch_get(in.batch, batch_key::kLabels);
    const bool with_loss = in.compute_loss && labels.defined();
    at::Tensor select;  // (batch, seq) bool: rows to compute logits for
    if (with_loss && options_.mlm_masked_only) {
      select = labels != -100;
    } else if (const at::Tensor m = batch_get(in.batch, batch_key::kPredictionMask); m.defined()) {
      select = m.to(torch::kBool);
    }
    if (with_loss && labels.sizes() != hidden.sizes().slice(0, 2)) {
      fail("mlm head", "labels have shape " + c10::str(labels.sizes()) + ", input_ids " +
                           c10::str(hidden.sizes().slice(0, 2)));
    }
    const at::Tensor decoder = in.bert.word_embeddings()->weight;  // (vocab, hidden), tied
    HeadOutput out;
    LossParts loss;
    if (select.defined()) {
      if (select.sizes() != hidden.sizes().slice(0, 2)) {
        fail("mlm head", "prediction_mask has shape " + c10::str(select.sizes()) + ", input_ids " +
                             c10::str(hidden.sizes().slice(0, 2)));
      }
      out.positions = select.reshape({-1}).nonzero().squeeze(1);  // (n)
      const at::Tensor rows =
          hidden.reshape({-1, hidden.size(2)}).index_select(0, out.positions);  // (n, hidden)
      out.logits = torch::linear(predictions_->transform(rows), decoder,
                                 predictions_->bias);  // (n, vocab)
      if (with_loss) {
        loss = cross_entropy_parts(out.logits, labels.reshape({-1}).index_select(0, out.positions));
      }
    } else {
      out.logits = torch::linear(predictions_->transform(hidden), decoder,
                                 predictions_->bias);  // (batch, seq, vocab)
      if (with_loss) {
        loss =
            cross_entropy_parts(out.logits.reshape({-1, out.logits.size(2)}), labels.reshape({-1}));
      }
    }
    out.loss = loss.mean;
    out.loss_sum = loss.sum;
    out.loss_weight = loss.weight;
    return out;
  }

  at::Tensor decode(const HeadOutput& output, const Batch&) const override {
    return output.logits.argmax(-1);
  }

  void write_config(nlohmann::json& config) const override {
    TaskHead::write_config(config);
    config["tie_word_embeddings"] = true;
  }

  std::vector<std::string> ignored_checkpoint_keys() const override {
    return {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"};
  }

  void on_vocab_resized(int64_t vocab_size) override {
    torch::NoGradGuard no_grad;
    const at::Tensor old = predictions_->bias;  // (old_vocab)
    at::Tensor fresh = torch::zeros({vocab_size}, old.options());
    const int64_t keep = std::min(vocab_size, old.size(0));
    fresh.narrow(0, 0, keep).copy_(old.narrow(0, 0, keep));
    predictions_->bias.set_data(fresh);  // same parameter, new size
  }

 private:
  LmPrediction predictions_{nullptr};
};

}  // namespace

std::unique_ptr<TaskHead> make_mlm_head(const HeadOptions& options) {
  return std::make_unique<MlmHead>(options);
}

}  // namespace clintorch::model
