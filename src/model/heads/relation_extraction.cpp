// relation_extraction: a relation label for an entity pair marked in the input. transformers has
// no class for it; two poolings are supported:
//
// pooling: entity_start (default; Baldini Soares et al. 2019, "entity start" variant)
//   The input carries marker tokens around the entities, "[E1] aspirin [/E1] ... [E2] ...
//   [/E2]", added to the vocabulary (TaskHead::required_tokens; the embeddings are resized). The
//   batch gives the positions of the [E1] and [E2] tokens (entity_positions, (batch, 2)).
//     dropout     classifier_dropout, else hidden_dropout_prob
//     classifier  Linear(2 * hidden, num_labels) on concat(h[E1], h[E2])
//   Exported as architectures ["ClintorchBertForRelationExtraction"] with "bert.*" and
//   "classifier.*" keys and "clintorch": {"head": "relation_extraction", "pooling":
//   "entity_start", "entity_markers": [...]}: our loader reads it; transformers' AutoModel loads
//   its encoder.
//
// pooling: cls (BLUE-style input with the entities replaced by @GENE$, @CHEMICAL$, @DISEASE$)
//   Exactly sequence_classification with single-label cross-entropy (pooler, dropout,
//   classifier), exported as BertForSequenceClassification.
#include <torch/torch.h>

#include "model/fast_dropout.h"
#include "model/heads/head.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::model {

std::unique_ptr<TaskHead> make_sequence_classification_head(const HeadOptions& options);

namespace {

constexpr char kEntityStart[] = "entity_start";
constexpr char kCls[] = "cls";

HeadOptions with_defaults(HeadOptions o) {
  if (o.pooling.empty()) o.pooling = kEntityStart;
  return o;
}

class RelationExtractionHead : public TaskHead {
 public:
  explicit RelationExtractionHead(HeadOptions options)
      : TaskHead(with_defaults(std::move(options))) {
    if (options_.pooling == kCls) {
      HeadOptions inner = options_;
      inner.problem_type = "single_label_classification";
      inner.thresholds.clear();
      cls_head_ = make_sequence_classification_head(inner);
    }
  }

  HeadInfo info() const override {
    const bool cls = options_.pooling == kCls;
    return {"relation_extraction",
            {"relation_extraction", "re"},
            "re",
            cls ? "BertForSequenceClassification" : "ClintorchBertForRelationExtraction",
            /*uses_pooler=*/cls};
  }

  void attach(torch::nn::Module& model, const BertConfig& config) override {
    const std::string where = "relation_extraction head";
    if (options_.pooling != kEntityStart && options_.pooling != kCls) {
      fail(where,
           "unknown pooling '" + options_.pooling + "'" +
               did_you_mean(options_.pooling, {kEntityStart, kCls}),
           "use entity_start (entity markers) or cls (BLUE-style masked entities)");
    }
    if (num_labels() < 2) {
      fail(where, "needs at least 2 labels, got " + std::to_string(num_labels()),
           "give the label list (task labels), or load a checkpoint whose config.json has "
           "id2label");
    }
    if (cls_head_) {
      cls_head_->attach(model, config);
      return;
    }
    if (options_.entity_markers.size() != 4) {
      fail(where,
           "entity_markers needs 4 tokens (head start, head end, tail start, tail end), got " +
               std::to_string(options_.entity_markers.size()));
    }
    dropout_ = model.register_module("dropout", torch::nn::Dropout(classifier_dropout(config)));
    classifier_ = model.register_module("classifier",
                                        torch::nn::Linear(2 * config.hidden_size, num_labels()));
    init_bert_weights(*classifier_, config.initializer_range);
    class_weights_ = weights_tensor(options_.class_weights, num_labels(), where + ": class_weights",
                                    c10::Device(c10::DeviceType::CPU));
  }

  HeadOutput forward(const HeadInput& in) override {
    if (cls_head_) return cls_head_->forward(in);
    const at::Tensor hidden = in.encoded.last_hidden_state;  // (batch, seq, hidden)
    const at::Tensor positions =
        batch_require(in.batch, batch_key::kEntityPositions, "relation_extraction");
    check_positions(positions, hidden.size(0), hidden.size(1));
    const at::Tensor index = positions.to(torch::kLong)
                                 .unsqueeze(2)
                                 .expand({-1, -1, hidden.size(2)});  // (batch, 2, hidden)
    const at::Tensor pooled =
        hidden.gather(1, index).reshape({hidden.size(0), 2 * hidden.size(2)});  // (batch, 2H)
    HeadOutput out;
    out.logits = classifier_(fast_dropout(pooled, dropout_->options.p(), dropout_->is_training()));  // (batch, num_labels)
    const at::Tensor labels = batch_get(in.batch, batch_key::kLabels);
    if (!in.compute_loss || !labels.defined()) return out;
    const LossParts loss = cross_entropy_parts(out.logits, labels.reshape({-1}), class_weights_);
    out.loss = loss.mean;
    out.loss_sum = loss.sum;
    out.loss_weight = loss.weight;
    return out;
  }

  at::Tensor decode(const HeadOutput& output, const Batch& batch) const override {
    if (cls_head_) return cls_head_->decode(output, batch);
    return output.logits.argmax(-1);
  }

  void write_config(nlohmann::json& config) const override {
    write_labels(config);
    nlohmann::json block = {{"head", "relation_extraction"}, {"pooling", options_.pooling}};
    if (cls_head_) {
      config["problem_type"] = "single_label_classification";
    } else {
      block["entity_markers"] = options_.entity_markers;
    }
    config["clintorch"] = block;
  }

  std::vector<std::string> required_tokens() const override {
    return cls_head_ ? std::vector<std::string>{} : options_.entity_markers;
  }

 private:
  static void check_positions(const at::Tensor& positions, int64_t batch, int64_t seq) {
    const std::string where = "relation_extraction head";
    if (positions.dim() != 2 || positions.size(0) != batch || positions.size(1) != 2) {
      fail(where, "entity_positions has shape " + c10::str(positions.sizes()) + ", expected [" +
                      std::to_string(batch) + ", 2]");
    }
    if (positions.numel() == 0) return;
    const auto [lo, hi] = torch::aminmax(positions);
    if (lo.item<int64_t>() < 0 || hi.item<int64_t>() >= seq) {
      fail(where,
           "entity_positions range from " + std::to_string(lo.item<int64_t>()) + " to " +
               std::to_string(hi.item<int64_t>()) + ", outside the sequence (0.." +
               std::to_string(seq - 1) + ")",
           "an entity marker was truncated away; raise max_seq_length or drop such examples");
    }
  }

  std::unique_ptr<TaskHead> cls_head_;  // pooling cls: the sequence_classification head
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear classifier_{nullptr};
  at::Tensor class_weights_;  // (num_labels) or undefined
};

}  // namespace

std::unique_ptr<TaskHead> make_relation_extraction_head(const HeadOptions& options) {
  return std::make_unique<RelationExtractionHead>(options);
}

}  // namespace clintorch::model
