#include "eval/task_eval.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "data/dataset.h"
#include "eval/classification_metrics.h"
#include "eval/ner_metrics.h"
#include "eval/qa_metrics.h"
#include "eval/regression_metrics.h"
#include "model/autocast.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::eval {

namespace {

constexpr char kWhere[] = "evaluate";

// Restores the model's train/eval mode on scope exit (also when an error escapes).
class ModeGuard {
 public:
  explicit ModeGuard(model::TaskModel& m) : model_(m), was_training_(m->is_training()) {
    model_->eval();
  }
  ~ModeGuard() { model_->train(was_training_); }
  ModeGuard(const ModeGuard&) = delete;
  ModeGuard& operator=(const ModeGuard&) = delete;

 private:
  model::TaskModel& model_;
  bool was_training_;
};

c10::ScalarType autocast_dtype(const std::string& name) {
  if (name == "bf16" || name == "bfloat16") return c10::ScalarType::BFloat16;
  if (name == "fp16" || name == "float16") return c10::ScalarType::Half;
  fail(kWhere, "unknown autocast dtype '" + name + "'", "use \"\", bf16 or fp16");
}

// Base JSON of one example's prediction: its id (when the file gave one) and line.
nlohmann::json prediction_base(const std::string& id, size_t line) {
  nlohmann::json j = nlohmann::json::object();
  if (!id.empty()) j["id"] = id;
  if (line > 0) j["line"] = line;
  return j;
}

// Softmax of one row of logits (float64 for stable sums).
std::vector<double> softmax(const float* logits, size_t n) {
  std::vector<double> p(n);
  double mx = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(static_cast<double>(logits[i]) - mx);
  for (double& x : p) x /= sum;
  return p;
}

double sigmoid(float x) {
  return 1.0 / (1.0 + std::exp(-static_cast<double>(x)));
}

// The index of each example's first feature (features are in example order).
std::vector<size_t> first_features(const data::TaskDataset& d) {
  std::vector<size_t> first(d.num_examples(), SIZE_MAX);
  for (size_t i = 0; i < d.features.size(); ++i) {
    const uint32_t e = d.features[i].example;
    if (e < first.size() && first[e] == SIZE_MAX) first[e] = i;
  }
  return first;
}

// Checks that the dataset's labels are the head's (same names, same order).
void check_labels(const data::TaskDataset& d, const model::TaskModel& m) {
  const auto& head_labels = m->head().labels();
  if (d.labels.empty()) return;
  if (d.labels.labels() != head_labels) {
    const bool same_size = d.labels.size() == head_labels.size();
    fail(kWhere + std::string(" ") + d.path,
         "the dataset's " + std::to_string(d.labels.size()) + " labels " +
             (same_size ? "differ from" : "do not match") + " the model's " +
             std::to_string(head_labels.size()) + " labels (id2label)",
         "load the data with the model's labels (data::DataOptions::labels = the head's labels)");
  }
}

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

struct Accumulated {
  double loss_sum = 0.0;
  double loss_weight = 0.0;
  bool has_loss = false;
  // MLM masked-token accuracy.
  int64_t mlm_correct = 0;
  int64_t mlm_total = 0;
};

void add_loss(Accumulated& acc, const model::HeadOutput& out) {
  if (!out.loss_sum.defined() || !out.loss_weight.defined()) return;
  acc.loss_sum += out.loss_sum.detach().to(torch::kCPU, torch::kFloat64).item<double>();
  acc.loss_weight += out.loss_weight.detach().to(torch::kCPU, torch::kFloat64).item<double>();
  acc.has_loss = true;
}

// ------------------------------------------------------------------------------- NER

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

// ------------------------------------------------------------------------------- classification

void finish_classification(const data::TaskDataset& d, const model::TaskModel& m,
                           const data::WindowAggregator& agg, const TaskEvalOptions& o,
                           TaskEvalResult& r) {
  const bool re = d.task == data::Task::kRelationExtraction;
  const data::ProblemType pt = re ? data::ProblemType::kSingleLabel : d.problem_type;
  const auto& labels = m->head().labels();
  const at::Tensor logits = agg.result().contiguous();  // (examples, num_labels) float32
  const int64_t n = logits.size(0), c = logits.size(1);
  const float* lp = logits.data_ptr<float>();
  const std::vector<size_t> first = first_features(d);
  auto example_meta = [&](size_t e) -> std::pair<std::string, size_t> {
    if (re) return {d.re[e].id, d.re[e].line};
    return {d.cls[e].id, d.cls[e].line};
  };
  std::vector<double> thresholds = m->head().options().thresholds;
  if (thresholds.empty()) thresholds = {0.5};
  if (thresholds.size() == 1) thresholds.assign(static_cast<size_t>(c), thresholds[0]);

  std::vector<int64_t> gold_ids, pred_ids;
  std::vector<std::vector<int>> gold_rows, pred_rows;
  std::vector<double> gold_values, pred_values;
  for (int64_t e = 0; e < n; ++e) {
    const float* row = lp + e * c;
    const auto ue = static_cast<size_t>(e);
    const data::Feature* f = first[ue] == SIZE_MAX ? nullptr : &d.features[first[ue]];
    nlohmann::json j;
    if (o.keep_predictions) {
      auto [id, line] = example_meta(ue);
      j = prediction_base(id, line);
    }
    if (pt == data::ProblemType::kSingleLabel) {
      const std::vector<double> p = softmax(row, static_cast<size_t>(c));
      const auto best = static_cast<int64_t>(std::max_element(p.begin(), p.end()) - p.begin());
      if (d.labeled && f && f->label != -100) {
        gold_ids.push_back(f->label);
        pred_ids.push_back(best);
      }
      if (o.keep_predictions) {
        j["label"] = labels.at(static_cast<size_t>(best));
        if (re) {
          j["probability"] = p[static_cast<size_t>(best)];
        } else {
          j["score"] = p[static_cast<size_t>(best)];
        }
        nlohmann::json probs = nlohmann::json::object();
        for (int64_t k = 0; k < c; ++k)
          probs[labels.at(static_cast<size_t>(k))] = p[static_cast<size_t>(k)];
        j["probabilities"] = std::move(probs);
      }
    } else if (pt == data::ProblemType::kMultiLabel) {
      std::vector<int> predicted(static_cast<size_t>(c));
      nlohmann::json names = nlohmann::json::array();
      nlohmann::json probs = nlohmann::json::object();
      for (int64_t k = 0; k < c; ++k) {
        const double p = sigmoid(row[k]);
        predicted[static_cast<size_t>(k)] = p >= thresholds.at(static_cast<size_t>(k)) ? 1 : 0;
        if (predicted[static_cast<size_t>(k)]) names.push_back(labels.at(static_cast<size_t>(k)));
        probs[labels.at(static_cast<size_t>(k))] = p;
      }
      if (d.labeled && f && f->targets.size() == static_cast<size_t>(c)) {
        std::vector<int> g(static_cast<size_t>(c));
        for (int64_t k = 0; k < c; ++k)
          g[static_cast<size_t>(k)] = f->targets[static_cast<size_t>(k)] > 0.5f;
        gold_rows.push_back(std::move(g));
        pred_rows.push_back(predicted);
      }
      if (o.keep_predictions) {
        j["labels"] = std::move(names);
        j["probabilities"] = std::move(probs);
      }
    } else {
      const double v = row[0];
      if (d.labeled && f && !f->targets.empty()) {
        gold_values.push_back(f->targets[0]);
        pred_values.push_back(v);
      }
      if (o.keep_predictions) j["value"] = v;
    }
    if (o.keep_predictions) r.predictions.push_back(std::move(j));
  }
  if (!(d.labeled && o.compute_metrics)) return;

  if (re) {
    if (gold_ids.empty()) return;
    RelationOptions ro;
    ro.label_names = labels;
    ro.negative_class = -1;
    if (!o.negative_label.empty()) {
      const auto it = std::find(labels.begin(), labels.end(), o.negative_label);
      if (it == labels.end()) {
        fail(kWhere, "negative_label '" + o.negative_label + "' is not one of the model's labels",
             "labels: " + join(labels, ", "));
      }
      ro.negative_class = it - labels.begin();
    }
    const RelationReport report = relation_report(gold_ids, pred_ids, ro);
    r.scalars["micro_f1"] = report.micro.f1;
    r.scalars["f1"] = report.micro.f1;
    r.scalars["micro_precision"] = report.micro.precision;
    r.scalars["micro_recall"] = report.micro.recall;
    r.scalars["macro_f1"] = report.macro.f1;
    r.scalars["accuracy"] = report.all_classes.accuracy;
    r.metrics = to_json(report);
    r.table = format_table(report);
  } else if (pt == data::ProblemType::kSingleLabel) {
    if (gold_ids.empty()) return;
    ClassificationOptions co;
    co.label_names = labels;
    const ClassificationReport report = classification_report(gold_ids, pred_ids, co);
    r.scalars["accuracy"] = report.accuracy;
    r.scalars["micro_f1"] = report.micro.f1;
    r.scalars["macro_f1"] = report.macro.f1;
    r.scalars["weighted_f1"] = report.weighted.f1;
    r.scalars["f1"] = report.macro.f1;
    r.metrics = to_json(report);
    r.table = format_table(report);
  } else if (pt == data::ProblemType::kMultiLabel) {
    if (gold_rows.empty()) return;
    MultiLabelOptions mo;
    mo.label_names = labels;
    const MultiLabelReport report = multilabel_report(gold_rows, pred_rows, mo);
    r.scalars["accuracy"] = report.subset_accuracy;
    r.scalars["micro_f1"] = report.micro.f1;
    r.scalars["macro_f1"] = report.macro.f1;
    r.scalars["weighted_f1"] = report.weighted.f1;
    r.scalars["example_f1"] = report.example_based.f1;
    r.scalars["f1"] = report.micro.f1;
    r.metrics = to_json(report);
    r.table = format_table(report);
  } else {
    if (gold_values.size() < 2) return;
    const RegressionReport report = regression_report(gold_values, pred_values);
    r.scalars["pearson"] = report.pearson;
    r.scalars["spearman"] = report.spearman;
    r.metrics = to_json(report);
    r.table = format_table(report);
  }
}

// ------------------------------------------------------------------------------- QA

void finish_qa(const data::TaskDataset& d, const at::Tensor& start, const at::Tensor& end,
               const TaskEvalOptions& o, TaskEvalResult& r) {
  const std::vector<data::QaPrediction> preds = data::postprocess_qa(d, start, end, o.qa);
  std::vector<QaExample> scored;
  for (size_t e = 0; e < preds.size(); ++e) {
    const data::QaPrediction& p = preds[e];
    const data::QaExample& ex = d.qa[e];
    if (o.keep_predictions) {
      nlohmann::json j = prediction_base(ex.id, ex.line);
      j["answer"] = p.text;
      j["start"] = p.start;
      j["end"] = p.end;
      j["score"] = p.probability;
      if (o.qa.version_2_with_negative) j["null_score_diff"] = p.null_score_diff;
      r.predictions.push_back(std::move(j));
    }
    if (d.labeled && o.compute_metrics) {
      QaExample q;
      q.id = ex.id;
      for (const data::QaAnswer& a : ex.answers) q.gold_answers.push_back(a.text);
      q.prediction = p.text;
      q.no_answer_probability = 0.0;  // as HF run_qa's post-processing
      scored.push_back(std::move(q));
    }
  }
  if (scored.empty()) return;
  SquadOptions so;
  so.version = o.qa.version_2_with_negative ? SquadVersion::kV2 : SquadVersion::kV1;
  if (so.version == SquadVersion::kV1) {
    for (const QaExample& q : scored) {
      if (q.gold_answers.empty()) {
        fail(kWhere + std::string(" ") + d.path,
             "question " + (q.id.empty() ? std::string("?") : q.id) +
                 " has no answer, which SQuAD v1.1 scoring cannot score",
             "set version_2_with_negative (SQuAD v2 data)");
      }
    }
  }
  const SquadReport report = squad_report(scored, so);
  r.scalars["exact"] = report.overall.exact;
  r.scalars["f1"] = report.overall.f1;
  if (so.version == SquadVersion::kV2) {
    if (report.has_answer.total > 0) {
      r.scalars["HasAns_exact"] = report.has_answer.exact;
      r.scalars["HasAns_f1"] = report.has_answer.f1;
    }
    if (report.no_answer.total > 0) {
      r.scalars["NoAns_exact"] = report.no_answer.exact;
      r.scalars["NoAns_f1"] = report.no_answer.f1;
    }
  }
  r.metrics = to_json(report);
  r.table = format_table(report);
}

std::string loss_table(const TaskEvalResult& r) {
  std::ostringstream out;
  for (const auto& [name, value] : r.scalars) out << name << " = " << value << "\n";
  return out.str();
}

}  // namespace

model::Batch to_model_batch(const data::Batch& b) {
  model::Batch out;
  auto put = [&](const char* key, const at::Tensor& t) {
    if (t.defined()) out[key] = t;
  };
  put(model::batch_key::kInputIds, b.input_ids);
  put(model::batch_key::kAttentionMask, b.attention_mask);
  put(model::batch_key::kTokenTypeIds, b.token_type_ids);
  put(model::batch_key::kLabels, b.labels);
  put(model::batch_key::kStartPositions, b.start_positions);
  put(model::batch_key::kEndPositions, b.end_positions);
  put(model::batch_key::kEntityPositions, b.entity_positions);
  return out;
}

TaskEvalResult evaluate_task(model::TaskModel& model, const data::Dataset& dataset,
                             const TaskEvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  TaskEvalResult r;
  const model::HeadInfo info = model->info();
  const auto* td = dynamic_cast<const data::TaskDataset*>(&dataset);
  const bool mlm = info.metric_family == "mlm";
  if (mlm == (td != nullptr)) {
    fail(kWhere,
         mlm ? "the mlm head needs a text corpus (MlmCorpus), got a task dataset"
             : "the " + info.name + " head needs a task dataset, got a text corpus",
         "evaluate the model on data of its task");
  }
  if (td) {
    const std::string task = data::task_name(td->task);
    if (std::find(info.dataset_tasks.begin(), info.dataset_tasks.end(), task) ==
        info.dataset_tasks.end()) {
      fail(kWhere + std::string(" ") + td->path,
           "the dataset is for task " + task + " but the model's head is " + info.name,
           "evaluate with data of the head's task (" + join(info.dataset_tasks, ", ") + ")");
    }
    if (td->task != data::Task::kQuestionAnswering &&
        !(td->task == data::Task::kSequenceClassification &&
          td->problem_type == data::ProblemType::kRegression)) {
      check_labels(*td, model);
    }
    r.num_examples = td->num_examples();
  }
  r.num_features = dataset.size();
  if (o.batch_size == 0 && o.max_tokens == 0) {
    fail(kWhere, "batch_size is 0", "use a batch size of at least 1");
  }

  ModeGuard mode(model);
  torch::NoGradGuard no_grad;
  std::optional<model::AutocastScope> autocast;
  if (!o.autocast.empty()) autocast.emplace(o.device.type(), autocast_dtype(o.autocast));

  data::BatchOptions bo;
  bo.batch_size = o.batch_size;
  bo.max_tokens = o.max_tokens;
  bo.shuffle = false;
  // Task data in length order (results go back by feature index). MLM keeps its order (its
  // evaluation masks are drawn per batch), and so does QA, whose loss reads the padding
  // (HeadInfo::reads_padding) and so depends on the batches as transformers forms them.
  bo.sort_by_length = td != nullptr && !info.reads_padding;
  const std::vector<std::vector<size_t>> plan = data::plan_batches(dataset.lengths(), bo, 0);

  // Per-task collectors.
  std::optional<data::NerWindowMerger> merger;
  std::optional<data::WindowAggregator> aggregator;
  at::Tensor qa_start, qa_end;  // (features, longest) float32
  const bool ner = td && td->task == data::Task::kTokenClassification;
  const bool cls = td && (td->task == data::Task::kSequenceClassification ||
                          td->task == data::Task::kRelationExtraction);
  const bool qa = td && td->task == data::Task::kQuestionAnswering;
  if (ner) merger.emplace(td->features, td->words);
  if (cls) aggregator.emplace(td->features, td->num_examples(), o.window_aggregation);
  if (qa) {
    size_t longest = 1;
    for (uint32_t len : dataset.lengths()) longest = std::max<size_t>(longest, len);
    qa_start =
        torch::zeros({static_cast<int64_t>(td->features.size()), static_cast<int64_t>(longest)},
                     torch::kFloat32);
    qa_end = torch::zeros_like(qa_start);
  }
  const int64_t num_labels = model->head().num_labels();
  const bool labeled = td ? td->labeled : true;

  Accumulated acc;
  for (size_t bi = 0; bi < plan.size(); ++bi) {
    const std::vector<size_t>& indices = plan[bi];
    if (indices.empty()) continue;
    data::Batch cpu = dataset.collate(indices, o.mlm_seed + bi);
    // Label ids outside the head: an Error, not a device-side assert.
    if (td && cpu.labels.defined() && cpu.labels.scalar_type() == torch::kLong && num_labels > 0) {
      const at::Tensor valid = cpu.labels.ne(-100);
      if (valid.any().item<bool>()) {
        const int64_t mx = cpu.labels.masked_select(valid).max().item<int64_t>();
        if (mx >= num_labels) {
          fail(kWhere + std::string(" ") + td->path,
               "label id " + std::to_string(mx) + " is outside the head's " +
                   std::to_string(num_labels) + " labels",
               "load the data with the model's labels");
        }
      }
    }
    model::Batch batch = to_model_batch(o.device.is_cpu() ? cpu : cpu.to(o.device));
    if (ner && !labeled)
      batch[model::batch_key::kLabelMask] = ner_label_mask(*td, cpu).to(o.device);
    model::TaskForwardOptions fo;
    fo.compute_loss = labeled;
    fo.unpad = true;
    const model::HeadOutput out = model->forward(batch, fo);
    if (labeled) add_loss(acc, out);

    if (ner) {
      const at::Tensor pred = model->decode(out, batch);  // (batch, seq) int64, -100 = none
      const at::Tensor probs = torch::softmax(out.logits.to(torch::kFloat32), -1);  // (b, s, L)
      const at::Tensor score =
          probs.gather(2, pred.clamp_min(0).unsqueeze(2)).squeeze(2);  // (batch, seq)
      merger->add(indices, pred, &score);
    } else if (cls) {
      aggregator->add(indices, out.logits.to(torch::kFloat32));
    } else if (qa) {
      const at::Tensor s = out.start_logits.to(torch::kCPU, torch::kFloat32);  // (batch, seq)
      const at::Tensor e = out.end_logits.to(torch::kCPU, torch::kFloat32);    // (batch, seq)
      const int64_t seq = s.size(1);
      for (size_t k = 0; k < indices.size(); ++k) {
        const auto fi = static_cast<int64_t>(indices[k]);
        const auto len = std::min<int64_t>(seq, qa_start.size(1));
        qa_start[fi].narrow(0, 0, len).copy_(s[static_cast<int64_t>(k)].narrow(0, 0, len));
        qa_end[fi].narrow(0, 0, len).copy_(e[static_cast<int64_t>(k)].narrow(0, 0, len));
      }
    } else if (mlm && cpu.labels.defined()) {
      const at::Tensor pred = model->decode(out, batch).to(torch::kCPU);
      at::Tensor gold = cpu.labels;  // (batch, seq)
      if (out.positions.defined()) {
        gold = gold.reshape({-1}).index_select(0, out.positions.to(torch::kCPU));  // (n)
      }
      const at::Tensor valid = gold.ne(-100);
      acc.mlm_total += valid.sum().item<int64_t>();
      acc.mlm_correct += (pred.reshape(gold.sizes()).eq(gold) & valid).sum().item<int64_t>();
    }
    if (o.on_batch) o.on_batch(bi + 1, plan.size());
  }

  if (labeled && acc.has_loss && acc.loss_weight > 0) {
    r.scalars["loss"] = acc.loss_sum / acc.loss_weight;
  }
  if (ner) {
    finish_ner(*td, model, *merger, o, r);
  } else if (cls) {
    if (td->num_examples() > 0) finish_classification(*td, model, *aggregator, o, r);
  } else if (qa) {
    if (td->num_examples() > 0) finish_qa(*td, qa_start, qa_end, o, r);
  } else if (mlm) {
    nlohmann::json j = nlohmann::json::object();
    if (r.scalars.count("loss")) {
      r.scalars["perplexity"] = std::exp(r.scalars["loss"]);
      j["loss"] = r.scalars["loss"];
      j["perplexity"] = number_or_null(r.scalars["perplexity"]);
    }
    if (acc.mlm_total > 0) {
      r.scalars["accuracy"] =
          static_cast<double>(acc.mlm_correct) / static_cast<double>(acc.mlm_total);
      j["accuracy"] = r.scalars["accuracy"];
    }
    j["num_masked_tokens"] = acc.mlm_total;
    j["num_sequences"] = dataset.size();
    r.metrics = std::move(j);
    r.table = loss_table(r);
  }
  if (r.metrics.is_null()) r.metrics = nlohmann::json::object();
  if (r.scalars.count("loss") && r.metrics.is_object()) r.metrics["loss"] = r.scalars["loss"];
  if (!mlm && r.scalars.count("loss")) {
    std::ostringstream line;
    line << "\nloss " << format_fixed(r.scalars.at("loss"), 4) << "\n";
    r.table += line.str();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<std::string> declared =
      td ? scalar_names(td->task, td->problem_type, o.qa.version_2_with_negative)
         : scalar_names(data::Task::kMlm, data::ProblemType::kSingleLabel, false);
  for (const auto& [name, value] : r.scalars) {
    if (std::find(declared.begin(), declared.end(), name) == declared.end()) {
      throw std::logic_error("evaluate_task: scalar '" + name + "' is missing in scalar_names()");
    }
  }
  return r;
}

std::vector<std::string> scalar_names(data::Task task, data::ProblemType problem_type,
                                      bool squad_v2) {
  std::vector<std::string> names{"loss"};
  auto add = [&](std::initializer_list<const char*> more) {
    for (const char* n : more) names.emplace_back(n);
  };
  switch (task) {
    case data::Task::kMlm:
      add({"perplexity", "accuracy"});
      break;
    case data::Task::kTokenClassification:
      add({"precision", "recall", "f1", "accuracy"});
      break;
    case data::Task::kRelationExtraction:
      add({"f1", "micro_f1", "micro_precision", "micro_recall", "macro_f1", "accuracy"});
      break;
    case data::Task::kQuestionAnswering:
      add({"exact", "f1"});
      if (squad_v2) add({"HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1"});
      break;
    case data::Task::kSequenceClassification:
      if (problem_type == data::ProblemType::kRegression) {
        add({"pearson", "spearman"});
      } else {
        add({"accuracy", "micro_f1", "macro_f1", "weighted_f1", "f1"});
        if (problem_type == data::ProblemType::kMultiLabel) add({"example_f1"});
      }
      break;
  }
  return names;
}

nlohmann::json evaluation_settings(const TaskEvalOptions& o) {
  return {{"seqeval_mode", o.seqeval_mode},
          {"tag_scheme", o.tag_scheme},
          {"negative_label", o.negative_label},
          {"window_aggregation",
           o.window_aggregation == data::WindowAggregation::kMax ? "max" : "mean"},
          {"version_2_with_negative", o.qa.version_2_with_negative},
          {"max_answer_length", o.qa.max_answer_length},
          {"n_best_size", o.qa.n_best_size},
          {"null_score_diff_threshold", o.qa.null_score_diff_threshold}};
}

void apply_evaluation_settings(TaskEvalOptions& o, const nlohmann::json& settings,
                               const std::string& where) {
  if (!settings.is_object()) return;
  auto get = [&](const char* key, auto& field) {
    const auto it = settings.find(key);
    if (it == settings.end() || it->is_null()) return;
    try {
      field = it->get<std::remove_reference_t<decltype(field)>>();
    } catch (const nlohmann::json::exception&) {
      fail(where, std::string("clintorch.evaluation.") + key + ": wrong type " + it->type_name(),
           "re-export the model, or remove the key");
    }
  };
  get("seqeval_mode", o.seqeval_mode);
  get("tag_scheme", o.tag_scheme);
  get("negative_label", o.negative_label);
  std::string aggregation;
  get("window_aggregation", aggregation);
  if (!aggregation.empty()) o.window_aggregation = data::parse_window_aggregation(aggregation);
  get("version_2_with_negative", o.qa.version_2_with_negative);
  get("max_answer_length", o.qa.max_answer_length);
  get("n_best_size", o.qa.n_best_size);
  get("null_score_diff_threshold", o.qa.null_score_diff_threshold);
}

double metric_value(const std::map<std::string, double>& scalars, const std::string& metric) {
  std::string name = metric;
  if (name.rfind("eval_", 0) == 0) name = name.substr(5);
  const auto it = scalars.find(name);
  if (it != scalars.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& [k, v] : scalars) names.push_back(k);
  fail("metric '" + metric + "'", "is not among the evaluation metrics" + did_you_mean(name, names),
       "available: " + (names.empty() ? std::string("(none)") : join(names, ", ")));
}

}  // namespace clintorch::eval
