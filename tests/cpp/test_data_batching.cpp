// Batching (padding, samplers, token budgets), the feature cache, the MLM corpus and masking.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/dataset.h"
#include "data/mlm.h"
#include "data/rng.h"
#include "data_test_util.h"

namespace clintorch::data {
namespace {

std::vector<uint32_t> random_lengths(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint32_t> l(n);
  for (auto& x : l) x = static_cast<uint32_t>(5 + rng.below(300));
  return l;
}

void expect_permutation(const std::vector<std::vector<size_t>>& batches, size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& b : batches) {
    for (size_t i : b) seen.at(i)++;
  }
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], 1) << "feature " << i;
}

TEST(DataBatching, RandomPlanIsDeterministicPerSeedAndEpoch) {
  const auto lengths = random_lengths(1000, 1);
  BatchOptions o;
  o.batch_size = 16;
  const auto a = plan_batches(lengths, o, 0);
  EXPECT_EQ(a, plan_batches(lengths, o, 0));
  EXPECT_NE(a, plan_batches(lengths, o, 1));
  o.seed = 7;
  EXPECT_NE(a, plan_batches(lengths, o, 0));
  expect_permutation(a, 1000);
  EXPECT_EQ(a.size(), 63u);
  o.drop_last = true;
  EXPECT_EQ(plan_batches(lengths, o, 0).size(), 62u);
  o.shuffle = false;
  o.drop_last = false;
  const auto seq = plan_batches(lengths, o, 3);
  EXPECT_EQ(seq.front(),
            (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}));
}

TEST(DataBatching, GroupByLengthFollowsHfMegaBatches) {
  const auto lengths = random_lengths(2000, 2);
  BatchOptions o;
  o.batch_size = 8;
  o.group_by_length = true;
  const auto batches = plan_batches(lengths, o, 0);
  expect_permutation(batches, 2000);
  EXPECT_EQ(batches, plan_batches(lengths, o, 0));
  // The longest feature comes first (HF puts it in the first batch to surface OOM early).
  const uint32_t longest = *std::max_element(lengths.begin(), lengths.end());
  EXPECT_EQ(lengths[batches[0][0]], longest);
  // Within each mega-batch (mult = min(2000 / 32, 50) = 50 -> 400 features) lengths descend,
  // apart from the swapped first element.
  std::vector<size_t> order;
  for (const auto& b : batches) order.insert(order.end(), b.begin(), b.end());
  for (size_t m = 0; m < order.size(); m += 400) {
    for (size_t i = m + 2; i < std::min(order.size(), m + 400); ++i) {
      EXPECT_GE(lengths[order[i - 1]], lengths[order[i]]);
    }
  }
  // Padding waste is far below a random order's.
  auto waste = [&](const std::vector<std::vector<size_t>>& bs) {
    size_t pad = 0;
    for (const auto& b : bs) {
      uint32_t mx = 0;
      for (size_t i : b) mx = std::max(mx, lengths[i]);
      for (size_t i : b) pad += mx - lengths[i];
    }
    return pad;
  };
  BatchOptions r = o;
  r.group_by_length = false;
  EXPECT_LT(waste(batches) * 5, waste(plan_batches(lengths, r, 0)));
}

TEST(DataBatching, TokenBudgetBatchesStayWithinMaxTokens) {
  const auto lengths = random_lengths(3000, 3);
  BatchOptions o;
  o.max_tokens = 4096;
  o.batch_size = 0;
  o.pad_to_multiple_of = 8;
  const auto batches = plan_batches(lengths, o, 5);
  expect_permutation(batches, 3000);
  EXPECT_EQ(batches, plan_batches(lengths, o, 5));
  EXPECT_NE(batches, plan_batches(lengths, o, 6));
  size_t used = 0, budget = 0;
  for (const auto& b : batches) {
    uint32_t mx = 0;
    for (size_t i : b) mx = std::max(mx, lengths[i]);
    const size_t padded = padded_length(mx, 8) * b.size();
    EXPECT_LE(padded, 4096u);
    used += padded;
    budget += 4096;
  }
  EXPECT_GT(static_cast<double>(used) / static_cast<double>(budget), 0.8) << "budget well used";
  o.batch_size = 16;  // a cap on sequences
  for (const auto& b : plan_batches(lengths, o, 0)) EXPECT_LE(b.size(), 16u);
  o.max_tokens = 100;
  EXPECT_NE(test::error_of([&] { plan_batches(lengths, o, 0); }).find("max_tokens"),
            std::string::npos);
}

TEST(DataBatching, CollatePadsToTheLongestAndMasksLabels) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  test::TempDir dir;
  const std::string file = dir.write("a.conll",
                                     "Patient\tO\nhas\tO\nhypertension\tB-Problem\n\n"
                                     "No\tO\nacute\tO\ndistress\tO\nnoted\tO\ntoday\tO\n.\tO\n\n");
  DataOptions o;
  o.cache.enabled = false;
  auto d = load_task_dataset(file, *tokenizer, o);
  ASSERT_EQ(d->features.size(), 2u);
  Batch b = d->collate({0, 1}, 0, 8);
  const int64_t longest =
      static_cast<int64_t>(std::max(d->features[0].length(), d->features[1].length()));
  EXPECT_EQ(b.input_ids.size(1), (longest + 7) / 8 * 8);
  EXPECT_EQ(b.attention_mask.sum().item<int64_t>(),
            static_cast<int64_t>(d->features[0].length() + d->features[1].length()));
  EXPECT_EQ(b.num_tokens, b.attention_mask.sum().item<int64_t>());
  // Padding: [PAD] ids, label -100.
  const auto pad_rows = b.attention_mask.eq(0);
  EXPECT_TRUE(b.input_ids.masked_select(pad_rows).eq(tokenizer->pad_id()).all().item<bool>());
  EXPECT_TRUE(b.labels.masked_select(pad_rows).eq(-100).all().item<bool>());
  EXPECT_EQ(b.num_label_tokens, 9);  // one label per word
  EXPECT_EQ(b.input_ids.dtype(), torch::kInt64);
  EXPECT_EQ(b.labels.dtype(), torch::kInt64);
}

TEST(DataBatching, LoaderIsResumableAtAnyBatch) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 50; ++i) text += "word" + std::to_string(i) + "\tO\nend\tO\n\n";
  auto d = load_task_dataset(dir.write("x.conll", text), *tokenizer, [] {
    DataOptions o;
    o.cache.enabled = false;
    return o;
  }());
  BatchOptions bo;
  bo.batch_size = 4;
  bo.seed = 9;
  DataLoader a(d, bo), b(d, bo);
  ASSERT_EQ(a.num_batches(2), 13u);
  // b jumps straight to epoch 2 batch 7, as a resumed run does.
  EXPECT_EQ(b.batch_indices(2, 7), a.batch_indices(2, 7));
  EXPECT_TRUE(torch::equal(b.batch(2, 7).input_ids, a.batch(2, 7).input_ids));
}

TEST(DataBatching, FeatureCacheIsReusedAndInvalidated) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  test::TempDir dir;
  const std::string file =
      dir.write("c.conll", "Aspirin\tB-Drug\n81\tO\nmg\tO\n\nNo\tO\nchange\tO\n\n");
  DataOptions o;
  o.cache.dir = dir.path("cache");
  auto first = load_task_dataset(file, *tokenizer, o);
  EXPECT_FALSE(first->from_cache);
  auto second = load_task_dataset(file, *tokenizer, o);
  EXPECT_TRUE(second->from_cache);
  ASSERT_EQ(first->features.size(), second->features.size());
  for (size_t i = 0; i < first->features.size(); ++i) {
    EXPECT_EQ(first->features[i].input_ids, second->features[i].input_ids);
    EXPECT_EQ(first->features[i].token_labels, second->features[i].token_labels);
    EXPECT_EQ(first->features[i].word_ids, second->features[i].word_ids);
  }
  EXPECT_EQ(first->words[0].word_first_token, second->words[0].word_first_token);
  // Another option, or another file content: a new key.
  o.features.label_all_tokens = true;
  EXPECT_FALSE(load_task_dataset(file, *tokenizer, o)->from_cache);
  o.features.label_all_tokens = false;
  dir.write("c.conll", "Aspirin\tB-Drug\n81\tO\nmg\tO\n\n");
  EXPECT_FALSE(load_task_dataset(file, *tokenizer, o)->from_cache);
  // A corrupt cache file is rebuilt, not trusted.
  auto third = load_task_dataset(file, *tokenizer, o);
  ASSERT_TRUE(third->from_cache);
  { std::ofstream(third->cache_file, std::ios::binary) << "garbage"; }
  auto fourth = load_task_dataset(file, *tokenizer, o);
  EXPECT_FALSE(fourth->from_cache);
  EXPECT_EQ(fourth->features.size(), 1u);
}

// ------------------------------------------------------------------------------- masking

TEST(DataMasking, StatisticsOverOneMillionTokens) {
  const size_t rows = 2800, seq = 512, vocab = 30522;
  const int32_t mask_id = 103;
  Rng rng(5);
  std::vector<int64_t> ids(rows * seq), orig;
  std::vector<uint8_t> no_mask(rows * seq, 0);
  for (size_t r = 0; r < rows; ++r) {
    const size_t len = 256 + rng.below(257);  // the rest is padding
    for (size_t j = 0; j < seq; ++j) {
      const size_t i = r * seq + j;
      if (j == 0)
        ids[i] = 101;
      else if (j == len - 1)
        ids[i] = 102;
      else if (j >= len)
        ids[i] = 0;
      else
        ids[i] = static_cast<int64_t>(1000 + rng.below(29000));
      no_mask[i] = j == 0 || j >= len - 1;
    }
  }
  orig = ids;
  std::vector<int64_t> labels(rows * seq);
  MlmMasker masker(MaskingOptions{}, mask_id, vocab);
  masker.apply(ids.data(), labels.data(), no_mask.data(), nullptr, rows, seq, 1234);
  size_t candidates = 0, selected = 0, masked = 0, randomised = 0, kept = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (no_mask[i]) {
      ASSERT_EQ(labels[i], -100) << "special token or padding selected";
      ASSERT_EQ(ids[i], orig[i]) << "special token or padding changed";
      continue;
    }
    ++candidates;
    if (labels[i] == -100) {
      ASSERT_EQ(ids[i], orig[i]);
      continue;
    }
    ASSERT_EQ(labels[i], orig[i]);
    ++selected;
    if (ids[i] == mask_id)
      ++masked;
    else if (ids[i] != orig[i])
      ++randomised;
    else
      ++kept;
  }
  ASSERT_GT(candidates, 1000000u);
  const double p = static_cast<double>(selected) / static_cast<double>(candidates);
  const double pm = static_cast<double>(masked) / static_cast<double>(selected);
  const double pr = static_cast<double>(randomised) / static_cast<double>(selected);
  const double pk = static_cast<double>(kept) / static_cast<double>(selected);
  std::printf("masking over %zu tokens: selected %.4f, [MASK] %.4f, random %.4f, kept %.4f\n",
              candidates, p, pm, pr, pk);
  EXPECT_NEAR(p, 0.15, 0.005);
  EXPECT_NEAR(pm, 0.80, 0.005);
  EXPECT_NEAR(pr, 0.10, 0.005);
  EXPECT_NEAR(pk, 0.10, 0.005);
  // Same key: same masks; another key: others.
  std::vector<int64_t> ids2 = orig, labels2(rows * seq);
  masker.apply(ids2.data(), labels2.data(), no_mask.data(), nullptr, rows, seq, 1234);
  EXPECT_EQ(ids2, ids);
  ids2 = orig;
  masker.apply(ids2.data(), labels2.data(), no_mask.data(), nullptr, rows, seq, 1235);
  EXPECT_NE(ids2, ids);
}

TEST(DataMasking, WholeWordMaskingMasksEveryPieceOfASelectedWord) {
  // Words: pieces 1..3 form word A, 4 word B, 5..6 word C (word_start marks firsts).
  const size_t seq = 8, rows = 20000;
  std::vector<int64_t> ids(rows * seq), labels(rows * seq);
  std::vector<uint8_t> no_mask(rows * seq), starts(rows * seq);
  const int64_t row_ids[seq] = {101, 2000, 2001, 2002, 2003, 2004, 2005, 102};
  const uint8_t row_nm[seq] = {1, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t row_ws[seq] = {0, 1, 0, 0, 1, 1, 0, 0};
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < seq; ++j) {
      ids[r * seq + j] = row_ids[j];
      no_mask[r * seq + j] = row_nm[j];
      starts[r * seq + j] = row_ws[j];
    }
  }
  MaskingOptions mo;
  mo.whole_word_mask = true;
  MlmMasker(mo, 103, 30522)
      .apply(ids.data(), labels.data(), no_mask.data(), starts.data(), rows, seq, 77);
  size_t words_selected = 0;
  for (size_t r = 0; r < rows; ++r) {
    const int64_t* l = &labels[r * seq];
    EXPECT_EQ(l[0], -100);
    EXPECT_EQ(l[7], -100);
    const bool a = l[1] != -100;
    EXPECT_EQ(a, l[2] != -100);
    EXPECT_EQ(a, l[3] != -100);
    const bool c = l[5] != -100;
    EXPECT_EQ(c, l[6] != -100);
    words_selected += a + (l[4] != -100) + c;
  }
  EXPECT_NEAR(static_cast<double>(words_selected) / (3.0 * rows), 0.15, 0.01);
}

TEST(DataMasking, RejectsBadProbabilities) {
  MaskingOptions mo;
  mo.mask_replace_prob = 0.9;
  mo.random_replace_prob = 0.2;
  EXPECT_NE(test::error_of([&] { MlmMasker(mo, 103, 10); }).find("must not exceed 1"),
            std::string::npos);
  mo = MaskingOptions{};
  mo.mlm_probability = 1.5;
  EXPECT_FALSE(test::error_of([&] { MlmMasker(mo, 103, 10); }).empty());
}

// ------------------------------------------------------------------------------- MLM corpus

TEST(DataMlm, GroupTextsBlocksLineByLineAndDynamicMasks) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text += "Patient " + std::to_string(i) + " was seen in clinic for hypertension follow-up.\n";
    if (i % 7 == 0) text += "\n";
  }
  std::filesystem::create_directories(dir.path("corpus/sub"));
  dir.write("corpus/a.txt", text);
  dir.write("corpus/sub/b.txt", text);
  dir.write("corpus/.hidden", "ignored\n");
  CacheOptions cache;
  cache.dir = dir.path("cache");
  MlmCorpusOptions mo;
  mo.max_seq_length = 64;
  auto c = MlmCorpus::open({dir.path("corpus")}, *tokenizer, mo, MaskingOptions{}, cache);
  EXPECT_FALSE(c->from_cache());
  EXPECT_EQ(c->num_documents(), 600u);
  EXPECT_EQ(c->size(), c->num_tokens() / 64);
  for (size_t i = 0; i < c->size(); ++i) ASSERT_EQ(c->lengths()[i], 64u);
  // Blocks are consecutive slices of [CLS] doc [SEP] [CLS] doc [SEP] ...
  const auto b0 = c->sequence_ids(0);
  EXPECT_EQ(b0[0], tokenizer->cls_id());
  tok::EncodeOptions eo;
  const auto first_doc =
      tokenizer->encode("Patient 0 was seen in clinic for hypertension follow-up.", eo);
  EXPECT_TRUE(std::equal(first_doc.ids.begin(), first_doc.ids.end(), b0.begin()));
  auto again = MlmCorpus::open({dir.path("corpus")}, *tokenizer, mo, MaskingOptions{}, cache);
  EXPECT_TRUE(again->from_cache());
  EXPECT_EQ(again->sequence_ids(5), c->sequence_ids(5));

  // Batches: special tokens never selected; masks change with the epoch, not within it.
  BatchOptions bo;
  bo.batch_size = 8;
  DataLoader loader(c, bo);
  const Batch a = loader.batch(0, 1);
  const Batch a2 = loader.batch(0, 1);
  EXPECT_TRUE(torch::equal(a.input_ids, a2.input_ids));
  EXPECT_TRUE(torch::equal(a.labels, a2.labels));
  for (int64_t r = 0; r < a.size(); ++r) {
    const auto special = c->sequence_special(a.feature_indices[static_cast<size_t>(r)]);
    for (size_t j = 0; j < special.size(); ++j) {
      if (special[j]) {
        ASSERT_EQ(a.labels[r][static_cast<int64_t>(j)].item<int64_t>(), -100);
      }
    }
  }
  EXPECT_GT(a.num_label_tokens, 0);
  // Same features in another epoch get other masks.
  const Batch other = c->collate(a.feature_indices, 999);
  EXPECT_FALSE(torch::equal(other.labels, a.labels));

  // line_by_line: one sequence per document, none longer than max_seq_length.
  mo.line_by_line = true;
  mo.max_seq_length = 12;
  auto lbl = MlmCorpus::open({dir.path("corpus/a.txt")}, *tokenizer, mo, MaskingOptions{}, cache);
  EXPECT_GT(lbl->size(), 300u) << "long lines continue in further sequences";
  for (size_t i = 0; i < lbl->size(); ++i) {
    const auto ids = lbl->sequence_ids(i);
    ASSERT_LE(ids.size(), 12u);
    EXPECT_EQ(ids.front(), tokenizer->cls_id());
    EXPECT_EQ(ids.back(), tokenizer->sep_id());
  }
  // blank_line documents.
  mo.line_by_line = false;
  mo.max_seq_length = 32;
  mo.document_split = data::DocumentSplit::kBlankLine;
  auto blank = MlmCorpus::open({dir.path("corpus/a.txt")}, *tokenizer, mo, MaskingOptions{}, cache);
  EXPECT_EQ(blank->num_documents(), 44u);  // 43 blank lines
  // Held-out split.
  auto [train, held] = split_dataset(c, 0.1, 1);
  EXPECT_EQ(train->size() + held->size(), c->size());
  EXPECT_GT(held->size(), 0u);
}

TEST(DataMlm, ErrorsNameTheFile) {
  CLINTORCH_NEED_TOKENIZER(tokenizer);
  test::TempDir dir;
  const std::string bad = dir.write("bad.txt", "fine line\nbad \xC3\x28 line\n");
  CacheOptions cache;
  cache.enabled = false;
  MlmCorpusOptions mo;
  mo.max_seq_length = 4;
  const std::string e =
      test::error_of([&] { MlmCorpus::open({bad}, *tokenizer, mo, MaskingOptions{}, cache); });
  EXPECT_NE(e.find(bad + ":2: invalid UTF-8"), std::string::npos) << e;
  // Too little text for one block: an error, also when the (empty) token file is cached.
  CacheOptions on;
  on.dir = dir.path("cache");
  const std::string tiny = dir.write("tiny.txt", "Short.\n");
  mo.max_seq_length = 64;
  for (int run = 0; run < 2; ++run) {
    const std::string e2 =
        test::error_of([&] { MlmCorpus::open({tiny}, *tokenizer, mo, MaskingOptions{}, on); });
    EXPECT_NE(e2.find("gives no full block of 64 tokens"), std::string::npos) << e2;
  }
  // A damaged token file in the cache is rebuilt.
  const std::string ok = dir.write("ok.txt", "one two three four five six seven\n");
  mo.max_seq_length = 4;
  auto first = MlmCorpus::open({ok}, *tokenizer, mo, MaskingOptions{}, on);
  const std::string file = first->cache_file();
  const auto ids = first->sequence_ids(0);
  first.reset();
  { std::ofstream(file, std::ios::binary | std::ios::in | std::ios::out).seekp(70) << "xx"; }
  std::filesystem::resize_file(file, 80);
  auto again = MlmCorpus::open({ok}, *tokenizer, mo, MaskingOptions{}, on);
  EXPECT_FALSE(again->from_cache());
  EXPECT_EQ(again->sequence_ids(0), ids);
  mo.max_seq_length = 4;
  const std::string missing = test::error_of(
      [&] { MlmCorpus::open({dir.path("nope")}, *tokenizer, mo, MaskingOptions{}, cache); });
  EXPECT_NE(missing.find("no such file"), std::string::npos) << missing;
}

}  // namespace
}  // namespace clintorch::data
