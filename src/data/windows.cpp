#include "data/windows.h"

#include <algorithm>

#include "data/text_io.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::data {

double max_context_score(size_t pos, size_t count) {
  const size_t left = pos;
  const size_t right = count - 1 - pos;
  return static_cast<double>(std::min(left, right)) + 0.01 * static_cast<double>(count);
}

std::vector<uint32_t> best_windows(const std::vector<std::pair<uint32_t, uint32_t>>& windows,
                                   uint32_t num_tokens) {
  std::vector<uint32_t> best(num_tokens, UINT32_MAX);
  std::vector<double> score(num_tokens, -1.0);
  for (uint32_t k = 0; k < windows.size(); ++k) {
    const auto [begin, count] = windows[k];
    for (uint32_t p = 0; p < count; ++p) {
      const uint32_t g = begin + p;
      if (g >= num_tokens) break;
      const double s = max_context_score(p, count);
      if (s > score[g]) {
        score[g] = s;
        best[g] = k;
      }
    }
  }
  return best;
}

// ------------------------------------------------------------------------------- NER merger

NerWindowMerger::NerWindowMerger(const std::vector<Feature>& features,
                                 const std::vector<WordIndex>& words)
    : features_(features), words_(words) {
  best_.resize(words.size());
  predictions_.resize(words.size());
  scores_.resize(words.size());
  for (size_t e = 0; e < words.size(); ++e) {
    predictions_[e].assign(words[e].word_first_token.size(), -1);
    scores_[e].assign(words[e].word_first_token.size(), 0.0f);
  }
}

void NerWindowMerger::ensure_best(uint32_t example) {
  if (!best_[example].empty() || words_[example].num_tokens == 0) return;
  // The windows of one example are contiguous in the feature list, in window order.
  std::vector<std::pair<uint32_t, uint32_t>> windows;
  size_t i = 0;
  // Find the first feature of the example by binary search (features are example-ordered).
  const auto it = std::lower_bound(features_.begin(), features_.end(), example,
                                   [](const Feature& f, uint32_t ex) { return f.example < ex; });
  for (i = static_cast<size_t>(it - features_.begin());
       i < features_.size() && features_[i].example == example; ++i) {
    windows.emplace_back(features_[i].token_begin, features_[i].token_count);
  }
  best_[example] = best_windows(windows, words_[example].num_tokens);
}

void NerWindowMerger::add(size_t feature_index, const std::vector<int64_t>& predictions,
                          const std::vector<float>* scores) {
  const Feature& f = features_.at(feature_index);
  ensure_best(f.example);
  const auto& best = best_[f.example];
  const auto& wi = words_[f.example];
  // Content tokens sit at positions 1 .. token_count of the window.
  for (uint32_t p = 0; p < f.token_count; ++p) {
    const size_t pos = p + 1;
    if (pos >= predictions.size()) break;
    const int32_t w = f.word_ids[pos];
    if (w < 0) continue;
    const uint32_t g = f.token_begin + p;
    if (wi.word_first_token[static_cast<size_t>(w)] != static_cast<int32_t>(g)) continue;
    if (best[g] != f.window) continue;
    auto& slot = predictions_[f.example][static_cast<size_t>(w)];
    if (slot < 0) ++predicted_;
    slot = static_cast<int32_t>(predictions[pos]);
    scores_[f.example][static_cast<size_t>(w)] = scores ? (*scores)[pos] : 0.0f;
  }
}

void NerWindowMerger::add(const std::vector<size_t>& feature_indices, const at::Tensor& predictions,
                          const at::Tensor* scores) {
  const auto pred = predictions.to(torch::kCPU, torch::kInt64).contiguous();  // (batch, seq)
  torch::Tensor sc;
  if (scores) sc = scores->to(torch::kCPU, torch::kFloat32).contiguous();  // (batch, seq)
  const int64_t seq = pred.size(1);
  for (size_t b = 0; b < feature_indices.size(); ++b) {
    const Feature& f = features_.at(feature_indices[b]);
    const size_t len = std::min<size_t>(f.length(), static_cast<size_t>(seq));
    const int64_t* p = pred.data_ptr<int64_t>() + static_cast<int64_t>(b) * seq;
    std::vector<int64_t> row(p, p + len);
    if (scores) {
      const float* s = sc.data_ptr<float>() + static_cast<int64_t>(b) * seq;
      std::vector<float> srow(s, s + len);
      add(feature_indices[b], row, &srow);
    } else {
      add(feature_indices[b], row, nullptr);
    }
  }
}

// ------------------------------------------------------------------------------- aggregation

WindowAggregation parse_window_aggregation(const std::string& name) {
  if (const auto mode = choice_from_name<WindowAggregation>(name)) return *mode;
  fail("window_aggregation",
       "unknown aggregation '" + name + "'" + did_you_mean(name, choice_names<WindowAggregation>()),
       "use mean or max");
}

WindowAggregator::WindowAggregator(const std::vector<Feature>& features, size_t num_examples,
                                   WindowAggregation mode)
    : features_(features), num_examples_(num_examples), mode_(mode) {
  sums_.resize(num_examples);
  counts_.assign(num_examples, 0);
}

void WindowAggregator::add(const std::vector<size_t>& feature_indices, const at::Tensor& logits) {
  const auto l = logits.to(torch::kCPU, torch::kFloat32).contiguous();  // (batch, num_labels)
  const int64_t c = l.size(1);
  for (size_t b = 0; b < feature_indices.size(); ++b) {
    const uint32_t ex = features_.at(feature_indices[b]).example;
    const float* row = l.data_ptr<float>() + static_cast<int64_t>(b) * c;
    auto& acc = sums_.at(ex);
    if (counts_[ex] == 0) {
      acc.assign(row, row + c);
    } else if (mode_ == WindowAggregation::kMean) {
      for (int64_t j = 0; j < c; ++j) acc[static_cast<size_t>(j)] += row[j];
    } else {
      for (int64_t j = 0; j < c; ++j) {
        acc[static_cast<size_t>(j)] = std::max(acc[static_cast<size_t>(j)], row[j]);
      }
    }
    ++counts_[ex];
  }
}

at::Tensor WindowAggregator::result() const {
  int64_t c = 0;
  for (const auto& s : sums_) c = std::max<int64_t>(c, static_cast<int64_t>(s.size()));
  auto out = torch::zeros({static_cast<int64_t>(num_examples_), c}, torch::kFloat32);
  float* o = out.data_ptr<float>();
  for (size_t e = 0; e < num_examples_; ++e) {
    if (counts_[e] == 0) {
      fail("window aggregation", "example " + std::to_string(e) + " received no window logits");
    }
    for (int64_t j = 0; j < c; ++j) {
      float v = sums_[e][static_cast<size_t>(j)];
      if (mode_ == WindowAggregation::kMean) v /= static_cast<float>(counts_[e]);
      o[static_cast<int64_t>(e) * c + j] = v;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------- entities

std::vector<TextEntity> text_entities(const NerExample& ex, const std::vector<std::string>& tags,
                                      const std::vector<float>& scores, TagScheme scheme) {
  if (ex.word_spans.size() != ex.words.size()) {
    fail("text entities", "the example has no character spans (it was not built from raw text)");
  }
  if (tags.size() != ex.words.size()) {
    fail("text entities",
         std::to_string(tags.size()) + " tags for " + std::to_string(ex.words.size()) + " words");
  }
  std::vector<std::string> t = tags;
  for (auto& x : t) {
    if (x.empty()) x = "O";
  }
  const auto cps = code_point_starts(ex.text);
  auto cp_of = [&](uint32_t byte) {
    return static_cast<size_t>(std::lower_bound(cps.begin(), cps.end(), byte) - cps.begin());
  };
  std::vector<TextEntity> out;
  for (const auto& span :
       tags_to_spans(t, scheme == TagScheme::kNone ? TagScheme::kIOB2 : scheme)) {
    TextEntity e;
    e.start = cp_of(ex.word_spans[span.begin].begin);
    e.end = cp_of(ex.word_spans[span.end - 1].end);
    e.label = span.type;
    float sum = 0.0f;
    for (size_t w = span.begin; w < span.end; ++w) sum += w < scores.size() ? scores[w] : 0.0f;
    e.score = sum / static_cast<float>(span.end - span.begin);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace clintorch::data
