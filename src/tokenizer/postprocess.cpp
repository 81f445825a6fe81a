// Pieces -> encodings: truncation (HF `truncate_encodings`), overflow windows with stride, the
// [CLS] A [SEP] B [SEP] template, and padding. The window order and lengths follow HF
// `tokenizers` exactly, including its corner cases (see docs/tokenizer.md).
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
    case Truncation::kLongestFirst:
      return "longest_first";
    case Truncation::kOnlyFirst:
      return "only_first";
    case Truncation::kOnlySecond:
      return "only_second";
    default:
      return "none";
  }
}

// HF Encoding::truncate: the first range is kept, the others are the overflowing windows.
std::vector<Range> split_windows(size_t len, size_t max_len, size_t stride, const char* which) {
  if (max_len >= len) return {Range{0, len}};
  if (max_len == 0) return {Range{0, 0}, Range{0, len}};
  if (stride >= max_len) {
    fail("tokenizer",
         std::string("stride ") + std::to_string(stride) + " is not smaller than the " +
             std::to_string(max_len) + " tokens left for the " + which +
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

Encoding build(const Tokenizer::Impl& tk, const detail::Pieces& a, Range ra,
               const detail::Pieces* b, Range rb, const EncodeOptions& o) {
  const bool specials = o.add_special_tokens;
  const size_t n = ra.size() + (b ? rb.size() : 0) + (specials ? (b ? 3 : 2) : 0);
  Encoding e;
  e.ids.resize(n);
  e.type_ids.resize(n);
  e.attention_mask.assign(n, 1);
  e.special_tokens_mask.resize(n);
  e.offsets.resize(n);
  e.word_ids.resize(n);
  e.sequence_ids.resize(n);
  size_t k = 0;
  auto special = [&](int32_t id, int32_t type_id) {
    e.ids[k] = id;
    e.type_ids[k] = type_id;
    e.special_tokens_mask[k] = 1;
    e.offsets[k] = Offset{};
    e.word_ids[k] = -1;
    e.sequence_ids[k] = -1;
    ++k;
  };
  auto pieces = [&](const detail::Pieces& p, Range r, int32_t type_id, int32_t seq) {
    const detail::Piece* items = p.items.data();
    for (size_t i = r.begin; i < r.end; ++i, ++k) {
      const detail::Piece& pc = items[i];
      e.ids[k] = pc.id;
      e.type_ids[k] = type_id;
      e.special_tokens_mask[k] = 0;
      e.offsets[k] = Offset{pc.begin, pc.end};
      e.word_ids[k] = pc.word;
      e.sequence_ids[k] = seq;
    }
  };
  if (specials) special(tk.cls, 0);
  pieces(a, ra, 0, 0);
  if (specials) special(tk.sep, 0);
  if (b) {
    pieces(*b, rb, 1, 1);
    if (specials) special(tk.sep, 1);
  }
  if (o.return_tokens) {
    e.tokens.resize(n);
    const std::string_view* surface = tk.surface.data();
    for (size_t i = 0; i < n; ++i) e.tokens[i] = surface[static_cast<size_t>(e.ids[i])];
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

// Long on purpose: HF tokenizers' truncation, overflow windows, template (specials, type ids)
// and offsets in one order, as TemplateProcessing applies them (parity with BertTokenizerFast).
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
      fail("tokenizer",
           "max_length " + std::to_string(max_length) + " is smaller than the " +
               std::to_string(added) + " special tokens of a " + (b ? "pair" : "single sequence"),
           "use max_length >= " + std::to_string(added));
    }
    if (max_length >= 2 && o.stride > max_length - 2) {
      // HF checks this when truncation is set up, against a single sequence's 2 specials.
      fail("tokenizer",
           "stride " + std::to_string(o.stride) + " is larger than max_length " +
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
                   " tokens but " + std::to_string(to_remove) + " must go to fit max_length " +
                   std::to_string(max_length),
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
      for (size_t j = 1; j < wb.size(); ++j)
        main.overflowing.push_back(build(*this, a, wa[i], pb, wb[j], o));
    }
    for (size_t j = 1; j < wb.size(); ++j)
      main.overflowing.push_back(build(*this, a, wa[0], pb, wb[j], o));
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
    for (const Encoding* e : mains)
      length = std::max(length, e->size());  // first windows only, as HF
  }
  if (o.pad_to_multiple_of > 0 && length % o.pad_to_multiple_of != 0) {
    length += o.pad_to_multiple_of - length % o.pad_to_multiple_of;
  }
  for (Encoding* e : mains) pad_to(*e, length, o, tk);
}

}  // namespace clintorch::tok
