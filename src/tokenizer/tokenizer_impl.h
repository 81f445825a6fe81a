// Internal state of clintorch::tok::Tokenizer, shared by its .cpp files.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece.h"

namespace clintorch::tok {
namespace detail {

// One WordPiece piece of an input sequence.
struct Piece {
  int32_t id;
  uint32_t begin, end;  // bytes, into the sequence's input (or its word)
  int32_t word;         // word index
};

// The pieces of one input sequence, before the template and truncation.
struct Pieces {
  std::vector<Piece> items;
  uint32_t invalid_utf8 = 0;  // ill-formed UTF-8 subsequences replaced
  void clear() {
    items.clear();
    invalid_utf8 = 0;
  }
  size_t size() const { return items.size(); }
};

// Per-thread working memory: reused between calls, so steady-state encoding allocates nothing
// per token.
struct Scratch {
  Pieces a, b;
  std::vector<uint32_t> norm_begin, norm_end;  // per normalised byte of the current word
  struct NormChar {
    uint32_t begin, end;  // original byte range
    uint8_t bytes[4];
    uint8_t len;
    uint8_t cls;
  };
  std::vector<NormChar> norm_chars;      // general path: a normalised segment
  std::string norm_text;                 // its UTF-8 bytes
  std::vector<uint32_t> norm_text_char;  // byte of norm_text -> index into norm_chars
};

// Byte trie over the added tokens of one kind (raw or normalised), for leftmost-longest matching.
class AddedMatcher {
 public:
  void clear();
  void add(std::string_view content, int32_t index);
  bool empty() const { return nodes_.size() <= 1; }
  bool may_start(uint8_t byte) const { return first_[byte] != 0; }
  // Longest token matching at text[pos...]: returns its length and sets index, or 0.
  size_t match(const uint8_t* text, size_t pos, size_t n, int32_t& index) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;
    int32_t index = -1;
  };
  std::vector<Node> nodes_{1};
  uint8_t first_[256] = {};
};

}  // namespace detail

struct Tokenizer::Impl {
  // Vocabulary: id -> token (stable storage, so string_views stay valid) and token -> id.
  std::deque<std::string> tokens;
  std::unordered_map<std::string_view, int32_t> token_ids;
  size_t base_vocab_size = 0;  // entries read from vocab.txt / tokenizer.json
  std::string vocab_source;    // file the vocabulary came from (for messages)

  detail::NormalizerFlags flags;
  detail::BmpTable bmp;
  uint8_t ascii_class[128] = {};  // 0 word, 1 space, 2 punct, 3 dropped
  uint8_t ascii_norm[128] = {};   // normalised byte (lowercased when lowercasing)

  detail::WordPieceTrie trie;
  std::string continuing_prefix = "##";
  size_t max_chars_per_word = 100;
  size_t model_max_length = 512;

  int32_t unk = -1, cls = -1, sep = -1, pad = -1, mask = -1;
  std::string unk_token = "[UNK]", cls_token = "[CLS]", sep_token = "[SEP]", pad_token = "[PAD]",
              mask_token = "[MASK]";

  std::vector<AddedToken> added;      // every added/special token
  std::vector<int32_t> added_ids;     // their ids
  detail::AddedMatcher raw_matcher;   // normalized == false
  detail::AddedMatcher norm_matcher;  // normalized == true (matched after normalisation)
  // Token string of each id in Encoding::tokens: the vocabulary entry, except for normalised
  // added tokens, which show the normalised text they match (as HF does).
  std::vector<std::string_view> surface;
  std::deque<std::string> surface_store;

  void finish_setup();  // builds tables, trie and matchers from the fields above
  void rebuild_matchers();
  int32_t intern(const std::string& token);  // id of token, appending it when new

  // Text -> pieces. word_id < 0: word ids count pre-tokens from `word_base`; otherwise every
  // piece gets word_id (pre-split words).
  void encode_sequence(std::string_view text, int32_t word_id, detail::Pieces& out,
                       detail::Scratch& scratch) const;
  void encode_words(const std::string_view* words, size_t count, detail::Pieces& out,
                    detail::Scratch& scratch) const;
  // Pieces -> windows (template, truncation, overflow). Throws Error on impossible truncation.
  Encoding post_process(const detail::Pieces& a, const detail::Pieces* b,
                        const EncodeOptions& options) const;
  size_t effective_max_length(const EncodeOptions& options) const {
    return options.max_length ? options.max_length : model_max_length;
  }
};

}  // namespace clintorch::tok
