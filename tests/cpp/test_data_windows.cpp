// Long inputs: windows never truncate, and merging gives every word exactly one prediction,
// from the window where its first sub-token has the most context (BERT's max-context rule).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "data/dataset.h"
#include "data/rng.h"
#include "data/text_io.h"
#include "data/windows.h"
#include "data_test_util.h"

namespace clintorch::data {
namespace {

// A synthetic clinical note of `n` words with IOB2 tags; many words split into several pieces.
NerExample synthetic_note(size_t n, uint64_t seed) {
  static const std::vector<std::string> vocab{"patient",
                                              "denies",
                                              "chest",
                                              "pain",
                                              "hypertension",
                                              "metoprolol",
                                              "tartrate",
                                              "25",
                                              "mg",
                                              "bid",
                                              ",",
                                              ".",
                                              "echocardiogram",
                                              "showed",
                                              "ejection",
                                              "fraction",
                                              "of",
                                              "55%",
                                              "and",
                                              "no",
                                              "pericardial",
                                              "effusion",
                                              "history",
                                              "diabetes",
                                              "mellitus",
                                              "type",
                                              "2",
                                              "on",
                                              "metformin",
                                              "hyperlipidemia",
                                              "tachycardia",
                                              "(",
                                              ")",
                                              "stable",
                                              "follow-up",
                                              "in",
                                              "clinic",
                                              "weeks",
                                              "nausea",
                                              "vomiting"};
  Rng rng(seed);
  NerExample ex;
  ex.line = 1;
  bool inside = false;
  for (size_t i = 0; i < n; ++i) {
    ex.words.push_back(vocab[rng.below(vocab.size())]);
    const double u = rng.uniform();
    if (u < 0.1) {
      ex.tags.push_back("B-Problem");
      inside = true;
    } else if (inside && u < 0.3) {
      ex.tags.push_back("I-Problem");
    } else {
      ex.tags.push_back("O");
      inside = false;
    }
  }
  return ex;
}

TEST(DataWindows, WindowRangesFollowHfOverflowOrder) {
  const auto w = window_ranges(10, 4, 1);
  const std::vector<std::pair<size_t, size_t>> expect{{0, 4}, {3, 7}, {6, 10}};
  EXPECT_EQ(w, expect);
  EXPECT_EQ(window_ranges(3, 4, 1).size(), 1u);
  EXPECT_EQ(window_ranges(0, 4, 1).size(), 1u);
  EXPECT_FALSE(test::error_of([] { window_ranges(10, 4, 4); }).empty());
}

TEST(DataWindows, TwoThousandWordNoteEveryWordPredictedExactlyOnce) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  TaskDataset d;
  d.task = Task::kTokenClassification;
  d.path = "synthetic-note";
  d.labeled = true;
  d.ner.push_back(synthetic_note(2000, 7));
  d.ner.push_back(synthetic_note(300, 8));  // a second example, so windows of two examples mix
  d.labels = LabelMap({"B-Problem", "I-Problem", "O"});
  FeatureOptions fo;
  fo.max_seq_length = 128;
  fo.doc_stride = 32;
  build_features(d, *tokenizer, fo);

  const WordIndex& wi = d.words[0];
  ASSERT_EQ(wi.word_first_token.size(), 2000u);
  EXPECT_GT(wi.num_tokens, 2000u) << "the note should have more pieces than words";
  // Windows: none longer than 128, together they hold every piece of the note in order.
  std::vector<size_t> note_features;
  for (size_t i = 0; i < d.features.size(); ++i) {
    const Feature& f = d.features[i];
    EXPECT_LE(f.length(), 128u);
    EXPECT_EQ(f.length(), f.token_count + 2u);
    if (f.example == 0) note_features.push_back(i);
  }
  EXPECT_GE(note_features.size(), 20u);
  std::vector<int> covered(wi.num_tokens, 0);
  for (size_t i : note_features) {
    const Feature& f = d.features[i];
    for (uint32_t p = 0; p < f.token_count; ++p) covered[f.token_begin + p]++;
    if (f.window > 0) {
      const Feature& prev = d.features[i - 1];
      EXPECT_EQ(prev.token_begin + prev.token_count - f.token_begin, 32u) << "overlap = doc_stride";
    }
  }
  EXPECT_TRUE(std::all_of(covered.begin(), covered.end(), [](int c) { return c >= 1; }));

  // Each window "predicts" its own feature index at every position; feed them in shuffled
  // batches, then check each word's merged value against an independent max-context search.
  std::vector<size_t> order(d.features.size());
  std::iota(order.begin(), order.end(), size_t{0});
  Rng rng(3);
  rng.shuffle(order);
  NerWindowMerger merger(d.features, d.words);
  for (size_t b = 0; b < order.size(); b += 5) {
    std::vector<size_t> idx(
        order.begin() + static_cast<std::ptrdiff_t>(b),
        order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), b + 5)));
    auto pred = torch::full({static_cast<int64_t>(idx.size()), 128}, -7, torch::kInt64);
    for (size_t r = 0; r < idx.size(); ++r)
      pred[static_cast<int64_t>(r)].fill_(static_cast<int64_t>(idx[r]));
    merger.add(idx, pred);
  }
  size_t checked = 0;
  for (size_t e = 0; e < d.ner.size(); ++e) {
    const auto& preds = merger.word_predictions()[e];
    ASSERT_EQ(preds.size(), d.ner[e].words.size());
    for (size_t w = 0; w < preds.size(); ++w) {
      const int32_t g = d.words[e].word_first_token[w];
      ASSERT_GE(g, 0);
      // Independent search over all windows of the example holding piece g.
      double best = -1;
      int64_t best_feature = -1;
      for (size_t i = 0; i < d.features.size(); ++i) {
        const Feature& f = d.features[i];
        if (f.example != e || static_cast<uint32_t>(g) < f.token_begin ||
            static_cast<uint32_t>(g) >= f.token_begin + f.token_count) {
          continue;
        }
        const size_t p = static_cast<size_t>(g) - f.token_begin;
        const double s =
            static_cast<double>(std::min(p, f.token_count - 1 - p)) + 0.01 * f.token_count;
        if (s > best) {
          best = s;
          best_feature = static_cast<int64_t>(i);
        }
      }
      ASSERT_EQ(preds[w], best_feature) << "word " << w << " of example " << e;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2300u);
  EXPECT_EQ(merger.words_predicted(), 2300u) << "every word predicted exactly once";
}

TEST(DataWindows, MergedGoldLabelsReproduceTheWordTags) {
  // Feeding each window's own gold labels (first sub-token positions) through the merger gives
  // back every word's tag: nothing lost at window borders.
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  TaskDataset d;
  d.task = Task::kTokenClassification;
  d.labeled = true;
  d.ner.push_back(synthetic_note(2000, 11));
  d.labels = LabelMap({"B-Problem", "I-Problem", "O"});
  FeatureOptions fo;
  fo.max_seq_length = 64;
  fo.doc_stride = 16;
  build_features(d, *tokenizer, fo);
  NerWindowMerger merger(d.features, d.words);
  for (size_t i = 0; i < d.features.size(); ++i) {
    std::vector<int64_t> p(d.features[i].token_labels.begin(), d.features[i].token_labels.end());
    merger.add(i, p);
  }
  const auto& preds = merger.word_predictions()[0];
  for (size_t w = 0; w < preds.size(); ++w) {
    ASSERT_GE(preds[w], 0) << "word " << w;
    EXPECT_EQ(d.labels.label(preds[w]), d.ner[0].tags[w]) << "word " << w;
  }
}

TEST(DataWindows, LabelAllTokensTurnsBIntoIOnLaterPieces) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  NerExample ex;
  ex.line = 1;
  ex.words = {"echocardiogram", "hypertension"};
  ex.tags = {"B-Test", "B-Problem"};
  const LabelMap labels({"B-Problem", "B-Test", "I-Problem", "O"});  // no I-Test
  FeatureOptions fo;
  fo.label_all_tokens = true;
  std::vector<Feature> out;
  WordIndex wi;
  build_ner_features(*tokenizer, ex, 0, labels, fo, "x", out, wi);
  ASSERT_EQ(out.size(), 1u);
  const auto& f = out[0];
  for (size_t i = 1; i + 1 < f.length(); ++i) {
    const int32_t w = f.word_ids[i];
    const bool first = f.word_ids[i - 1] != w;
    if (w == 0) {
      EXPECT_EQ(f.token_labels[i], 1);  // B-Test everywhere: I-Test does not exist
    }
    if (w == 1) {
      EXPECT_EQ(f.token_labels[i], first ? 0 : 2);
    }
  }
}

TEST(DataWindows, ClassificationWindowsAggregateByMeanOrMax) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  TaskDataset d;
  d.task = Task::kSequenceClassification;
  d.labeled = true;
  ClsExample a, b;
  a.line = 1;
  a.labeled = b.labeled = true;
  a.labels = {"cardiology"};
  b.labels = {"urology"};
  b.line = 2;
  for (int i = 0; i < 400; ++i) a.text += "patient denies chest pain . ";
  b.text = "short note";
  d.cls = {a, b};
  d.labels = LabelMap({"cardiology", "urology"});
  FeatureOptions fo;
  fo.max_seq_length = 128;
  fo.doc_stride = 16;
  build_features(d, *tokenizer, fo);
  const auto windows = d.windows_per_example();
  EXPECT_GT(windows[0], 10u);
  EXPECT_EQ(windows[1], 1u);
  for (const auto& f : d.features) EXPECT_EQ(f.label, static_cast<int32_t>(f.example));
  const auto n = static_cast<int64_t>(d.features.size());
  auto logits = torch::randn({n, 2});
  std::vector<size_t> all(d.features.size());
  std::iota(all.begin(), all.end(), size_t{0});
  for (auto mode : {WindowAggregation::kMean, WindowAggregation::kMax}) {
    WindowAggregator agg(d.features, 2, mode);
    agg.add(all, logits);
    const auto r = agg.result();
    const int64_t wa = windows[0];
    auto first = logits.slice(0, 0, wa);
    auto expect0 = mode == WindowAggregation::kMean ? first.mean(0) : std::get<0>(first.max(0));
    EXPECT_TRUE(torch::allclose(r[0], expect0, 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(r[1], logits[wa]));
  }
}

TEST(DataWindows, PairSlidesTheLongerText) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  ClsExample ex;
  ex.line = 3;
  ex.has_pair = true;
  ex.text = "Is metformin associated with lactic acidosis?";
  for (int i = 0; i < 100; ++i) ex.text_pair += "Metformin was continued without complications. ";
  FeatureOptions fo;
  fo.max_seq_length = 64;
  fo.doc_stride = 8;
  std::vector<Feature> out;
  build_cls_features(*tokenizer, ex, 0, LabelMap(), fo, "x", out);
  ASSERT_GT(out.size(), 5u);
  for (const auto& f : out) {
    EXPECT_LE(f.length(), 64u);
    // The question is whole in every window: [CLS] q [SEP] ...
    EXPECT_EQ(f.token_type_ids[1], 0);
    EXPECT_EQ(f.token_type_ids.back(), 1);
  }
}

TEST(DataWindows, RawTextEntitiesSliceTheOriginalText) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  // Code points differ from bytes ("é", "—"), and the tokenizer lowercases: spans must still
  // slice the original text.
  const std::string text = "Café—visit: started Lisinopril 10 mg; BP 150/90.";
  NerExample ex = ner_example_from_text(*tokenizer, text);
  std::vector<std::string> tags(ex.words.size(), "O");
  std::vector<float> scores(ex.words.size(), 0.5f);
  for (size_t w = 0; w < ex.words.size(); ++w) {
    if (ex.words[w] == "Lisinopril") tags[w] = "B-Drug";
    if (ex.words[w] == "10" || ex.words[w] == "mg") tags[w] = "I-Drug";
    if (ex.words[w] == "Café") tags[w] = "B-Place";
  }
  const auto ents = text_entities(ex, tags, scores, TagScheme::kIOB2);
  ASSERT_EQ(ents.size(), 2u);
  const auto cps = code_point_starts(text);
  auto slice = [&](const TextEntity& e) {
    return text.substr(cps[e.start], cps[e.end] - cps[e.start]);
  };
  EXPECT_EQ(slice(ents[0]), "Café");
  EXPECT_EQ(ents[0].start, 0u);
  EXPECT_EQ(ents[0].end, 4u);
  EXPECT_EQ(slice(ents[1]), "Lisinopril 10 mg");
  EXPECT_EQ(ents[1].label, "Drug");
  EXPECT_EQ(ents[1].start, 20u);  // code points, Python text[20:36]
  EXPECT_FLOAT_EQ(ents[1].score, 0.5f);
}

}  // namespace
}  // namespace clintorch::data
