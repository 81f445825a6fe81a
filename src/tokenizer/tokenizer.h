// BERT WordPiece tokenizer with the output of HuggingFace `BertTokenizerFast` (the Rust
// `tokenizers` library): same ids, type ids, masks, offsets, word ids, truncation windows and
// padding. No torch dependency; Unicode data comes from utf8proc.
//
// Pipeline (see docs/tokenizer.md, which describes every step):
//   added/special tokens split out of the raw text -> BertNormalizer (clean text, CJK spacing,
//   accent stripping, lowercasing) -> BertPreTokenizer (whitespace + punctuation) -> WordPiece
//   (linear-time trie matcher, `##` continuation, [UNK] for unmatchable or over-long words)
//   -> [CLS] A [SEP] (B [SEP]) -> truncation / overflow windows -> padding.
//
// Offsets. The C++ API works on UTF-8 bytes: `Encoding::offsets` are byte ranges into the input
// string of the token's own sequence (the first text, the second text, or, for pre-split words,
// the word itself). HF Python returns code-point offsets; `char_offsets()` converts.
//
// Invalid UTF-8. Each maximal ill-formed subsequence (the Unicode / WHATWG "maximal subpart"
// rule, which is what Python's bytes.decode('utf-8', 'replace') does) is read as one U+FFFD and
// then handled exactly as HF handles U+FFFD: with clean_text (the default) it is dropped (so
// "ab<FF>cd" is the one word "abcd"); without clean_text it is an ordinary non-punctuation
// character. Offsets stay byte offsets into the original (invalid) input, and `char_offsets()`
// counts each maximal subpart as one code point, so the result equals HF's on
// `raw.decode('utf-8', 'replace')`. The number of replaced subsequences is counted in
// `Encoding::invalid_utf8` (and summed in `BatchEncoding`); nothing ever reads out of bounds.
//
// Thread safety: a Tokenizer is immutable after loading except for add_tokens(); every const
// member function may be called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace clintorch::tok {

// ------------------------------------------------------------------------------------ options

// How a model directory is read. Every unset field takes the value of the model's own files
// (tokenizer.json, then tokenizer_config.json), else HF's default. Set fields override them (a
// recipe's `do_lower_case: false` lands here).
struct TokenizerOptions {
  // Lowercase the text. Default: the model's files, else true (HF's BertTokenizerFast default:
  // a model without tokenizer_config.json, such as Bio_ClinicalBERT, is lowercased).
  std::optional<bool> do_lower_case;
  // Strip accents (NFD, drop Mn). Default: the model's files, else "same as do_lower_case".
  std::optional<bool> strip_accents;
  // Put spaces around CJK ideographs so each is its own word. Default: files, else true.
  std::optional<bool> tokenize_chinese_chars;
  // Drop control/format/private-use characters and map whitespace to ' '. Default: files (the
  // `clean_text` of tokenizer.json's BertNormalizer), else true.
  std::optional<bool> clean_text;
  // Length used when truncation or max_length padding is asked for without a max_length.
  // Default: tokenizer_config.json `model_max_length` (unless HF's "no limit" 1e30), else
  // config.json `max_position_embeddings`, else 512.
  std::optional<size_t> model_max_length;
  // Words longer than this many code points (after normalisation) become [UNK]. Default: the
  // WordPiece model of tokenizer.json, else 100 (HF; Google's original BERT used 200).
  std::optional<size_t> max_input_chars_per_word;
  // Warn (log_warning) when a vocabulary that holds cased entries is lowercased. Default true.
  bool warn_cased_vocab_lowercased = true;
};

enum class Truncation {
  kNone,          // keep every token (HF truncation=False)
  kLongestFirst,  // cut from the longer sequence, one token at a time (HF default for True)
  kOnlyFirst,     // cut only the first sequence; error when it is too short
  kOnlySecond,    // cut only the second sequence; error when absent or too short
};

enum class Padding {
  kNone,       // no padding
  kLongest,    // pad every encoding of the call (all windows of a batch) to the longest one
  kMaxLength,  // pad to EncodeOptions::max_length (or the model's max length when that is 0)
};

enum class Side { kRight, kLeft };

// Per-call settings, mirroring the arguments of HF `tokenizer(...)`.
struct EncodeOptions {
  // Add [CLS] ... [SEP] (and B [SEP]). Default true.
  bool add_special_tokens = true;
  // Truncation strategy. Default none.
  Truncation truncation = Truncation::kNone;
  // Maximum total length (special tokens included) for truncation and kMaxLength padding.
  // 0 = the tokenizer's model_max_length. Default 0.
  size_t max_length = 0;
  // Tokens shared by consecutive overflow windows (HF `stride`). Must be smaller than the room
  // left for the truncated sequence. Default 0.
  size_t stride = 0;
  // Keep the truncated-away tokens as extra windows (HF return_overflowing_tokens). Default
  // false: truncation simply drops them.
  bool return_overflowing = false;
  // Padding strategy. Default none.
  Padding padding = Padding::kNone;
  // Round padded lengths up to a multiple of this (0 = off). Default 0.
  size_t pad_to_multiple_of = 0;
  // Which side padding goes. Default right.
  Side padding_side = Side::kRight;
  // Fill Encoding::tokens (string views, no copies). Default true.
  bool return_tokens = true;
};

// ------------------------------------------------------------------------------------ outputs

// Half-open range [begin, end) into a sequence's input. Bytes in Encoding::offsets.
struct Offset {
  uint32_t begin = 0;
  uint32_t end = 0;
  bool operator==(const Offset& o) const { return begin == o.begin && end == o.end; }
  bool operator!=(const Offset& o) const { return !(*this == o); }
};

// One encoded window: the parallel arrays HF returns, all of the same length.
struct Encoding {
  // Token ids. (seq)
  std::vector<int32_t> ids;
  // Segment ids: 0 for [CLS] A [SEP], 1 for B [SEP]; padding 0. (seq)
  std::vector<int32_t> type_ids;
  // 1 for real tokens (special tokens included), 0 for padding. (seq)
  std::vector<uint8_t> attention_mask;
  // 1 for tokens added by the template ([CLS], [SEP]) and for padding, else 0 (HF semantics: a
  // literal "[CLS]" typed in the text is 0). (seq)
  std::vector<uint8_t> special_tokens_mask;
  // Byte range of each token in the UTF-8 input of its own sequence (see sequence_ids); for
  // pre-split words the range is inside that word. (0,0) for special tokens and padding. A
  // [UNK] covers its whole word. (seq)
  std::vector<Offset> offsets;
  // Index of the word each token came from; -1 for special tokens and padding. For raw text a
  // "word" is a pre-token (whitespace/punctuation split; an added token counts as one); for
  // pre-split words (encode_words) it is the index into the input word list. (seq)
  std::vector<int32_t> word_ids;
  // 0 for tokens of the first sequence, 1 for the second, -1 for special tokens and padding.
  // (seq)
  std::vector<int32_t> sequence_ids;
  // Token strings, as HF shows them: the vocabulary entry, or for a normalised added token the
  // normalised text it matched. Views into the Tokenizer: valid while it lives and until the
  // next add_tokens() call. Empty when EncodeOptions::return_tokens is false. (seq)
  std::vector<std::string_view> tokens;
  // Further windows when EncodeOptions::return_overflowing is set and the input was too long,
  // in HF's order. Only on encodings returned by encode*(); encode_batch() flattens them.
  std::vector<Encoding> overflowing;
  // Number of ill-formed UTF-8 subsequences replaced by U+FFFD in this input (both sequences).
  uint32_t invalid_utf8 = 0;

  size_t size() const { return ids.size(); }
};

// Result of a batch call: every window of every input, flattened in input order (HF's
// `overflow_to_sample_mapping` layout).
struct BatchEncoding {
  // One entry per window; an input's overflow windows follow its first window. (windows)
  std::vector<Encoding> encodings;
  // encodings[i] came from input overflow_to_sample_mapping[i]. (windows)
  std::vector<size_t> overflow_to_sample_mapping;
  // Total ill-formed UTF-8 subsequences replaced across the batch.
  size_t invalid_utf8 = 0;
};

// Converts byte offsets to code-point offsets, as HF Python returns them. `first`/`second` are
// the inputs the encoding was made from (second may be empty for a single text); tokens with
// sequence id 0 index into first, 1 into second. For pre-split words use char_offsets_words.
std::vector<Offset> char_offsets(const Encoding& encoding, std::string_view first,
                                 std::string_view second = {});
// Same for an encoding of pre-split words: each token's range is converted inside its word.
std::vector<Offset> char_offsets_words(const Encoding& encoding,
                                       const std::vector<std::string_view>& first_words,
                                       const std::vector<std::string_view>& second_words = {});
// Number of code points in `text` with the invalid-UTF-8 policy above (one per maximal subpart).
size_t count_code_points(std::string_view text);

// An added token (HF AddedToken): matched in the text before normalisation (normalized=false)
// or in the normalised text (normalized=true), and never split by WordPiece.
struct AddedToken {
  // The token text, e.g. "[E1]".
  std::string content;
  // Special token: ignored for cased-ness checks, never normalised. Default true.
  bool special = true;
  // Match against the normalised text (e.g. lowercased) instead of the raw one. Default false.
  bool normalized = false;
  // Only match when the token is a whole word (not inside a word). Default false.
  bool single_word = false;
  // Also swallow whitespace on the left / right of the match. Default false.
  bool lstrip = false;
  bool rstrip = false;
};

// ------------------------------------------------------------------------------------ tokenizer

class Tokenizer {
 public:
  // Loads a HF model directory: vocab.txt (required unless tokenizer.json holds a WordPiece
  // vocab), tokenizer_config.json, special_tokens_map.json and tokenizer.json when present.
  // Throws clintorch::Error naming the file (and line) on a missing/empty/bad vocabulary. `dir`
  // may also be a HF model id resolved offline from the HF cache (io/model_path.h).
  static Tokenizer from_dir(const std::string& dir, const TokenizerOptions& options = {});
  // Loads a bare vocab.txt (one token per line, id = line number - 1) with the options given
  // (unset fields take HF's defaults).
  static Tokenizer from_vocab_file(const std::string& vocab_path,
                                   const TokenizerOptions& options = {});

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // --- encoding (all const, thread-safe) ---------------------------------------------------
  // One text: [CLS] text [SEP].
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  // A pair: [CLS] first [SEP] second [SEP], type ids 0 then 1.
  Encoding encode_pair(std::string_view first, std::string_view second,
                       const EncodeOptions& options = {}) const;
  // Pre-split words (HF is_split_into_words=True): each word is normalised and split on its
  // own; word_ids give the index of the input word; offsets are relative to the word.
  Encoding encode_words(const std::vector<std::string_view>& words,
                        const EncodeOptions& options = {}) const;
  Encoding encode_words(const std::vector<std::string>& words,
                        const EncodeOptions& options = {}) const;
  Encoding encode_words_pair(const std::vector<std::string_view>& first,
                             const std::vector<std::string_view>& second,
                             const EncodeOptions& options = {}) const;

  // Batches, encoded on `num_threads` threads (0 = all hardware threads). Overflow windows are
  // flattened with a sample mapping; kLongest padding pads to the longest window of the batch.
  BatchEncoding encode_batch(const std::vector<std::string_view>& texts,
                             const EncodeOptions& options = {}, size_t num_threads = 0) const;
  BatchEncoding encode_batch(const std::vector<std::string>& texts,
                             const EncodeOptions& options = {}, size_t num_threads = 0) const;
  // Pairs: firsts[i] with seconds[i] (same size).
  BatchEncoding encode_pair_batch(const std::vector<std::string_view>& firsts,
                                  const std::vector<std::string_view>& seconds,
                                  const EncodeOptions& options = {}, size_t num_threads = 0) const;
  BatchEncoding encode_words_batch(const std::vector<std::vector<std::string>>& words,
                                   const EncodeOptions& options = {}, size_t num_threads = 0) const;
  // Pairs of pre-split words: firsts[i] with seconds[i], one by one (overflow windows flattened
  // with a sample mapping). Padding is not supported here: a UsageError when asked for.
  BatchEncoding encode_words_pair_batch(const std::vector<std::vector<std::string>>& firsts,
                                        const std::vector<std::vector<std::string>>& seconds,
                                        const EncodeOptions& options = {}) const;

  // Only the WordPiece pieces of a text (no special tokens, no truncation): a fast path for
  // counting or pre-computing. Appends to `ids`.
  void tokenize_ids(std::string_view text, std::vector<int32_t>& ids) const;

  // --- vocabulary ---------------------------------------------------------------------------
  // Vocabulary size including added tokens (= the embedding rows the model needs).
  size_t vocab_size() const;
  // Id of a token, or -1 when it is not in the vocabulary (added tokens included).
  int32_t token_to_id(std::string_view token) const;
  // Token of an id; throws clintorch::Error for an id out of range.
  std::string_view id_to_token(int32_t id) const;
  int32_t cls_id() const;
  int32_t sep_id() const;
  int32_t pad_id() const;
  int32_t unk_id() const;
  int32_t mask_id() const;

  // Adds tokens that are matched as a whole before WordPiece (e.g. entity markers [E1] [/E1]).
  // A token already in the vocabulary keeps its id; others get the next free ids. Returns the id
  // of each token, in order. Not thread-safe: call before encoding from several threads.
  std::vector<int32_t> add_tokens(const std::vector<AddedToken>& tokens);
  // Convenience: special, non-normalised tokens.
  std::vector<int32_t> add_special_tokens(const std::vector<std::string>& tokens);
  // Every added/special token (the [PAD] [UNK] [CLS] [SEP] [MASK] of the model included).
  const std::vector<AddedToken>& added_tokens() const;

  // --- settings in effect (after files and overrides) ---------------------------------------
  bool do_lower_case() const;
  bool strip_accents() const;
  bool tokenize_chinese_chars() const;
  bool clean_text() const;
  size_t model_max_length() const;
  size_t max_input_chars_per_word() const;
  // Number of special tokens the template adds: 2 for one sequence, 3 for a pair.
  size_t num_special_tokens(bool pair) const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace clintorch::tok
