#include "data/qa_postprocess.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "data/dataset.h"
#include "data/text_io.h"
#include "util/error.h"

namespace clintorch::data {

namespace {

struct Candidate {
  int32_t begin = 0, end = 0;  // code points; (0, 0) = null
  float score = 0, start_logit = 0, end_logit = 0;
  bool is_null_offsets() const { return begin == 0 && end == 0; }
};

// Indices of the n largest values, largest first (ties: the higher index first, as a reversed
// ascending argsort).
std::vector<int32_t> top_n(const float* v, size_t len, size_t n) {
  std::vector<int32_t> idx(len);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return v[a] < v[b]; });
  std::reverse(idx.begin(), idx.end());
  if (idx.size() > n) idx.resize(n);
  return idx;
}

}  // namespace

// Long on purpose: transformers' postprocess_qa_predictions (utils_qa.py) step by step (n-best
// start/end pairs, null score, v2 threshold, softmax), kept in its order to keep parity easy to
// check.
std::vector<QaPrediction> postprocess_qa(const TaskDataset& d, const at::Tensor& start_logits,
                                         const at::Tensor& end_logits,
                                         const QaPostprocessOptions& o) {
  if (d.task != Task::kQuestionAnswering) fail("postprocess_qa", "the dataset is not a QA dataset");
  const auto sl = start_logits.to(torch::kCPU, torch::kFloat32).contiguous();  // (features, seq)
  const auto el = end_logits.to(torch::kCPU, torch::kFloat32).contiguous();    // (features, seq)
  if (sl.dim() != 2 || sl.size(0) != static_cast<int64_t>(d.features.size()) ||
      !sl.sizes().equals(el.sizes())) {
    fail("postprocess_qa", "logits must be (num_features, seq) for the " +
                               std::to_string(d.features.size()) + " features");
  }
  const int64_t seq = sl.size(1);
  std::vector<std::vector<size_t>> per_example(d.qa.size());
  for (size_t i = 0; i < d.features.size(); ++i) per_example.at(d.features[i].example).push_back(i);
  std::vector<QaPrediction> out;
  out.reserve(d.qa.size());
  for (size_t e = 0; e < d.qa.size(); ++e) {
    const QaExample& ex = d.qa[e];
    std::vector<Candidate> prelim;
    bool have_null = false;
    Candidate min_null;
    for (size_t fi : per_example[e]) {
      const Feature& f = d.features[fi];
      const size_t len = std::min<size_t>(f.length(), static_cast<size_t>(seq));
      const float* s = sl.data_ptr<float>() + static_cast<int64_t>(fi) * seq;
      const float* t = el.data_ptr<float>() + static_cast<int64_t>(fi) * seq;
      const float null_score = s[0] + t[0];
      if (!have_null || min_null.score > null_score) {
        min_null = Candidate{0, 0, null_score, s[0], t[0]};
        have_null = true;
      }
      for (int32_t a : top_n(s, len, o.n_best_size)) {
        for (int32_t b : top_n(t, len, o.n_best_size)) {
          const CharSpan& ca = f.context_offsets[static_cast<size_t>(a)];
          const CharSpan& cb = f.context_offsets[static_cast<size_t>(b)];
          if (ca.begin < 0 || cb.begin < 0) continue;
          if (b < a || static_cast<size_t>(b - a + 1) > o.max_answer_length) continue;
          prelim.push_back(Candidate{ca.begin, cb.end, s[a] + t[b], s[a], t[b]});
        }
      }
    }
    float null_score = 0;
    if (o.version_2_with_negative && have_null) {
      prelim.push_back(min_null);
      null_score = min_null.score;
    }
    std::stable_sort(prelim.begin(), prelim.end(),
                     [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    if (prelim.size() > o.n_best_size) prelim.resize(o.n_best_size);
    if (o.version_2_with_negative && have_null &&
        std::none_of(prelim.begin(), prelim.end(),
                     [](const Candidate& c) { return c.is_null_offsets(); })) {
      prelim.push_back(min_null);
    }
    const auto cps = code_point_starts(ex.context);
    auto text_of = [&](const Candidate& c) {
      const size_t b = std::min(static_cast<size_t>(c.begin), cps.size() - 1);
      const size_t en = std::min(static_cast<size_t>(std::max(c.end, c.begin)), cps.size() - 1);
      return ex.context.substr(cps[b], cps[en] - cps[b]);
    };
    std::vector<std::string> texts;
    for (const auto& c : prelim) texts.push_back(text_of(c));
    if (prelim.empty() || (prelim.size() == 1 && texts[0].empty())) {
      prelim.insert(prelim.begin(), Candidate{-1, -1, 0, 0, 0});
      texts.insert(texts.begin(), "empty");  // HF's placeholder when nothing is left
    }
    float mx = -INFINITY;
    for (const auto& c : prelim) mx = std::max(mx, c.score);
    std::vector<double> probs(prelim.size());
    double sum = 0;
    for (size_t i = 0; i < prelim.size(); ++i)
      sum += probs[i] = std::exp(static_cast<double>(prelim[i].score - mx));
    for (auto& p : probs) p /= sum;
    QaPrediction pred;
    pred.id = ex.id;
    size_t best = 0;
    if (o.version_2_with_negative) {
      while (best < prelim.size() && texts[best].empty()) ++best;
      if (best == prelim.size()) best = 0;
      const float diff = null_score - prelim[best].start_logit - prelim[best].end_logit;
      pred.null_score_diff = diff;
      if (diff > o.null_score_diff_threshold) {
        pred.text = "";
        // Probability of the null candidate.
        for (size_t i = 0; i < prelim.size(); ++i) {
          if (prelim[i].is_null_offsets()) {
            pred.probability = static_cast<float>(probs[i]);
            break;
          }
        }
        out.push_back(std::move(pred));
        continue;
      }
    }
    pred.text = texts[best];
    pred.probability = static_cast<float>(probs[best]);
    if (prelim[best].begin >= 0) {
      pred.start = prelim[best].begin;
      pred.end = prelim[best].end;
    }
    out.push_back(std::move(pred));
  }
  return out;
}

}  // namespace clintorch::data
