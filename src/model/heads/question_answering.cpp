// question_answering: transformers' BertForQuestionAnswering (extractive QA, SQuAD v1/v2).
//
//   qa_outputs  Linear(hidden, 2): start and end logits per token (no dropout, as transformers)
// Loss: the mean of the start and end cross-entropies, positions clamped to 0..seq and seq
// ignored (transformers' handling of answers outside the window). "No answer" (SQuAD v2) is the
// [CLS] token, index 0, for both positions.
#include <torch/torch.h>

#include <limits>

#include "model/heads/head.h"
#include "util/error.h"

namespace clintorch::model {
namespace {

class QuestionAnsweringHead : public TaskHead {
 public:
  using TaskHead::TaskHead;

  HeadInfo info() const override {
    return {"question_answering",
            {"question_answering", "qa"},
            "qa",
            "BertForQuestionAnswering",
            /*uses_pooler=*/false,
            /*reads_padding=*/true};
  }

  void attach(torch::nn::Module& model, const BertConfig& config) override {
    if (options_.max_answer_length < 1) {
      fail("question_answering head", "max_answer_length must be at least 1, got " +
                                          std::to_string(options_.max_answer_length));
    }
    qa_outputs_ = model.register_module("qa_outputs", torch::nn::Linear(config.hidden_size, 2));
    init_bert_weights(*qa_outputs_, config.initializer_range);
  }

  HeadOutput forward(const HeadInput& in) override {
    HeadOutput out;
    out.logits = qa_outputs_(in.encoded.last_hidden_state);   // (batch, seq, 2)
    out.start_logits = out.logits.select(2, 0).contiguous();  // (batch, seq)
    out.end_logits = out.logits.select(2, 1).contiguous();    // (batch, seq)
    const at::Tensor start = batch_get(in.batch, batch_key::kStartPositions);
    const at::Tensor end = batch_get(in.batch, batch_key::kEndPositions);
    if (!in.compute_loss || !start.defined() || !end.defined()) return out;
    const int64_t ignored = out.start_logits.size(1);
    auto positions = [&](const at::Tensor& p) {  // (batch) or (batch, 1) -> (batch)
      return (p.dim() > 1 ? p.squeeze(-1) : p).to(torch::kLong).clamp(0, ignored);
    };
    const LossParts s = cross_entropy_parts(out.start_logits, positions(start), {}, ignored);
    const LossParts e = cross_entropy_parts(out.end_logits, positions(end), {}, ignored);
    out.loss = (s.mean + e.mean) / 2;
    out.loss_weight = torch::full({}, static_cast<double>(out.start_logits.size(0)),
                                  out.loss.options());  // examples
    out.loss_sum = out.loss * out.loss_weight;
    return out;
  }

  // The best span per example: start <= end, at most max_answer_length tokens, both inside the
  // context (context_mask, else token_type_ids == 1, else every real token but [CLS]). With
  // null_score_threshold, (0, 0) when start[0] + end[0] exceeds the best span's score by more.
  at::Tensor decode(const HeadOutput& output, const Batch& batch) const override {
    torch::NoGradGuard no_grad;
    const at::Tensor start = output.start_logits.to(torch::kFloat32);  // (batch, seq)
    const at::Tensor end = output.end_logits.to(torch::kFloat32);      // (batch, seq)
    const int64_t seq = start.size(1);
    at::Tensor context;  // (batch, seq) bool
    if (const at::Tensor m = batch_get(batch, batch_key::kContextMask); m.defined()) {
      context = m.to(torch::kBool);
    } else if (const at::Tensor t = batch_get(batch, batch_key::kTokenTypeIds); t.defined()) {
      context = t == 1;
    } else {
      context = torch::ones_like(start, torch::kBool);
      context.select(1, 0).fill_(false);
    }
    if (const at::Tensor m = batch_get(batch, batch_key::kAttentionMask); m.defined()) {
      context = context & m.to(torch::kBool);
    }
    const at::Tensor pos = torch::arange(seq, start.options().dtype(torch::kLong));
    const at::Tensor length = pos.unsqueeze(0) - pos.unsqueeze(1);  // (seq, seq): end - start
    const at::Tensor band = (length >= 0) & (length < options_.max_answer_length);
    const at::Tensor valid =
        band.unsqueeze(0) & context.unsqueeze(2) & context.unsqueeze(1);  // (batch, seq, seq)
    const at::Tensor scores =
        torch::where(valid, start.unsqueeze(2) + end.unsqueeze(1),
                     torch::full({}, -std::numeric_limits<float>::infinity(), start.options()));
    const auto [best, flat] = scores.reshape({start.size(0), -1}).max(1);  // (batch) each
    at::Tensor spans = torch::stack({torch::div(flat, seq, "floor"), flat % seq}, 1);  // (batch, 2)
    at::Tensor null = ~valid.reshape({start.size(0), -1}).any(1);  // no candidate at all
    if (options_.null_score_threshold) {
      const at::Tensor null_score = start.select(1, 0) + end.select(1, 0);  // (batch)
      null = null | (null_score - best > *options_.null_score_threshold);
    }
    return torch::where(null.unsqueeze(1), torch::zeros_like(spans), spans);
  }

  void write_config(nlohmann::json& config) const override {
    config["clintorch"] = {{"head", "question_answering"},
                           {"max_answer_length", options_.max_answer_length}};
    if (options_.null_score_threshold) {
      config["clintorch"]["null_score_threshold"] = *options_.null_score_threshold;
    }
  }

 private:
  torch::nn::Linear qa_outputs_{nullptr};
};

}  // namespace

std::unique_ptr<TaskHead> make_question_answering_head(const HeadOptions& options) {
  return std::make_unique<QuestionAnsweringHead>(options);
}

}  // namespace clintorch::model
