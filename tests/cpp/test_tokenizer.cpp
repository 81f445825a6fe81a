// Unit tests of the tokenizer: loading errors, the invalid-UTF-8 policy, LinMaxMatch against a
// brute-force greedy longest-match-first, truncation/padding rules, threads, robustness. Parity
// with HF itself is tests/python/test_tokenizer_parity.py.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "test_helpers.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece.h"
#include "util/error.h"

namespace tok = clintorch::tok;

namespace {

using clintorch::test::TempDir;

const std::vector<std::string> kSmallVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un",    "##aff", "##able", "a",
    "##b",   "##c",   "abc",   "ab",    "hello",  "world", ",",     "!",      ".",
    "the",   "##s",   "cafe",  "e",     "##e",    "x",     "##x",   "i",      "##i",
    "σ",     "##σ",   "α",     "-",     "[",      "]",     "$"};

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

tok::Tokenizer small_tokenizer(const TempDir& dir, tok::TokenizerOptions options = {}) {
  dir.write("vocab.txt", join_lines(kSmallVocab));
  options.warn_cased_vocab_lowercased = false;
  return tok::Tokenizer::from_dir(dir.path(), options);
}

std::vector<std::string> tokens_of(const tok::Encoding& e) {
  return std::vector<std::string>(e.tokens.begin(), e.tokens.end());
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const clintorch::Error& e) {
    return e.what();
  }
  return "";
}

// Brute-force greedy longest-match-first WordPiece, straight from its definition (HF's
// WordPiece::tokenize): the reference for LinMaxMatch.
std::vector<int32_t> greedy_wordpiece(const std::vector<std::string>& vocab,
                                      const std::string& word, int32_t unk) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    int32_t found = -1;
    while (start < end) {
      std::string sub = word.substr(start, end - start);
      if (start > 0) sub = "##" + sub;
      auto it = std::find(vocab.begin(), vocab.end(), sub);
      if (it != vocab.end()) {
        found = static_cast<int32_t>(it - vocab.begin());
        break;
      }
      --end;
    }
    if (found < 0) return {unk};
    out.push_back(found);
    start = end;
  }
  return out;
}

std::vector<int32_t> linmaxmatch(const tok::detail::WordPieceTrie& trie, const std::string& word,
                                 int32_t unk) {
  std::vector<int32_t> out;
  int32_t node = trie.initial_root();
  auto pops = [&](int32_t n) {
    for (uint32_t k = 0; k < trie.pops_count(n); ++k) out.push_back(trie.pops(n)[k]);
  };
  for (const char ch : word) {
    for (;;) {
      const int32_t next = trie.step(node, static_cast<uint8_t>(ch));
      if (next >= 0) {
        node = next;
        break;
      }
      const int32_t f = trie.fail(node);
      if (f < 0) return {unk};
      pops(node);
      node = f;
    }
  }
  while (node != trie.suffix_root()) {
    const int32_t f = trie.fail(node);
    if (f < 0) return {unk};
    pops(node);
    node = f;
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------- WordPiece

TEST(TokenizerWordPiece, LinMaxMatchEqualsGreedyLongestMatchFirst) {
  // Random vocabularies over a tiny alphabet make deep failure chains likely.
  std::mt19937 rng(1234);
  for (int round = 0; round < 40; ++round) {
    std::vector<std::string> vocab{"[UNK]"};
    const int n = 5 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      std::string t;
      const int len = 1 + static_cast<int>(rng() % 5);
      for (int k = 0; k < len; ++k) t.push_back(static_cast<char>('a' + rng() % 3));
      if (rng() % 2) t = "##" + t;
      if (std::find(vocab.begin(), vocab.end(), t) == vocab.end()) vocab.push_back(t);
    }
    std::vector<std::string_view> views(vocab.begin(), vocab.end());
    tok::detail::WordPieceTrie trie;
    trie.build(views, "##");
    for (int w = 0; w < 300; ++w) {
      std::string word;
      const int len = 1 + static_cast<int>(rng() % 12);
      for (int k = 0; k < len; ++k) word.push_back(static_cast<char>('a' + rng() % 3));
      ASSERT_EQ(linmaxmatch(trie, word, 0), greedy_wordpiece(vocab, word, 0))
          << "round " << round << " word " << word;
    }
  }
}

TEST(TokenizerWordPiece, RealVocabularyMatchesGreedyOnCorpusWords) {
  const std::string vocab_path =
      clintorch::test::shared_datasets() + "/vocab_bert-base-uncased/vocab.txt";
  std::ifstream in(vocab_path);
  if (!in)
    GTEST_SKIP() << "shared datasets absent (" << vocab_path << "): real-vocab check not run";
  std::vector<std::string> vocab;
  for (std::string line; std::getline(in, line);) vocab.push_back(line);
  std::vector<std::string_view> views(vocab.begin(), vocab.end());
  tok::detail::WordPieceTrie trie;
  trie.build(views, "##");
  for (const std::string word :
       {"unaffable", "hydroxychloroquine", "electroencephalography", "tachycardia", "xqzv",
        "aaaaaaaaaaaa", "pneumonoultramicroscopic"}) {
    EXPECT_EQ(linmaxmatch(trie, word, 100), greedy_wordpiece(vocab, word, 100)) << word;
  }
}

// ------------------------------------------------------------------------------- pipeline

TEST(Tokenizer, BasicPipelineAndOffsets) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  const auto e = tk.encode("Hello, world! unaffable");
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "hello", ",", "world", "!", "un",
                                                    "##aff", "##able", "[SEP]"}));
  EXPECT_EQ(e.offsets[1], (tok::Offset{0, 5}));
  EXPECT_EQ(e.offsets[6], (tok::Offset{16, 19}));
  EXPECT_EQ(e.word_ids, (std::vector<int32_t>{-1, 0, 1, 2, 3, 4, 4, 4, -1}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(e.sequence_ids.front(), -1);
  EXPECT_EQ(e.sequence_ids[1], 0);
}

TEST(Tokenizer, EmptyAndWhitespaceOnlyInput) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  for (const char* text : {"", " ", "\t\n \r", "\xe2\x80\x8d"}) {
    const auto e = tk.encode(text);
    EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "[SEP]"})) << text;
  }
}

TEST(Tokenizer, UnknownAndOverlongWords) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  auto e = tk.encode("xq abcq");
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "[UNK]", "[UNK]", "[SEP]"}));
  EXPECT_EQ(e.offsets[2], (tok::Offset{3, 7}));  // [UNK] covers its whole word
  const std::string w100(100, 'x'), w101(101, 'x');
  e = tk.encode(w100);
  EXPECT_EQ(e.size(), 2u + 100u);
  e = tk.encode(w101);
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "[UNK]", "[SEP]"}));
  EXPECT_EQ(e.offsets[1], (tok::Offset{0, 101}));
  // A huge word stays linear: it is [UNK] after 100 characters and scanning just continues.
  const std::string huge(4 << 20, 'x');
  const auto t0 = std::chrono::steady_clock::now();
  e = tk.encode(huge);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(e.size(), 3u);
  EXPECT_LT(secs, 2.0);
}

TEST(Tokenizer, AccentsLowercaseAndOffsetsIntoOriginalBytes) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  // "Café" with a precomposed é (2 bytes) and with e + U+0301 (3 bytes).
  auto e = tk.encode("Caf\xc3\xa9 cafe\xcc\x81");
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "cafe", "cafe", "[SEP]"}));
  EXPECT_EQ(e.offsets[1], (tok::Offset{0, 5}));
  EXPECT_EQ(e.offsets[2], (tok::Offset{6, 10}));  // the stripped accent is not covered
  const auto chars = tok::char_offsets(e, "Caf\xc3\xa9 cafe\xcc\x81");
  EXPECT_EQ(chars[1], (tok::Offset{0, 4}));
  EXPECT_EQ(chars[2], (tok::Offset{5, 9}));
  // Word-final capital sigma lowercases to σ, never ς (HF fast).
  e = tk.encode("\xce\xa3\xce\xa3");
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "σ", "##σ", "[SEP]"}));
}

TEST(Tokenizer, CasedOptionKeepsCase) {
  TempDir dir;
  tok::TokenizerOptions o;
  o.do_lower_case = false;
  auto tk = small_tokenizer(dir, o);
  EXPECT_FALSE(tk.do_lower_case());
  EXPECT_FALSE(tk.strip_accents());  // follows do_lower_case when unset
  const auto e = tk.encode("Hello hello");
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "[UNK]", "hello", "[SEP]"}));
}

TEST(Tokenizer, SpecialTokensInTextAndAddedMarkers) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  auto e = tk.encode("a[CLS]b [cls]");
  EXPECT_EQ(tokens_of(e),
            (std::vector<std::string>{"[CLS]", "a", "[CLS]", "[UNK]", "[", "[UNK]", "]", "[SEP]"}));
  EXPECT_EQ(e.special_tokens_mask[2], 0);  // a literal [CLS] is not a template token
  const size_t before = tk.vocab_size();
  const auto ids = tk.add_special_tokens({"[E1]", "[/E1]", "hello"});
  EXPECT_EQ(ids[0], static_cast<int32_t>(before));
  EXPECT_EQ(ids[1], static_cast<int32_t>(before + 1));
  EXPECT_EQ(ids[2], tk.token_to_id("hello"));  // already in the vocabulary: keeps its id
  EXPECT_EQ(tk.vocab_size(), before + 2);
  e = tk.encode("x[E1]abc[/E1] [e1]");
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "x", "[E1]", "abc", "[/E1]", "[",
                                                    "[UNK]", "]", "[SEP]"}));
  EXPECT_EQ(e.offsets[2], (tok::Offset{1, 5}));
  EXPECT_EQ(tk.id_to_token(ids[0]), "[E1]");
}

TEST(Tokenizer, PreSplitWords) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  const std::vector<std::string> words{"Hello", "", "a,b", "world"};
  const auto e = tk.encode_words(words);
  EXPECT_EQ(tokens_of(e),
            (std::vector<std::string>{"[CLS]", "hello", "a", ",", "[UNK]", "world", "[SEP]"}));
  EXPECT_EQ(e.word_ids, (std::vector<int32_t>{-1, 0, 2, 2, 2, 3, -1}));
  EXPECT_EQ(e.offsets[3], (tok::Offset{1, 2}));  // relative to its word
}

// ------------------------------------------------------------------------------- invalid UTF-8

TEST(TokenizerUtf8, MaximalSubpartsBecomeOneReplacementEach) {
  // Python: b"...".decode("utf-8", "replace") gives one U+FFFD per maximal subpart.
  EXPECT_EQ(tok::count_code_points("\xff"), 1u);
  EXPECT_EQ(tok::count_code_points("\xe2\x82"), 1u);          // truncated 3-byte sequence
  EXPECT_EQ(tok::count_code_points("\xe0\x80\x80"), 3u);      // overlong: E0 needs A0..BF
  EXPECT_EQ(tok::count_code_points("\xed\xa0\x80"), 3u);      // surrogate
  EXPECT_EQ(tok::count_code_points("\xf0\x9f\x98"), 1u);      // truncated 4-byte sequence
  EXPECT_EQ(tok::count_code_points("\xf4\x90\x80\x80"), 4u);  // above U+10FFFF
  EXPECT_EQ(tok::count_code_points("\xc0\xaf"), 2u);
  EXPECT_EQ(tok::count_code_points("a\xe2\x82\xac"
                                   "b"),
            3u);  // valid euro sign
}

TEST(TokenizerUtf8, InvalidBytesAreDroppedLikeHfDropsReplacementChars) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  const std::string bad =
      "ab\xff"
      "c x\xe2\x82";
  auto e = tk.encode(bad);
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "abc", "x", "[SEP]"}));
  EXPECT_EQ(e.invalid_utf8, 2u);
  EXPECT_EQ(e.offsets[1], (tok::Offset{0, 4}));  // bytes of the original input
  const auto chars = tok::char_offsets(e, bad);
  EXPECT_EQ(chars[1], (tok::Offset{0, 4}));  // a, b, U+FFFD, c
  EXPECT_EQ(chars[2], (tok::Offset{5, 6}));
  // Without clean_text U+FFFD is kept as a word character, so the word is [UNK].
  TempDir dir2;
  tok::TokenizerOptions o;
  o.clean_text = false;
  auto raw = small_tokenizer(dir2, o);
  e = raw.encode(
      "ab\xff"
      "c");
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "[UNK]", "[SEP]"}));
  const auto batch = tk.encode_batch(std::vector<std::string>{bad, "ok", "\xc3"});
  EXPECT_EQ(batch.invalid_utf8, 3u);
}

TEST(TokenizerUtf8, RandomBytesNeverBreakInvariants) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  tk.add_special_tokens({"[E1]"});
  std::mt19937 rng(7);
  const std::string alphabet = "ab c,\xc3\xa9\xe2\x82\xac\xff\x80\xf0\x9f[E1]\x00\t";
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    const size_t len = rng() % 64;
    for (size_t k = 0; k < len; ++k) {
      s.push_back(rng() % 4 == 0 ? static_cast<char>(rng() % 256)
                                 : alphabet[rng() % alphabet.size()]);
    }
    tok::EncodeOptions o;
    o.truncation = tok::Truncation::kLongestFirst;
    o.max_length = 8 + rng() % 8;
    o.stride = rng() % 2;
    o.return_overflowing = true;
    const auto e = tk.encode_pair(s, s.substr(0, s.size() / 2), o);
    std::vector<const tok::Encoding*> all{&e};
    for (const auto& w : e.overflowing) all.push_back(&w);
    for (const auto* w : all) {
      ASSERT_LE(w->size(), o.max_length);
      ASSERT_EQ(w->ids.size(), w->offsets.size());
      ASSERT_EQ(w->ids.size(), w->word_ids.size());
      ASSERT_EQ(w->ids.size(), w->tokens.size());
      for (size_t k = 0; k < w->size(); ++k) {
        const auto limit = w->sequence_ids[k] == 1 ? s.size() / 2 : s.size();
        ASSERT_LE(w->offsets[k].begin, w->offsets[k].end);
        ASSERT_LE(w->offsets[k].end, limit);
        ASSERT_GE(w->ids[k], 0);
        ASSERT_LT(static_cast<size_t>(w->ids[k]), tk.vocab_size());
      }
      const auto chars = tok::char_offsets(*w, s, s.substr(0, s.size() / 2));
      ASSERT_EQ(chars.size(), w->size());
    }
  }
}

// ------------------------------------------------------------------------------- truncation

TEST(TokenizerTruncation, WindowsWithStride) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  tok::EncodeOptions o;
  o.truncation = tok::Truncation::kLongestFirst;
  o.max_length = 5;
  o.stride = 1;
  o.return_overflowing = true;
  const auto e = tk.encode("a e x i the", o);  // 5 pieces, 3 per window, step 2
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(tokens_of(e), (std::vector<std::string>{"[CLS]", "a", "e", "x", "[SEP]"}));
  EXPECT_EQ(tokens_of(e.overflowing[0]),
            (std::vector<std::string>{"[CLS]", "x", "i", "the", "[SEP]"}));
  EXPECT_EQ(e.overflowing[0].offsets[1], (tok::Offset{4, 5}));
  const auto batch = tk.encode_batch(std::vector<std::string>{"a e x i the", "a"}, o);
  EXPECT_EQ(batch.overflow_to_sample_mapping, (std::vector<size_t>{0, 0, 1}));
}

TEST(TokenizerTruncation, ErrorsNameTheProblem) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  tok::EncodeOptions o;
  o.truncation = tok::Truncation::kOnlySecond;
  o.max_length = 3;
  EXPECT_NE(error_of([&] { tk.encode("a b c", o); }).find("only_second needs a second"),
            std::string::npos);
  o.truncation = tok::Truncation::kOnlyFirst;
  o.max_length = 5;
  EXPECT_NE(
      error_of([&] { tk.encode_pair("a", "b c e x", o); }).find("first sequence has 1 tokens"),
      std::string::npos);
  o.truncation = tok::Truncation::kLongestFirst;
  o.max_length = 1;
  EXPECT_NE(error_of([&] { tk.encode("a b", o); }).find("special tokens"), std::string::npos);
  o.max_length = 5;
  o.stride = 4;
  EXPECT_NE(error_of([&] { tk.encode("a b", o); }).find("stride 4"), std::string::npos);
  // The error reaches the caller of a multi-threaded batch too.
  std::vector<std::string> texts(1000, "a b c");
  EXPECT_THROW(tk.encode_batch(texts, o, 4), clintorch::Error);
}

TEST(TokenizerPadding, LongestMaxLengthMultipleAndSide) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  tok::EncodeOptions o;
  o.padding = tok::Padding::kLongest;
  o.pad_to_multiple_of = 4;
  auto b = tk.encode_batch(std::vector<std::string>{"a b c", "a"}, o);
  ASSERT_EQ(b.encodings.size(), 2u);
  EXPECT_EQ(b.encodings[0].size(), 8u);
  EXPECT_EQ(b.encodings[1].ids,
            (std::vector<int32_t>{tk.cls_id(), 8, tk.sep_id(), tk.pad_id(), tk.pad_id(),
                                  tk.pad_id(), tk.pad_id(), tk.pad_id()}));
  EXPECT_EQ(b.encodings[1].attention_mask, (std::vector<uint8_t>{1, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(b.encodings[1].special_tokens_mask, (std::vector<uint8_t>{1, 0, 1, 1, 1, 1, 1, 1}));
  o.padding = tok::Padding::kMaxLength;
  o.pad_to_multiple_of = 0;
  o.max_length = 6;
  o.padding_side = tok::Side::kLeft;
  const auto e = tk.encode("a", o);
  EXPECT_EQ(e.size(), 6u);
  EXPECT_EQ(e.ids.back(), tk.sep_id());
  EXPECT_EQ(e.word_ids.front(), -1);
  EXPECT_EQ(e.tokens.front(), "[PAD]");
}

TEST(TokenizerBatch, ThreadsGiveTheSameResultAsOneByOne) {
  TempDir dir;
  auto tk = small_tokenizer(dir);
  std::vector<std::string> texts;
  std::mt19937 rng(3);
  const std::vector<std::string> words{"hello", "world", "unaffable", "caf\xc3\xa9",
                                       ",",     "xx",    "the",       "q"};
  for (int i = 0; i < 5000; ++i) {
    std::string t;
    for (int k = 0, n = static_cast<int>(rng() % 30); k < n; ++k)
      t += words[rng() % words.size()] + " ";
    texts.push_back(t);
  }
  tok::EncodeOptions o;
  o.truncation = tok::Truncation::kLongestFirst;
  o.max_length = 16;
  o.stride = 3;
  o.return_overflowing = true;
  const auto one = tk.encode_batch(texts, o, 1);
  const auto many = tk.encode_batch(texts, o, 8);
  ASSERT_EQ(one.encodings.size(), many.encodings.size());
  EXPECT_EQ(one.overflow_to_sample_mapping, many.overflow_to_sample_mapping);
  for (size_t i = 0; i < one.encodings.size(); ++i) {
    ASSERT_EQ(one.encodings[i].ids, many.encodings[i].ids) << i;
    ASSERT_EQ(one.encodings[i].offsets, many.encodings[i].offsets) << i;
  }
  // And the same as encode() one text at a time.
  for (size_t i = 0; i < 200; ++i) {
    const auto e = tk.encode(texts[i], o);
    size_t first =
        std::find(one.overflow_to_sample_mapping.begin(), one.overflow_to_sample_mapping.end(), i) -
        one.overflow_to_sample_mapping.begin();
    ASSERT_EQ(e.ids, one.encodings[first].ids);
  }
}

// ------------------------------------------------------------------------------- loading

TEST(TokenizerLoad, VocabErrorsNameFileAndLine) {
  {
    const std::string msg = error_of([] { tok::Tokenizer::from_dir("/nonexistent/model"); });
    EXPECT_NE(msg.find("/nonexistent/model"), std::string::npos) << msg;
  }
  {
    TempDir d;
    const std::string msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
    EXPECT_NE(msg.find("no vocab.txt"), std::string::npos) << msg;
  }
  {
    TempDir d;
    d.write("vocab.txt", "");
    const std::string msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
    EXPECT_NE(msg.find("vocab.txt: the vocabulary file is empty"), std::string::npos) << msg;
  }
  {
    TempDir d;
    d.write("vocab.txt", "[PAD]\n[UNK]\n\n[CLS]\n");
    const std::string msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
    EXPECT_NE(msg.find("vocab.txt:3: empty vocabulary entry"), std::string::npos) << msg;
  }
  {
    TempDir d;
    d.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\nx\nab\n");
    const std::string msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
    EXPECT_NE(msg.find("vocab.txt:8: duplicate vocabulary entry 'ab' (first at line 6)"),
              std::string::npos)
        << msg;
  }
  for (const char* missing : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    TempDir d;
    std::string vocab;
    for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"}) {
      if (std::string(t) != missing) vocab += std::string(t) + "\n";
    }
    d.write("vocab.txt", vocab);
    const std::string msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
    EXPECT_NE(msg.find(std::string("no entry for the")), std::string::npos) << msg;
    EXPECT_NE(msg.find(missing), std::string::npos) << msg;
    EXPECT_NE(msg.find("vocab.txt"), std::string::npos) << msg;
  }
  {
    TempDir d;
    d.write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nbad\xff\n");
    const std::string msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
    EXPECT_NE(msg.find("vocab.txt:6: entry is not valid UTF-8"), std::string::npos) << msg;
  }
}

TEST(TokenizerLoad, ConfigFilesAndTheirErrors) {
  TempDir d;
  d.write("vocab.txt", join_lines(kSmallVocab));
  d.write("tokenizer_config.json", "{\"do_lower_case\": false, \"model_max_length\": 128}");
  auto tk = tok::Tokenizer::from_dir(d.path());
  EXPECT_FALSE(tk.do_lower_case());
  EXPECT_EQ(tk.model_max_length(), 128u);
  tok::TokenizerOptions o;
  o.do_lower_case = true;  // an explicit option wins over the file
  EXPECT_TRUE(tok::Tokenizer::from_dir(d.path(), o).do_lower_case());
  d.write("tokenizer_config.json", "{\"do_lower_case\": \"no\"}");
  std::string msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
  EXPECT_NE(msg.find("tokenizer_config.json: key 'do_lower_case'"), std::string::npos) << msg;
  d.write("tokenizer_config.json", "{broken");
  msg = error_of([&] { tok::Tokenizer::from_dir(d.path()); });
  EXPECT_NE(msg.find("tokenizer_config.json: invalid JSON"), std::string::npos) << msg;
  // CRLF vocabularies read like Python's universal newlines.
  TempDir crlf;
  std::string vocab;
  for (const auto& t : kSmallVocab) vocab += t + "\r\n";
  crlf.write("vocab.txt", vocab);
  auto tk2 = tok::Tokenizer::from_dir(crlf.path());
  EXPECT_EQ(tk2.vocab_size(), kSmallVocab.size());
  EXPECT_EQ(tk2.token_to_id("hello"), tk.token_to_id("hello"));
}

TEST(TokenizerLoad, CasedVocabularyLowercasedWarnsWithTheFix) {
  TempDir d;
  std::string vocab = join_lines(kSmallVocab);
  for (const char* t :
       {"Hello", "World", "The", "Patient", "Aspirin", "##Ing", "CT", "MRI", "DNA"}) {
    vocab += std::string(t) + "\n";
  }
  d.write("vocab.txt", vocab);
  const auto r = clintorch::test::run_clintorch("tokenize --model '" + d.path() + "' < /dev/null");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("cased"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("do_lower_case: false"), std::string::npos) << r.output;
  const auto quiet = clintorch::test::run_clintorch("tokenize --no-lowercase --model '" + d.path() +
                                                    "' < /dev/null");
  EXPECT_EQ(quiet.output.find("cased"), std::string::npos) << quiet.output;
}

// ------------------------------------------------------------------------------- CLI

TEST(TokenizeCli, WritesJsonlAndReportsBadLines) {
  TempDir d;
  d.write("vocab.txt", join_lines(kSmallVocab));
  d.write("in.txt",
          "hello world\n\nab\xff"
          "c\n");
  auto r = clintorch::test::run_clintorch("tokenize --model '" + d.path() + "' < '" +
                                          d.path("in.txt") + "'");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("\"line\":1,\"tokens\":[\"[CLS]\",\"hello\",\"world\",\"[SEP]\"]"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\"line\":3,\"tokens\":[\"[CLS]\",\"abc\",\"[SEP]\"]"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("ill-formed UTF-8"), std::string::npos) << r.output;
  d.write("pairs.txt", "a\tb\nno tab here\n");
  r = clintorch::test::run_clintorch("tokenize --pair --model '" + d.path() + "' < '" +
                                     d.path("pairs.txt") + "'");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("\"line\":2,\"error\":\"--pair expects FIRST<TAB>SECOND"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\"type_ids\":[0,0,0,1,1]"), std::string::npos) << r.output;
  r = clintorch::test::run_clintorch("tokenize --model '" + d.path() +
                                     "' --truncation sideways < /dev/null");
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("unknown strategy 'sideways'"), std::string::npos) << r.output;
}
