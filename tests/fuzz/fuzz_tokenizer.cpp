// libFuzzer target over the encode entry points: arbitrary bytes (invalid UTF-8 included) as
// single texts, pairs, pre-split words and batches, under every normaliser setting, truncation
// strategy, stride and padding. Expected errors (clintorch::Error, e.g. a stride too large) are
// fine; a crash, a sanitizer report or a broken invariant (checked below) is a finding.
//
// Vocabulary: $CLINTORCH_FUZZ_VOCAB_DIR, else ../shared/datasets/vocab_bert-base-uncased when
// present, else a small generated one.
#include <sys/stat.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace tok = clintorch::tok;

namespace {

std::vector<std::unique_ptr<tok::Tokenizer>> g_tokenizers;

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string vocab_dir() {
  if (const char* env = std::getenv("CLINTORCH_FUZZ_VOCAB_DIR")) return env;
  const std::string shared =
      std::string(CLINTORCH_FUZZ_SOURCE_DIR) + "/../shared/datasets/vocab_bert-base-uncased";
  if (is_dir(shared)) return shared;
  std::string tmpl = (std::filesystem::temp_directory_path() / "clintorch_fuzz_XXXXXX").string();
  const std::string dir = mkdtemp(tmpl.data());
  std::ofstream out(dir + "/vocab.txt");
  for (const char* t :
       {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",   "a",          "##a",          "ab", "##b",
        "abc",   "##c",   "x",     "##x",   "\xc3\xa9", "##\xc3\xa9", "\xe4\xb8\x80", ",",  ".",
        "[",     "]",     "the",   "##s",   "un",       "##aff",      "##able"}) {
    out << t << "\n";
  }
  return dir;
}

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "invariant broken: %s\n", what);
  std::abort();
}

void check(const tok::Encoding& e, size_t len_a, size_t len_b, size_t vocab, bool words) {
  const size_t n = e.ids.size();
  if (e.type_ids.size() != n || e.attention_mask.size() != n || e.special_tokens_mask.size() != n ||
      e.offsets.size() != n || e.word_ids.size() != n || e.sequence_ids.size() != n ||
      (!e.tokens.empty() && e.tokens.size() != n)) {
    broken("field sizes differ");
  }
  for (size_t i = 0; i < n; ++i) {
    if (e.ids[i] < 0 || static_cast<size_t>(e.ids[i]) >= vocab) broken("id out of range");
    if (e.offsets[i].begin > e.offsets[i].end) broken("offset begin > end");
    if (!words) {
      const size_t limit = e.sequence_ids[i] == 1 ? len_b : len_a;
      if (e.offsets[i].end > limit) broken("offset past the end of its text");
    }
    if (e.sequence_ids[i] < 0 && e.word_ids[i] != -1) broken("special token with a word id");
  }
  for (const auto& o : e.overflowing) check(o, len_a, len_b, vocab, words);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  clintorch::set_log_level(clintorch::LogLevel::kError);
  const std::string dir = vocab_dir();
  for (int variant = 0; variant < 4; ++variant) {
    tok::TokenizerOptions o;
    o.do_lower_case = (variant & 1) != 0;
    o.clean_text = (variant & 2) != 0;
    o.warn_cased_vocab_lowercased = false;
    auto t = std::make_unique<tok::Tokenizer>(tok::Tokenizer::from_dir(dir, o));
    t->add_special_tokens({"[E1]", "[/E1]"});
    tok::AddedToken norm;
    norm.content = "Covid19";
    norm.special = false;
    norm.normalized = true;
    norm.lstrip = variant == 3;
    norm.single_word = variant == 2;
    t->add_tokens({norm});
    g_tokenizers.push_back(std::move(t));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const tok::Tokenizer& tk = *g_tokenizers[data[0] & 3];
  const int mode = (data[0] >> 2) & 3;
  tok::EncodeOptions o;
  o.truncation = static_cast<tok::Truncation>(data[1] & 3);
  o.max_length = data[2] % 40;  // 0 = the model's max length
  o.stride = data[3] % 8;
  o.return_overflowing = (data[1] & 4) != 0;
  o.padding = static_cast<tok::Padding>((data[1] >> 3) % 3);
  o.pad_to_multiple_of = (data[1] & 0x20) ? 8 : 0;
  o.padding_side = (data[1] & 0x40) ? tok::Side::kLeft : tok::Side::kRight;
  o.add_special_tokens = (data[1] & 0x80) == 0;
  const std::string text(reinterpret_cast<const char*>(data + 4), size - 4);
  const size_t cut = text.empty() ? 0 : data[3] % (text.size() + 1);
  const std::string a = text.substr(0, cut), b = text.substr(cut);
  try {
    switch (mode) {
      case 0: {
        const auto e = tk.encode(text, o);
        check(e, text.size(), 0, tk.vocab_size(), false);
        const auto chars = tok::char_offsets(e, text);
        if (chars.size() != e.size()) broken("char_offsets size");
        break;
      }
      case 1: {
        const auto e = tk.encode_pair(a, b, o);
        check(e, a.size(), b.size(), tk.vocab_size(), false);
        tok::char_offsets(e, a, b);
        break;
      }
      case 2: {
        std::vector<std::string> words;
        size_t start = 0;
        for (size_t i = 0; i <= text.size(); ++i) {
          if (i == text.size() || text[i] == '\x1f') {
            words.push_back(text.substr(start, i - start));
            start = i + 1;
          }
        }
        const auto e = tk.encode_words(words, o);
        check(e, 0, 0, tk.vocab_size(), true);
        for (const auto w : e.word_ids) {
          if (w >= static_cast<int32_t>(words.size())) broken("word id past the word list");
        }
        std::vector<std::string_view> views(words.begin(), words.end());
        tok::char_offsets_words(e, views);
        break;
      }
      default: {
        const auto batch = tk.encode_batch(std::vector<std::string>{a, b, text}, o, 2);
        if (batch.encodings.size() != batch.overflow_to_sample_mapping.size())
          broken("mapping size");
        for (const auto& e : batch.encodings) check(e, text.size(), 0, tk.vocab_size(), false);
        break;
      }
    }
  } catch (const clintorch::Error&) {
    // expected for impossible truncation settings
  }
  return 0;
}
