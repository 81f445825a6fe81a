// Text -> WordPiece pieces in one pass: added-token splitting, BertNormalizer, BertPreTokenizer
// and LinMaxMatch WordPiece are fused, so a word is matched while it is being read. ASCII takes
// a table-driven fast path; other characters go through a per-BMP table built from utf8proc at
// load time (or utf8proc directly for the rare multi-character cases and astral planes).
#include <algorithm>
#include <array>

#include "tokenizer/tokenizer_impl.h"

namespace clintorch::tok {

using detail::Pieces;
using detail::Scratch;

namespace {

enum AsciiClass : uint8_t { kAsciiWord = 0, kAsciiSpace = 1, kAsciiPunct = 2, kAsciiDrop = 3 };

// Builds the words of one sequence and runs WordPiece on them as their bytes arrive.
class Emitter {
 public:
  Emitter(const Tokenizer::Impl& tk, Pieces& out, Scratch& scratch, int32_t fixed_word,
          int32_t first_word)
      : tk_(tk),
        trie_(tk.trie),
        out_(out),
        sc_(scratch),
        fixed_word_(fixed_word),
        next_word_(first_word) {}

  // One normalised character of class `cls` whose UTF-8 bytes are `bytes` and which came from
  // the original byte range [ob, oe).
  void on_char(detail::CharClass cls, const uint8_t* bytes, uint32_t n, uint32_t ob, uint32_t oe) {
    if (cls == detail::kWordChar) {
      add_char(bytes, n, ob, oe);
    } else if (cls == detail::kSpace) {
      finish();
    } else {
      finish();
      add_char(bytes, n, ob, oe);
      finish();
    }
  }

  // A word character.
  void add_char(const uint8_t* bytes, uint32_t n, uint32_t ob, uint32_t oe) {
    if (!active_) start(ob);
    w_end_ = oe;
    if (++nchars_ > tk_.max_chars_per_word) ok_ = false;
    if (!ok_) return;  // the word will be [UNK]: only its extent matters from now on
    if (identity_ && (ob != w_begin_ + nbytes_ || oe != ob + n)) materialize();
    if (!identity_) {
      sc_.norm_begin.resize(nbytes_ + n);
      sc_.norm_end.resize(nbytes_ + n);
      for (uint32_t j = 0; j < n; ++j) {
        sc_.norm_begin[nbytes_ + j] = ob;
        sc_.norm_end[nbytes_ + j] = oe;
      }
    }
    nbytes_ += n;
    for (uint32_t j = 0; j < n; ++j) {
      feed(bytes[j]);
      if (!ok_) return;
    }
  }

  // Hot path: a run of n ASCII word bytes starting at original position pos; `norm` maps each
  // byte to its normalised form.
  void add_ascii_run(const uint8_t* bytes, uint32_t n, uint32_t pos, const uint8_t* norm) {
    if (!active_) start(pos);
    w_end_ = pos + n;
    nchars_ += n;
    if (nchars_ > tk_.max_chars_per_word) ok_ = false;
    if (!ok_) return;
    if (identity_ && pos != w_begin_ + nbytes_) materialize();
    if (!identity_) {
      sc_.norm_begin.resize(nbytes_ + n);
      sc_.norm_end.resize(nbytes_ + n);
      for (uint32_t j = 0; j < n; ++j) {
        sc_.norm_begin[nbytes_ + j] = pos + j;
        sc_.norm_end[nbytes_ + j] = pos + j + 1;
      }
    }
    nbytes_ += n;
    int32_t node = node_;
    for (uint32_t j = 0; j < n; ++j) {
      const uint8_t c = norm[bytes[j]];
      const int32_t next = trie_.step(node, c);
      if (next >= 0) {
        node = next;
        continue;
      }
      node_ = node;
      feed(c);  // failure transitions (pops), rare
      if (!ok_) return;
      node = node_;
    }
    node_ = node;
  }

  // One ASCII punctuation character: a word of its own.
  void add_ascii_single(uint8_t byte, uint32_t pos) {
    finish();
    add_ascii_run(&byte, 1, pos, identity_table());
    finish();
  }

  // Ends the current word (if any): flushes the remaining pieces, or makes it one [UNK].
  void finish() {
    if (!active_) return;
    active_ = false;
    if (ok_) {
      while (node_ != trie_.suffix_root()) {
        const int32_t f = trie_.fail(node_);
        if (f < 0) {
          ok_ = false;
          break;
        }
        emit_pops(node_);
        node_ = f;
      }
    }
    if (!ok_) {
      out_.items.resize(out_start_);
      push(tk_.unk, w_begin_, w_end_);
    }
    if (fixed_word_ < 0) ++next_word_;
  }

  // An added token matched at [ob, oe): a word of its own.
  void added_token(int32_t id, uint32_t ob, uint32_t oe) {
    finish();
    push(id, ob, oe);
    if (fixed_word_ < 0) ++next_word_;
  }

  int32_t next_word() const { return next_word_; }

  static const uint8_t* identity_table() {
    static const auto table = [] {
      std::array<uint8_t, 256> t{};
      for (int i = 0; i < 256; ++i) t[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
      return t;
    }();
    return table.data();
  }

 private:
  int32_t word_id() const { return fixed_word_ >= 0 ? fixed_word_ : next_word_; }

  void start(uint32_t ob) {
    active_ = true;
    ok_ = true;
    identity_ = true;
    w_begin_ = ob;
    nchars_ = nbytes_ = cursor_ = 0;
    node_ = trie_.initial_root();
    out_start_ = out_.items.size();
    sc_.norm_begin.clear();
    sc_.norm_end.clear();
  }

  // Switches from "normalised byte j is original byte w_begin + j" to explicit arrays.
  void materialize() {
    identity_ = false;
    sc_.norm_begin.resize(nbytes_);
    sc_.norm_end.resize(nbytes_);
    for (uint32_t j = 0; j < nbytes_; ++j) {
      sc_.norm_begin[j] = w_begin_ + j;
      sc_.norm_end[j] = w_begin_ + j + 1;
    }
  }

  void feed(uint8_t byte) {
    for (;;) {
      const int32_t next = trie_.step(node_, byte);
      if (next >= 0) {
        node_ = next;
        return;
      }
      const int32_t f = trie_.fail(node_);
      if (f < 0) {
        ok_ = false;
        return;
      }
      emit_pops(node_);
      node_ = f;
    }
  }

  void emit_pops(int32_t node) {
    const int32_t* ids = trie_.pops(node);
    const uint32_t count = trie_.pops_count(node);
    for (uint32_t k = 0; k < count; ++k) {
      const int32_t id = ids[k];
      const uint32_t a = cursor_;
      const uint32_t b = cursor_ + trie_.piece_length(id);
      cursor_ = b;
      if (identity_) {
        push(id, w_begin_ + a, w_begin_ + b);
      } else {
        push(id, sc_.norm_begin[a], sc_.norm_end[b - 1]);
      }
    }
  }

  void push(int32_t id, uint32_t begin, uint32_t end) {
    out_.items.push_back(detail::Piece{id, begin, end, word_id()});
  }

  const Tokenizer::Impl& tk_;
  const detail::WordPieceTrie& trie_;
  Pieces& out_;
  Scratch& sc_;
  const int32_t fixed_word_;
  int32_t next_word_;

  bool active_ = false;
  bool ok_ = true;
  bool identity_ = true;
  uint32_t w_begin_ = 0, w_end_ = 0;
  uint32_t nchars_ = 0, nbytes_ = 0, cursor_ = 0;
  int32_t node_ = 0;
  size_t out_start_ = 0;
};

// Normalises one non-ASCII code point from [ob, oe) and hands its outputs to `sink(cls, bytes,
// n)`.
template <typename Sink>
inline void normalize_cp(const Tokenizer::Impl& tk, char32_t cp, Sink&& sink) {
  uint8_t buf[4];
  if (cp < 0x10000) {
    const uint32_t e = tk.bmp.get(cp);
    if (e == detail::BmpTable::kDropped) return;
    if (e & 1u) {
      const auto out = static_cast<char32_t>(e >> 3);
      const auto cls = static_cast<detail::CharClass>((e >> 1) & 3u);
      const auto n = static_cast<uint32_t>(detail::encode_utf8(out, buf));
      sink(cls, buf, n);
      return;
    }
  }
  detail::NormalizedChar nc;
  detail::normalize_char(cp, tk.flags, nc);
  for (int k = 0; k < nc.count; ++k) {
    const auto n = static_cast<uint32_t>(detail::encode_utf8(nc.cp[k], buf));
    sink(nc.cls[k], buf, n);
  }
}

// The fused loop over raw bytes [begin, end) of the text.
void scan(const Tokenizer::Impl& tk, const uint8_t* p, size_t begin, size_t end, Emitter& em,
          uint32_t& invalid) {
  size_t i = begin;
  while (i < end) {
    const uint8_t b = p[i];
    if (b < 0x80) {
      const auto pos = static_cast<uint32_t>(i);
      switch (tk.ascii_class[b]) {
        case kAsciiWord: {
          size_t j = i + 1;
          while (j < end && p[j] < 0x80 && tk.ascii_class[p[j]] == kAsciiWord) ++j;
          em.add_ascii_run(p + i, static_cast<uint32_t>(j - i), pos, tk.ascii_norm);
          i = j;
          continue;
        }
        case kAsciiSpace:
          em.finish();
          break;
        case kAsciiPunct:
          em.add_ascii_single(tk.ascii_norm[b], pos);
          break;
        default:
          break;  // dropped control character
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    bool valid = true;
    const size_t len = detail::decode_utf8(p + i, p + end, cp, valid);
    if (!valid) ++invalid;
    const auto ob = static_cast<uint32_t>(i);
    const auto oe = static_cast<uint32_t>(i + len);
    normalize_cp(tk, cp, [&](detail::CharClass cls, const uint8_t* bytes, uint32_t n) {
      em.on_char(cls, bytes, n, ob, oe);
    });
    i += len;
  }
}

// General path for a segment when normalised added tokens exist: normalise into a buffer, cut
// out the added tokens found in the normalised text, replay the rest.
void scan_with_normalized_tokens(const Tokenizer::Impl& tk, const uint8_t* p, size_t begin,
                                 size_t end, Emitter& em, Scratch& sc, uint32_t& invalid) {
  sc.norm_chars.clear();
  sc.norm_text.clear();
  sc.norm_text_char.clear();
  auto add = [&](detail::CharClass cls, const uint8_t* bytes, uint32_t n, uint32_t ob,
                 uint32_t oe) {
    Scratch::NormChar c{};
    c.begin = ob;
    c.end = oe;
    c.len = static_cast<uint8_t>(n);
    c.cls = static_cast<uint8_t>(cls);
    for (uint32_t j = 0; j < n; ++j) c.bytes[j] = bytes[j];
    for (uint32_t j = 0; j < n; ++j) {
      sc.norm_text.push_back(static_cast<char>(bytes[j]));
      sc.norm_text_char.push_back(static_cast<uint32_t>(sc.norm_chars.size()));
    }
    sc.norm_chars.push_back(c);
  };
  size_t i = begin;
  while (i < end) {
    const uint8_t b = p[i];
    if (b < 0x80) {
      const auto cls = tk.ascii_class[b];
      if (cls != kAsciiDrop) {
        const uint8_t nb = tk.ascii_norm[b];
        add(static_cast<detail::CharClass>(cls), &nb, 1, static_cast<uint32_t>(i),
            static_cast<uint32_t>(i + 1));
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    bool valid = true;
    const size_t len = detail::decode_utf8(p + i, p + end, cp, valid);
    if (!valid) ++invalid;
    const auto ob = static_cast<uint32_t>(i);
    const auto oe = static_cast<uint32_t>(i + len);
    normalize_cp(tk, cp, [&](detail::CharClass cls, const uint8_t* bytes, uint32_t n) {
      add(cls, bytes, n, ob, oe);
    });
    i += len;
  }
  const auto* text = reinterpret_cast<const uint8_t*>(sc.norm_text.data());
  const size_t n = sc.norm_text.size();
  size_t pos = 0;
  auto replay = [&](size_t from, size_t to) {  // bytes of norm_text, at char boundaries
    size_t k = from;
    while (k < to) {
      const auto& c = sc.norm_chars[sc.norm_text_char[k]];
      em.on_char(static_cast<detail::CharClass>(c.cls), c.bytes, c.len, c.begin, c.end);
      k += c.len;
    }
  };
  size_t seg = 0;
  while (pos < n) {
    const bool char_start = pos == 0 || sc.norm_text_char[pos] != sc.norm_text_char[pos - 1];
    int32_t index = -1;
    size_t len = 0;
    if (char_start && tk.norm_matcher.may_start(text[pos]))
      len = tk.norm_matcher.match(text, pos, n, index);
    // A match must end on a character boundary.
    if (len && pos + len < n && sc.norm_text_char[pos + len] == sc.norm_text_char[pos + len - 1])
      len = 0;
    if (!len) {
      ++pos;
      continue;
    }
    replay(seg, pos);
    const auto& first = sc.norm_chars[sc.norm_text_char[pos]];
    const auto& last = sc.norm_chars[sc.norm_text_char[pos + len - 1]];
    em.added_token(tk.added_ids[static_cast<size_t>(index)], first.begin, last.end);
    pos += len;
    seg = pos;
  }
  replay(seg, n);
}

bool is_word_char(char32_t cp) {
  // Alphanumeric or underscore, as HF's single_word check.
  if (cp == '_') return true;
  if (cp < 0x80)
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  return !detail::is_bert_whitespace(cp) && !detail::is_bert_punctuation(cp) &&
         !detail::is_bert_control(cp);
}

// The code point that ends at byte `pos` (exclusive) of p, scanning back at most 4 bytes.
char32_t char_before(const uint8_t* p, size_t pos) {
  size_t start = pos - 1;
  while (start > 0 && pos - start < 4 && (p[start] & 0xC0) == 0x80) --start;
  char32_t cp = 0;
  bool valid = true;
  detail::decode_utf8(p + start, p + pos, cp, valid);
  return cp;
}

}  // namespace

void Tokenizer::Impl::encode_sequence(std::string_view text, int32_t word_id, Pieces& out,
                                      Scratch& scratch) const {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  Emitter em(*this, out, scratch, word_id, 0);
  uint32_t invalid = 0;
  auto segment = [&](size_t from, size_t to) {
    if (from >= to) return;
    if (norm_matcher.empty()) {
      scan(*this, p, from, to, em, invalid);
    } else {
      scan_with_normalized_tokens(*this, p, from, to, em, scratch, invalid);
    }
  };
  if (raw_matcher.empty()) {
    segment(0, n);
  } else {
    size_t seg = 0;
    size_t i = 0;
    while (i < n) {
      int32_t index = -1;
      const size_t len = raw_matcher.may_start(p[i]) ? raw_matcher.match(p, i, n, index) : 0;
      if (!len) {
        ++i;
        continue;
      }
      const AddedToken& tok = added[static_cast<size_t>(index)];
      size_t start = i, stop = i + len;
      if (tok.single_word) {
        bool before_ok = start == 0 || !is_word_char(char_before(p, start));
        bool after_ok = true;
        if (stop < n) {
          char32_t cp = 0;
          bool valid = true;
          detail::decode_utf8(p + stop, p + n, cp, valid);
          after_ok = !is_word_char(cp);
        }
        if (!before_ok || !after_ok) {
          i = stop;  // like HF, matching resumes after the discarded match
          continue;
        }
      }
      if (tok.lstrip) {
        while (start > seg) {
          size_t prev = start - 1;
          while (prev > seg && start - prev < 4 && (p[prev] & 0xC0) == 0x80) --prev;
          char32_t cp = 0;
          bool valid = true;
          const size_t l = detail::decode_utf8(p + prev, p + start, cp, valid);
          if (!valid || prev + l != start || !detail::is_bert_whitespace(cp)) break;
          start = prev;
        }
      }
      if (tok.rstrip) {
        while (stop < n) {
          char32_t cp = 0;
          bool valid = true;
          const size_t l = detail::decode_utf8(p + stop, p + n, cp, valid);
          if (!valid || !detail::is_bert_whitespace(cp)) break;
          stop += l;
        }
      }
      segment(seg, start);
      em.added_token(added_ids[static_cast<size_t>(index)], static_cast<uint32_t>(start),
                     static_cast<uint32_t>(stop));
      seg = i = stop;
    }
    segment(seg, n);
  }
  em.finish();
  out.invalid_utf8 += invalid;
}

void Tokenizer::Impl::encode_words(const std::string_view* words, size_t count, Pieces& out,
                                   Scratch& scratch) const {
  for (size_t w = 0; w < count; ++w)
    encode_sequence(words[w], static_cast<int32_t>(w), out, scratch);
}

}  // namespace clintorch::tok
