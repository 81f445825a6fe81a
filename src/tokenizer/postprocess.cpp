// Pieces -> encodings: truncation (HF `truncate_encodings`), overflow windows with stride, the
// [CLS] A [SEP] B [SEP] template, and padding. The window order and lengths follow HF
// `tokenizers` exactly, including its corner cases (see README "Tokenizer").
#include <algorithm>
#include <string>

#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"

namespace clintorch::tok {
namespace {

struct Range {
  size_t begin, end;
  size_t size() const { return end - begin; }
};

const char* strategy_name(Truncation t) {
  switch (t) {
    case Truncation::kLongestFirst: return "longest_first";
    case Truncation::kOnlyFirst: return "only_first";
    case Truncation::kOnlySecond: return "only_second";
    default: return "none";
  }
}

// HF Encoding::truncate: the first range is kept, the others are the overflowing windows.
std::vector<Range> split_windows(size_t len, size_t max_len, size_t stride, const char* which) {
  if (max_len >= len) return {Range{0, len}};
  if (max_len == 0) return {Range{0, 0}, Range{0, len}};
  if (stride >= max_len) {
    fail("tokenizer", std::string("stride ") + std::to_string(stride) +
                          " is not smaller than the " + std::to_string(max_len) +
                          " tokens left for the " + which +
                          " sequence (max_length minus the special tokens and the other sequence)",
         "use a smaller stride or a larger max_length");
  }
  std::vector<Range> out;
  const size_t step = max_len - stride;
  for (size_t start = 0;; start += step) {
    const size_t stop = std::min(start + max_len, len);
    out.push_back(Range{start, stop});
    if (stop == len) break;
  }
  return out;
}

void append(Encoding& e, int32_t id, int32_t type_id, Offset off, int32_t word, int32_t seq,
            uint8_t special, bool tokens, const Tokenizer::Impl& tk) {
  e.ids.push_back(id);
  e.type_ids.push_back(type_id);
  e.attention_mask.push_back(1);
  e.special_tokens_mask.push_back(special);
  e.offsets.push_back(off);
  e.word_ids.push_back(word);
  e.sequence_ids.push_back(seq);
  if (tokens) e.tokens.push_back(tk.surface[static_cast<size_t>(id)]);
}

void append_pieces(Encoding& e, const detail::Pieces& p, Range r, int32_t type_id, int32_t seq,
                   bool tokens, const Tokenizer::Impl& tk) {
  for (size_t i = r.begin; i < r.end; ++i) {
    append(e, p.ids[i], type_id, p.offsets[i], p.words[i], seq, 0, tokens, tk);
  }
}

Encoding build(const Tokenizer::Impl& tk, const detail::Pieces& a, Range ra,
               const detail::Pieces* b, Range rb, const EncodeOptions& o) {
  Encoding e;
  const size_t n = ra.size() + (b ? rb.size() : 0) + (o.add_special_tokens ? (b ? 3 : 2) : 0);
  e.ids.reserve(n);
  e.type_ids.reserve(n);
  e.attention_mask.reserve(n);
  e.special_tokens_mask.reserve(n);
  e.offsets.reserve(n);
  e.word_ids.reserve(n);
  e.sequence_ids.reserve(n);
  if (o.return_tokens) e.tokens.reserve(n);
  const bool t = o.return_tokens;
  if (o.add_special_tokens) append(e, tk.cls, 0, Offset{}, -1, -1, 1, t, tk);
  append_pieces(e, a, ra, 0, 0, t, tk);
  if (o.add_special_tokens) append(e, tk.sep, 0, Offset{}, -1, -1, 1, t, tk);
  if (b) {
    append_pieces(e, *b, rb, 1, 1, t, tk);
    if (o.add_special_tokens) append(e, tk.sep, 1, Offset{}, -1, -1, 1, t, tk);
  }
  return e;
}

void pad_to(Encoding& e, size_t length, const EncodeOptions& o, const Tokenizer::Impl& tk) {
  if (e.size() < length) {
    const size_t k = length - e.size();
    const bool left = o.padding_side == Side::kLeft;
    auto fill = [&](auto& v, auto value) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      v.insert(left ? v.begin() : v.end(), k, static_cast<T>(value));
    };
    fill(e.ids, tk.pad);
    fill(e.type_ids, 0);
    fill(e.attention_mask, 0);
    fill(e.special_tokens_mask, 1);
    e.offsets.insert(left ? e.offsets.begin() : e.offsets.end(), k, Offset{});
    fill(e.word_ids, -1);
    fill(e.sequence_ids, -1);
    if (o.return_tokens) {
      e.tokens.insert(left ? e.tokens.begin() : e.tokens.end(), k,
                      tk.surface[static_cast<size_t>(tk.pad)]);
    }
  }
  for (auto& over : e.overflowing) pad_to(over, length, o, tk);
}

}  // namespace

Encoding Tokenizer::Impl::post_process(const detail::Pieces& a, const detail::Pieces* b,
                                       const EncodeOptions& o) const {
  const size_t la = a.size();
  const size_t lb = b ? b->size() : 0;
  std::vector<Range> wa{Range{0, la}};
  std::vector<Range> wb{Range{0, lb}};
  if (o.truncation != Truncation::kNone) {
    const size_t added = o.add_special_tokens ? (b ? 3 : 2) : 0;
    const size_t max_length = effective_max_length(o);
    if (max_length < added) {
      // HF's usize subtraction wraps here and silently skips truncation; we refuse instead.
      fail("tokenizer", "max_length " + std::to_string(max_length) + " is smaller than the " +
                            std::to_string(added) + " special tokens of a " +
                            (b ? "pair" : "single sequence"),
           "use max_length >= " + std::to_string(added));
    }
    if (max_length >= 2 && o.stride > max_length - 2) {
      // HF checks this when truncation is set up, against a single sequence's 2 specials.
      fail("tokenizer", "stride " + std::to_string(o.stride) + " is larger than max_length " +
                            std::to_string(max_length) + " minus 2 special tokens",
           "use a stride smaller than max_length - 2");
    }
    const size_t m = max_length - added;  // room for the sequences
    size_t ta = la, tb = lb;              // target lengths
    if (m == 0) {
      ta = 0;
      tb = 0;
    } else if (la + lb > m) {
      const size_t to_remove = la + lb - m;
      if (o.truncation == Truncation::kLongestFirst) {
        if (b) {
          size_t n1 = la, n2 = lb;
          const bool swap = n1 > n2;
          if (swap) std::swap(n1, n2);
          n2 = n1 > m ? n1 : std::max(n1, m - n1);
          if (n1 + n2 > m) {
            n1 = m / 2;
            n2 = n1 + m % 2;
          }
          if (swap) std::swap(n1, n2);
          ta = n1;
          tb = n2;
        } else {
          ta = la - to_remove;
        }
      } else {
        const bool first = o.truncation == Truncation::kOnlyFirst;
        if (!first && !b) {
          fail("tokenizer", "truncation only_second needs a second sequence",
               "use longest_first or only_first for single texts");
        }
        const size_t len = first ? la : lb;
        if (len <= to_remove) {
          fail("tokenizer",
               std::string("truncation ") + strategy_name(o.truncation) + ": the " +
                   (first ? "first" : "second") + " sequence has " + std::to_string(len) +
                   " tokens but " + std::to_string(to_remove) +
                   " must go to fit max_length " + std::to_string(max_length),
               "use longest_first, or a larger max_length");
        }
        (first ? ta : tb) = len - to_remove;
      }
    }
    if (m == 0 || la + lb > m) {
      wa = split_windows(la, ta, o.stride, "first");
      if (b) wb = split_windows(lb, tb, o.stride, "second");
    }
  }
  const detail::Pieces* pb = b;
  Encoding main = build(*this, a, wa[0], pb, wb[0], o);
  if (o.return_overflowing && (wa.size() > 1 || wb.size() > 1)) {
    // HF order: every later window of A with B's first window then B's later windows, and
    // last A's first window with B's later windows.
    for (size_t i = 1; i < wa.size(); ++i) {
      main.overflowing.push_back(build(*this, a, wa[i], pb, wb[0], o));
      for (size_t j = 1; j < wb.size(); ++j) main.overflowing.push_back(build(*this, a, wa[i], pb, wb[j], o));
    }
    for (size_t j = 1; j < wb.size(); ++j) main.overflowing.push_back(build(*this, a, wa[0], pb, wb[j], o));
  }
  main.invalid_utf8 = a.invalid_utf8 + (b ? b->invalid_utf8 : 0);
  return main;
}

// Padding of a set of encodings (each with its overflowing windows) as HF pads a batch.
void pad_encodings(std::vector<Encoding*>& mains, const EncodeOptions& o,
                   const Tokenizer::Impl& tk) {
  if (o.padding == Padding::kNone || mains.empty()) return;
  size_t length = 0;
  if (o.padding == Padding::kMaxLength) {
    length = tk.effective_max_length(o);
  } else {
    for (const Encoding* e : mains) length = std::max(length, e->size());  // first windows only, as HF
  }
  if (o.pad_to_multiple_of > 0 && length % o.pad_to_multiple_of != 0) {
    length += o.pad_to_multiple_of - length % o.pad_to_multiple_of;
  }
  for (Encoding* e : mains) pad_to(*e, length, o, tk);
}

}  // namespace clintorch::tok
