// sequence_classification: transformers' BertForSequenceClassification, for one text or a text
// pair (MedNLI-style; the pair is the tokenizer's two segments).
//
//   bert.pooler   tanh(dense(h[CLS])), part of the encoder
//   dropout       classifier_dropout, else hidden_dropout_prob (no parameters)
//   classifier    Linear(hidden, num_labels)
// problem_type (stored in config.json as transformers does):
//   single_label_classification  CrossEntropyLoss, optional class weights; labels (batch) int64
//   multi_label_classification   BCEWithLogitsLoss; labels (batch, num_labels) 0/1; decode()
//                                applies a threshold per label to sigmoid(logits)
//   regression                   MSELoss; labels (batch) float for one label
#include <torch/torch.h>

#include "model/fast_dropout.h"
#include "model/heads/head.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::model {
namespace {

constexpr char kSingle[] = "single_label_classification";
constexpr char kMulti[] = "multi_label_classification";
constexpr char kRegression[] = "regression";

class SequenceClassificationHead : public TaskHead {
 public:
  explicit SequenceClassificationHead(HeadOptions options) : TaskHead(std::move(options)) {
    if (options_.problem_type.empty()) {
      options_.problem_type = options_.labels.size() == 1 ? kRegression : kSingle;
    }
    if (options_.problem_type == kRegression && options_.labels.empty()) {
      options_.labels = {"LABEL_0"};  // transformers' name of a lone label
    }
  }

  HeadInfo info() const override {
    const std::string& p = options_.problem_type;
    return {"sequence_classification",
            {"sequence_classification", "classification"},
            p == kMulti        ? "multilabel"
            : p == kRegression ? "regression"
                               : "classification",
            "BertForSequenceClassification",
            /*uses_pooler=*/true};
  }

  void attach(torch::nn::Module& model, const BertConfig& config) override {
    const std::string& p = options_.problem_type;
    const std::string where = "sequence_classification head";
    if (p != kSingle && p != kMulti && p != kRegression) {
      fail(where,
           "unknown problem_type '" + p + "'" + did_you_mean(p, {kSingle, kMulti, kRegression}),
           std::string("use ") + kSingle + ", " + kMulti + " or " + kRegression);
    }
    if (p == kSingle && num_labels() < 2) {
      fail(where,
           "single-label classification needs at least 2 labels, got " +
               std::to_string(num_labels()),
           "give the label list (task labels), or load a checkpoint whose config.json has "
           "id2label");
    }
    if (p == kMulti && num_labels() < 1) {
      fail(where, "multi-label classification needs the label list",
           "give the label list (task labels), or load a checkpoint whose config.json has "
           "id2label");
    }
    if (!options_.class_weights.empty() && p != kSingle) {
      fail(where, "class_weights apply to single_label_classification only, not " + p);
    }
    if (!options_.thresholds.empty()) {
      if (p != kMulti) fail(where, "thresholds apply to multi_label_classification only");
      if (options_.thresholds.size() != 1 &&
          static_cast<int64_t>(options_.thresholds.size()) != num_labels()) {
        fail(where,
             std::to_string(options_.thresholds.size()) + " thresholds for " +
                 std::to_string(num_labels()) + " labels",
             "give one threshold for all labels or one per label");
      }
    }
    dropout_ = model.register_module("dropout", torch::nn::Dropout(classifier_dropout(config)));
    classifier_ =
        model.register_module("classifier", torch::nn::Linear(config.hidden_size, num_labels()));
    init_bert_weights(*classifier_, config.initializer_range);
    class_weights_ = weights_tensor(options_.class_weights, num_labels(), where + ": class_weights",
                                    c10::Device(c10::DeviceType::CPU));
  }

  HeadOutput forward(const HeadInput& in) override {
    const at::Tensor pooled = in.encoded.pooler_output;  // (batch, hidden)
    HeadOutput out;
    out.logits = classifier_(fast_dropout(pooled, dropout_->options.p(), dropout_->is_training()));  // (batch, num_labels)
    const at::Tensor labels = batch_get(in.batch, batch_key::kLabels);
    if (!in.compute_loss || !labels.defined()) return out;
    const at::Tensor logits = out.logits.to(torch::kFloat32);
    const std::string& p = options_.problem_type;
    if (p == kSingle) {
      if (labels.is_floating_point() || labels.numel() != logits.size(0)) {
        fail("sequence_classification head",
             "single-label targets must be (batch) class ids, got " +
                 std::string(c10::toString(labels.scalar_type())) + " " + c10::str(labels.sizes()),
             "for 0/1 vectors set problem_type: multi_label_classification; for scores, "
             "regression");
      }
      const LossParts loss = cross_entropy_parts(logits, labels.reshape({-1}), class_weights_);
      out.loss = loss.mean;
      out.loss_sum = loss.sum;
      out.loss_weight = loss.weight;
      return out;
    }
    at::Tensor target = labels.to(torch::kFloat32);
    at::Tensor input = logits;
    if (p == kRegression && num_labels() == 1) {
      // transformers squeezes both: (batch, 1) logits against (batch) or (batch, 1) labels.
      input = input.reshape({-1});
      target = target.reshape({-1});
    }
    if (input.sizes() != target.sizes()) {
      fail("sequence_classification head",
           p + " labels have shape " + c10::str(labels.sizes()) + ", expected " +
               c10::str(input.sizes()),
           p == kMulti ? "multi-label targets are (batch, num_labels) of 0/1"
                       : "regression targets are (batch, num_labels) floats");
    }
    namespace F = torch::nn::functional;
    out.loss_sum = p == kMulti
                       ? F::binary_cross_entropy_with_logits(
                             input, target,
                             F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kSum))
                       : F::mse_loss(input, target, F::MSELossFuncOptions().reduction(torch::kSum));
    out.loss_weight =
        torch::full({}, static_cast<double>(input.numel()), input.options().dtype(torch::kFloat32));
    out.loss = out.loss_sum / out.loss_weight;
    return out;
  }

  at::Tensor decode(const HeadOutput& output, const Batch&) const override {
    const std::string& p = options_.problem_type;
    if (p == kSingle) return output.logits.argmax(-1);
    if (p == kRegression) return output.logits.to(torch::kFloat32);
    std::vector<double> t = options_.thresholds;
    if (t.empty()) t = {0.5};
    if (t.size() == 1) t.assign(num_labels(), t[0]);
    const at::Tensor thresholds =
        torch::tensor(t, torch::kFloat64).to(output.logits.device(), torch::kFloat32);  // (labels)
    return (torch::sigmoid(output.logits.to(torch::kFloat32)) >= thresholds).to(torch::kLong);
  }

  void write_config(nlohmann::json& config) const override {
    write_labels(config);
    config["problem_type"] = options_.problem_type;
    config["clintorch"] = {{"head", "sequence_classification"}};
    if (!options_.thresholds.empty()) config["clintorch"]["thresholds"] = options_.thresholds;
  }

 private:
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear classifier_{nullptr};
  at::Tensor class_weights_;  // (num_labels) or undefined
};

}  // namespace

std::unique_ptr<TaskHead> make_sequence_classification_head(const HeadOptions& options) {
  return std::make_unique<SequenceClassificationHead>(options);
}

}  // namespace clintorch::model
