// token_classification: window predictions merged per word (the first sub-token's label),
// entities and metrics as seqeval reads them.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include "data/dataset.h"
#include "data/windows.h"
#include "eval/metric_common.h"
#include "eval/ner_metrics.h"
#include "eval/task_scoring.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::eval {
namespace {

// NER: label_mask (batch, seq) marking the first sub-token of each word, for unlabeled batches
// (what the labels' != -100 gives on labelled ones), so a CRF decodes the same positions.
at::Tensor ner_label_mask(const data::TaskDataset& d, const data::Batch& b) {
  const int64_t n = b.input_ids.size(0), s = b.input_ids.size(1);
  at::Tensor mask = torch::zeros({n, s}, torch::kBool);  // (batch, seq)
  bool* m = mask.data_ptr<bool>();
  for (int64_t r = 0; r < n; ++r) {
    const data::Feature& f = d.features[b.feature_indices[static_cast<size_t>(r)]];
    const data::WordIndex& wi = d.words.at(f.example);
    for (uint32_t p = 0; p < f.token_count && p + 1 < f.word_ids.size(); ++p) {
      const int32_t w = f.word_ids[p + 1];
      if (w < 0) continue;
      if (wi.word_first_token.at(static_cast<size_t>(w)) == static_cast<int32_t>(f.token_begin + p))
        m[r * s + p + 1] = true;
    }
  }
  return mask;
}

void finish_ner(const data::TaskDataset& d, const model::TaskModel& m,
                const data::NerWindowMerger& merger, const TaskEvalOptions& o, TaskEvalResult& r) {
  const auto& labels = m->head().labels();
  const auto& preds = merger.word_predictions();
  const auto& scores = merger.word_scores();
  data::TagScheme scheme = data::TagScheme::kIOB2;
  try {
    scheme = data::parse_tag_scheme(o.tag_scheme);
  } catch (const Error&) {
    scheme = data::TagScheme::kIOB2;  // only shapes entities for the prediction JSON
  }
  std::vector<std::vector<std::string>> gold_all, pred_all;
  for (size_t e = 0; e < d.ner.size(); ++e) {
    const data::NerExample& ex = d.ner[e];
    std::vector<std::string> tags(ex.words.size());
    for (size_t w = 0; w < ex.words.size(); ++w) {
      const int32_t id = w < preds[e].size() ? preds[e][w] : -1;
      if (id >= 0 && static_cast<size_t>(id) < labels.size())
        tags[w] = labels[static_cast<size_t>(id)];
    }
    if (d.labeled && o.compute_metrics) {
      // Words the tokenizer drops have no sub-token, hence no prediction; HF run_ner never sees
      // them either (they have no word_id), so they are left out of both sides.
      std::vector<std::string> g, p;
      const auto& first = d.words.at(e).word_first_token;
      for (size_t w = 0; w < ex.words.size() && w < ex.tags.size(); ++w) {
        if (first.at(w) < 0) continue;
        g.push_back(ex.tags[w]);
        p.push_back(tags[w].empty() ? "O" : tags[w]);
      }
      gold_all.push_back(std::move(g));
      pred_all.push_back(std::move(p));
    }
    if (o.keep_predictions) {
      nlohmann::json j = prediction_base(ex.id, ex.line);
      nlohmann::json ents = nlohmann::json::array();
      if (ex.word_spans.size() == ex.words.size() && !ex.text.empty()) {
        for (const data::TextEntity& t : data::text_entities(ex, tags, scores[e], scheme)) {
          ents.push_back(
              {{"start", t.start}, {"end", t.end}, {"label", t.label}, {"score", t.score}});
        }
      } else {
        const std::string outside = "O";
        std::vector<std::string> t;
        t.reserve(tags.size());
        for (const std::string& x : tags) t.push_back(x.empty() ? outside : x);
        for (const data::TagSpan& s : data::tags_to_spans(
                 t, scheme == data::TagScheme::kNone ? data::TagScheme::kIOB2 : scheme)) {
          float sum = 0.0f;
          for (size_t w = s.begin; w < s.end; ++w) sum += scores[e][w];
          ents.push_back({{"word_start", s.begin},
                          {"word_end", s.end},
                          {"label", s.type},
                          {"score", sum / static_cast<float>(s.end - s.begin)}});
        }
        j["tags"] = t;
      }
      j["entities"] = std::move(ents);
      r.predictions.push_back(std::move(j));
    }
  }
  if (!(d.labeled && o.compute_metrics) || gold_all.empty()) return;
  NerMetricsOptions mo;
  mo.mode = parse_ner_mode(o.seqeval_mode);
  if (mo.mode == NerMode::kStrict) mo.scheme = parse_tag_scheme(o.tag_scheme);
  const NerReport report = ner_report(gold_all, pred_all, mo);
  r.scalars["precision"] = report.micro.precision;
  r.scalars["recall"] = report.micro.recall;
  r.scalars["f1"] = report.micro.f1;
  r.scalars["accuracy"] = report.token_accuracy;
  r.metrics = to_json(report);
  r.table = format_table(report);
}

class NerScorer : public TaskScorer {
 public:
  NerScorer(const data::TaskDataset& d, model::TaskModel& m)
      : d_(d), model_(m), merger_(d.features, d.words) {}

  void prepare(const data::Batch& cpu, model::Batch& batch, const c10::Device& device) override {
    if (!d_.labeled) batch[model::batch_key::kLabelMask] = ner_label_mask(d_, cpu).to(device);
  }

  void add(const std::vector<size_t>& indices, const data::Batch&, const model::Batch& batch,
           const model::HeadOutput& out) override {
    const at::Tensor pred = model_->decode(out, batch);  // (batch, seq) int64, -100 = none
    const at::Tensor probs = torch::softmax(out.logits.to(torch::kFloat32), -1);  // (b, s, L)
    const at::Tensor score =
        probs.gather(2, pred.clamp_min(0).unsqueeze(2)).squeeze(2);  // (batch, seq)
    merger_.add(indices, pred, &score);
  }

  void finish(const TaskEvalOptions& o, TaskEvalResult& r) override {
    finish_ner(d_, model_, merger_, o, r);
  }

 private:
  const data::TaskDataset& d_;
  model::TaskModel& model_;
  data::NerWindowMerger merger_;
};

std::unique_ptr<TaskScorer> make(const data::Dataset& dataset, model::TaskModel& m,
                                 const TaskEvalOptions&) {
  return std::make_unique<NerScorer>(dynamic_cast<const data::TaskDataset&>(dataset), m);
}

std::vector<std::string> names(data::ProblemType, bool) {
  return {"precision", "recall", "f1", "accuracy"};
}

}  // namespace

const TaskEvalOps& ner_eval_ops() {
  static const TaskEvalOps ops{data::Task::kTokenClassification, &make, &names};
  return ops;
}

}  // namespace clintorch::eval
