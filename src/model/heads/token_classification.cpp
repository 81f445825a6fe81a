// token_classification (NER): transformers' BertForTokenClassification, optionally with a CRF.
//
//   dropout     classifier_dropout, else hidden_dropout_prob (no parameters)
//   classifier  Linear(hidden, num_labels): per-token logits
//   crf.*       with `crf: true` only (model/heads/crf.h); transformers ignores these keys
// Loss: without CRF, CrossEntropyLoss over the tokens whose label is not -100 (optional class
// weights); with CRF, the mean over sequences of the CRF negative log-likelihood of the labelled
// tokens (moved together, in order, so the chain runs over words and skips sub-tokens).
#include <torch/torch.h>

#include "model/heads/crf.h"
#include "model/fast_dropout.h"
#include "model/heads/head.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::model {
namespace {

class TokenClassificationHead : public TaskHead {
 public:
  using TaskHead::TaskHead;

  HeadInfo info() const override {
    return {"token_classification",
            {"token_classification", "ner"},
            "ner",
            "BertForTokenClassification",
            /*uses_pooler=*/false};
  }

  void attach(torch::nn::Module& model, const BertConfig& config) override {
    if (options_.labels.empty()) {
      fail("token_classification head", "no labels",
           "give the label list (task labels), or load a checkpoint whose config.json has "
           "id2label");
    }
    dropout_ = model.register_module("dropout", torch::nn::Dropout(classifier_dropout(config)));
    classifier_ =
        model.register_module("classifier", torch::nn::Linear(config.hidden_size, num_labels()));
    init_bert_weights(*classifier_, config.initializer_range);
    if (options_.crf.value_or(false)) {
      CrfConstraints constraints;
      if (options_.crf_bio_constraints) {
        constraints = bio_constraints(options_.labels);
        if (constraints.empty()) {
          log_warning(
              "token_classification head: the labels are not BIO (IOB2) tags, so the "
              "CRF has no transition constraints");
        }
      }
      crf_ = model.register_module("crf", LinearChainCrf(num_labels(), constraints));
      if (!options_.class_weights.empty()) {
        fail("token_classification head", "class_weights cannot be combined with crf",
             "the CRF loss is a sequence likelihood; drop class_weights or the CRF");
      }
    }
    class_weights_ = weights_tensor(options_.class_weights, num_labels(),
                                    "token_classification head: class_weights",
                                    c10::Device(c10::DeviceType::CPU));
  }

  HeadOutput forward(const HeadInput& in) override {
    const at::Tensor hidden = in.encoded.last_hidden_state;  // (batch, seq, hidden)
    HeadOutput out;
    out.logits = classifier_(fast_dropout(hidden, dropout_->options.p(), dropout_->is_training()));  // (batch, seq, num_labels)
    const at::Tensor labels = batch_get(in.batch, batch_key::kLabels);
    if (!in.compute_loss || !labels.defined()) return out;
    if (labels.sizes() != hidden.sizes().slice(0, 2)) {
      fail("token_classification head", "labels have shape " + c10::str(labels.sizes()) +
                                            ", input_ids " + c10::str(hidden.sizes().slice(0, 2)));
    }
    if (!crf_.is_empty()) {
      const at::Tensor selected = labels != -100;        // (batch, seq)
      auto [index, mask] = compact_positions(selected);  // (batch, n) each
      const at::Tensor emissions = out.logits.gather(
          1, index.unsqueeze(2).expand({-1, -1, out.logits.size(2)}));  // (batch, n, labels)
      const at::Tensor tags = labels.gather(1, index);                  // (batch, n)
      const at::Tensor nll = crf_->nll(emissions, tags, mask);          // (batch)
      out.loss_sum = nll.sum();
      out.loss_weight = mask.any(1).sum().to(torch::kFloat32);  // sequences with labels
      out.loss = out.loss_sum / out.loss_weight;
      return out;
    }
    const LossParts loss = cross_entropy_parts(out.logits.reshape({-1, out.logits.size(2)}),
                                               labels.reshape({-1}), class_weights_);
    out.loss = loss.mean;
    out.loss_sum = loss.sum;
    out.loss_weight = loss.weight;
    return out;
  }

  at::Tensor decode(const HeadOutput& output, const Batch& batch) const override {
    torch::NoGradGuard no_grad;
    const at::Tensor logits = output.logits;  // (batch, seq, num_labels)
    at::Tensor select;                        // (batch, seq) bool: tokens that get a label
    if (const at::Tensor labels = batch_get(batch, batch_key::kLabels); labels.defined()) {
      select = labels != -100;
    } else if (const at::Tensor m = batch_get(batch, batch_key::kLabelMask); m.defined()) {
      select = m.to(torch::kBool);
    } else if (const at::Tensor m = batch_get(batch, batch_key::kAttentionMask); m.defined()) {
      select = m.to(torch::kBool);
    } else {
      select = torch::ones(logits.sizes().slice(0, 2), logits.options().dtype(torch::kBool));
    }
    const at::Tensor ignored = torch::full({}, -100, torch::TensorOptions().dtype(torch::kLong));
    if (crf_.is_empty())
      return torch::where(select, logits.argmax(-1), ignored.to(logits.device()));

    auto [index, mask] = compact_positions(select);  // (batch, n) each
    const at::Tensor emissions =
        logits.gather(1, index.unsqueeze(2).expand({-1, -1, logits.size(2)}));  // (batch, n, L)
    const std::vector<std::vector<int64_t>> paths = crf_->viterbi(emissions, mask);
    at::Tensor out = torch::full(logits.sizes().slice(0, 2), -100, torch::kLong);  // (batch, seq)
    const at::Tensor cpu_index = index.cpu();
    auto idx = cpu_index.accessor<int64_t, 2>();
    auto acc = out.accessor<int64_t, 2>();
    for (size_t b = 0; b < paths.size(); ++b) {
      for (size_t t = 0; t < paths[b].size(); ++t) acc[b][idx[b][t]] = paths[b][t];
    }
    return out.to(logits.device());
  }

  void write_config(nlohmann::json& config) const override {
    write_labels(config);
    config["clintorch"] = {{"head", "token_classification"},
                           {"crf", options_.crf.value_or(false)},
                           {"crf_bio_constraints", options_.crf_bio_constraints}};
  }

 private:
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear classifier_{nullptr};
  LinearChainCrf crf_{nullptr};
  at::Tensor class_weights_;  // (num_labels) or undefined
};

}  // namespace

std::unique_ptr<TaskHead> make_token_classification_head(const HeadOptions& options) {
  return std::make_unique<TokenClassificationHead>(options);
}

}  // namespace clintorch::model
