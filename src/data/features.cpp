#include "data/features.h"

#include <algorithm>

#include "data/text_io.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/strings.h"

namespace clintorch::data {

UnknownLabels parse_unknown_labels(const std::string& name) {
  if (const auto policy = choice_from_name<UnknownLabels>(name)) return *policy;
  if (name == "O" || name == "o") return UnknownLabels::kMapToO;
  fail("unknown_labels",
       "unknown policy '" + name + "'" + did_you_mean(name, choice_names<UnknownLabels>()),
       "use error, map_to_o (NER) or ignore");
}

std::vector<std::pair<size_t, size_t>> window_ranges(size_t n, size_t room, size_t stride) {
  if (room == 0) fail("max_seq_length", "leaves no room for text after the special tokens");
  if (n <= room) return {{0, n}};
  if (stride >= room) {
    fail("doc_stride",
         "doc_stride " + std::to_string(stride) + " must be smaller than the " +
             std::to_string(room) + " tokens a window holds",
         "lower doc_stride or raise max_seq_length");
  }
  std::vector<std::pair<size_t, size_t>> out;
  const size_t step = room - stride;
  for (size_t start = 0;; start += step) {
    const size_t stop = std::min(start + room, n);
    out.emplace_back(start, stop);
    if (stop == n) break;
  }
  return out;
}

namespace {

tok::EncodeOptions pieces_only() {
  tok::EncodeOptions eo;
  eo.add_special_tokens = false;
  eo.return_tokens = false;
  return eo;
}

// `word` >= 0: the label of that word (0-based) of the example starting at `line`.
[[noreturn]] void unknown_label(const std::string& file, size_t line, const std::string& label,
                                const LabelMap& labels, int64_t word = -1) {
  const std::string at = word < 0 ? where(file, line)
                                  : where(file, line) + " (word " + std::to_string(word + 1) +
                                        " of the example starting on this line)";
  fail(at,
       "label '" + label + "' is not among the " + std::to_string(labels.size()) +
           " training labels" + did_you_mean(label, labels.labels()),
       "fix the label, or set data.unseen_label_policy: map_to_o in the recipe (NER; "
       "`evaluate --unknown-labels map_to_o|ignore`)");
}

int32_t ner_label_id(const std::string& tag, const LabelMap& labels, UnknownLabels policy,
                     const std::string& file, size_t line, size_t word) {
  const int32_t id = labels.id(tag);
  if (id >= 0) return id;
  switch (policy) {
    case UnknownLabels::kError:
      unknown_label(file, line, tag, labels, static_cast<int64_t>(word));
    case UnknownLabels::kMapToO: {
      const int32_t o = labels.id("O");
      if (o < 0) {
        fail(where(file, line),
             "label '" + tag + "' is unknown and there is no 'O' label to map it to");
      }
      return o;
    }
    case UnknownLabels::kIgnore:
      return -100;
  }
  return -100;
}

}  // namespace

// ------------------------------------------------------------------------------- NER

void build_ner_features(const tok::Tokenizer& tokenizer, const NerExample& ex,
                        uint32_t example_index, const LabelMap& labels, const FeatureOptions& o,
                        const std::string& file, std::vector<Feature>& out, WordIndex& words) {
  if (o.max_seq_length < 3) fail("max_seq_length", "must be at least 3");
  const tok::Encoding enc = tokenizer.encode_words(ex.words, pieces_only());
  const size_t n = enc.size();
  const bool labeled = !ex.tags.empty();
  // Label id of each word.
  std::vector<int32_t> word_label;
  if (labeled) {
    word_label.resize(ex.words.size());
    for (size_t w = 0; w < ex.words.size(); ++w) {
      word_label[w] = ner_label_id(ex.tags[w], labels, o.unknown_labels, file, ex.line, w);
    }
  }
  const std::vector<int32_t> b_to_i = o.label_all_tokens ? labels.b_to_i() : std::vector<int32_t>{};
  // Per-piece labels, exactly as HF tokenize_and_align_labels.
  std::vector<int32_t> piece_label(n, -100);
  words.num_tokens = static_cast<uint32_t>(n);
  words.word_first_token.assign(ex.words.size(), -1);
  int32_t previous = -1;
  for (size_t i = 0; i < n; ++i) {
    const int32_t w = enc.word_ids[i];
    if (w != previous) {
      words.word_first_token[static_cast<size_t>(w)] = static_cast<int32_t>(i);
      if (labeled) piece_label[i] = word_label[static_cast<size_t>(w)];
    } else if (labeled && o.label_all_tokens) {
      const int32_t l = word_label[static_cast<size_t>(w)];
      piece_label[i] = l < 0 ? l : b_to_i[static_cast<size_t>(l)];
    }
    previous = w;
  }
  const auto ranges = window_ranges(n, o.max_seq_length - 2, o.doc_stride);
  const int32_t cls = tokenizer.cls_id(), sep = tokenizer.sep_id();
  for (size_t k = 0; k < ranges.size(); ++k) {
    const auto [s, e] = ranges[k];
    Feature f;
    const size_t len = e - s + 2;
    f.input_ids.reserve(len);
    f.input_ids.push_back(cls);
    f.input_ids.insert(f.input_ids.end(), enc.ids.begin() + static_cast<std::ptrdiff_t>(s),
                       enc.ids.begin() + static_cast<std::ptrdiff_t>(e));
    f.input_ids.push_back(sep);
    f.token_type_ids.assign(len, 0);
    f.token_labels.reserve(len);
    f.token_labels.push_back(-100);
    f.token_labels.insert(f.token_labels.end(),
                          piece_label.begin() + static_cast<std::ptrdiff_t>(s),
                          piece_label.begin() + static_cast<std::ptrdiff_t>(e));
    f.token_labels.push_back(-100);
    f.word_ids.reserve(len);
    f.word_ids.push_back(-1);
    f.word_ids.insert(f.word_ids.end(), enc.word_ids.begin() + static_cast<std::ptrdiff_t>(s),
                      enc.word_ids.begin() + static_cast<std::ptrdiff_t>(e));
    f.word_ids.push_back(-1);
    f.example = example_index;
    f.window = static_cast<uint32_t>(k);
    f.token_begin = static_cast<uint32_t>(s);
    f.token_count = static_cast<uint32_t>(e - s);
    out.push_back(std::move(f));
  }
}

// ------------------------------------------------------------------------------- classification

namespace {

// Windows of a single text or a pair: the longer sequence slides, the other stays whole.
void build_text_windows(const tok::Tokenizer& tokenizer, const std::string& text,
                        const std::string* pair, const FeatureOptions& o, const std::string& file,
                        size_t line, uint32_t example_index, const Feature& prototype,
                        std::vector<Feature>& out) {
  const tok::Encoding a = tokenizer.encode(text, pieces_only());
  tok::Encoding b;
  if (pair) b = tokenizer.encode(*pair, pieces_only());
  const int32_t cls = tokenizer.cls_id(), sep = tokenizer.sep_id();
  const size_t special = pair ? 3 : 2;
  if (o.max_seq_length <= special) fail("max_seq_length", "is too small for the special tokens");
  const bool slide_a = !pair || a.size() >= b.size();
  const size_t fixed = pair ? (slide_a ? b.size() : a.size()) : 0;
  if (fixed + special >= o.max_seq_length || (a.size() + b.size() + special > o.max_seq_length &&
                                              o.max_seq_length - special - fixed <= o.doc_stride)) {
    fail(where(file, line),
         "the shorter text of the pair has " + std::to_string(fixed) +
             " tokens: too long to slide the other one through windows of " +
             std::to_string(o.max_seq_length) + " tokens with doc_stride " +
             std::to_string(o.doc_stride),
         "raise max_seq_length or lower doc_stride");
  }
  const tok::Encoding& slid = slide_a ? a : b;
  const auto ranges = window_ranges(slid.size(), o.max_seq_length - special - fixed, o.doc_stride);
  for (size_t k = 0; k < ranges.size(); ++k) {
    const auto [s, e] = ranges[k];
    Feature f = prototype;
    auto append = [&](const tok::Encoding& enc, size_t from, size_t to, uint8_t type) {
      f.input_ids.insert(f.input_ids.end(), enc.ids.begin() + static_cast<std::ptrdiff_t>(from),
                         enc.ids.begin() + static_cast<std::ptrdiff_t>(to));
      f.token_type_ids.insert(f.token_type_ids.end(), to - from, type);
    };
    f.input_ids.push_back(cls);
    f.token_type_ids.push_back(0);
    if (slide_a)
      append(a, s, e, 0);
    else
      append(a, 0, a.size(), 0);
    f.input_ids.push_back(sep);
    f.token_type_ids.push_back(0);
    if (pair) {
      if (slide_a)
        append(b, 0, b.size(), 1);
      else
        append(b, s, e, 1);
      f.input_ids.push_back(sep);
      f.token_type_ids.push_back(1);
    }
    f.example = example_index;
    f.window = static_cast<uint32_t>(k);
    f.token_begin = static_cast<uint32_t>(s);
    f.token_count = static_cast<uint32_t>(e - s);
    out.push_back(std::move(f));
  }
}

}  // namespace

void build_cls_features(const tok::Tokenizer& tokenizer, const ClsExample& ex,
                        uint32_t example_index, const LabelMap& labels, const FeatureOptions& o,
                        const std::string& file, std::vector<Feature>& out) {
  Feature proto;
  if (ex.labeled) {
    switch (o.problem_type) {
      case ProblemType::kSingleLabel: {
        const int32_t id = labels.id(ex.labels.at(0));
        if (id < 0 && o.unknown_labels != UnknownLabels::kIgnore) {
          unknown_label(file, ex.line, ex.labels[0], labels);
        }
        proto.label = id < 0 ? -100 : id;
        break;
      }
      case ProblemType::kMultiLabel:
        proto.targets.assign(labels.size(), 0.0f);
        for (const auto& l : ex.labels) {
          const int32_t id = labels.id(l);
          if (id < 0) {
            if (o.unknown_labels != UnknownLabels::kIgnore) unknown_label(file, ex.line, l, labels);
            continue;
          }
          proto.targets[static_cast<size_t>(id)] = 1.0f;
        }
        break;
      case ProblemType::kRegression:
        proto.targets = {ex.value};
        break;
    }
  }
  build_text_windows(tokenizer, ex.text, ex.has_pair ? &ex.text_pair : nullptr, o, file, ex.line,
                     example_index, proto, out);
}

// ------------------------------------------------------------------------------- QA

void build_qa_features(const tok::Tokenizer& tokenizer, const QaExample& ex, uint32_t example_index,
                       const FeatureOptions& o, const std::string& file,
                       std::vector<Feature>& out) {
  const std::string_view question =
      o.lstrip_question ? lstrip_unicode(ex.question) : std::string_view(ex.question);
  tok::EncodeOptions eo;
  eo.truncation = tok::Truncation::kOnlySecond;
  eo.max_length = o.max_seq_length;
  eo.stride = o.doc_stride;
  eo.return_overflowing = true;
  eo.return_tokens = false;
  tok::Encoding enc;
  try {
    enc = tokenizer.encode_pair(question, ex.context, eo);
  } catch (const Error& e) {
    fail(where(file, ex.line), "question '" + ex.id + "' cannot be windowed: " + e.what(),
         "the question must leave more than doc_stride tokens of room; raise max_seq_length or "
         "lower doc_stride");
  }
  // Byte -> code point index of the context.
  std::vector<int32_t> cp_of_byte(ex.context.size() + 1, 0);
  {
    int32_t cp = -1;
    for (size_t i = 0; i < ex.context.size(); ++i) {
      if ((static_cast<unsigned char>(ex.context[i]) & 0xC0) != 0x80) ++cp;
      cp_of_byte[i] = cp;
    }
    cp_of_byte[ex.context.size()] = cp + 1;
  }
  const bool labeled = !ex.answers.empty() || ex.is_impossible;
  std::vector<tok::Encoding*> windows{&enc};
  for (auto& w : enc.overflowing) windows.push_back(&w);
  for (size_t k = 0; k < windows.size(); ++k) {
    const tok::Encoding& w = *windows[k];
    Feature f;
    f.input_ids = w.ids;
    f.token_type_ids.assign(w.type_ids.begin(), w.type_ids.end());
    f.context_offsets.resize(w.size());
    int32_t first_ctx = -1, last_ctx = -1;
    for (size_t i = 0; i < w.size(); ++i) {
      if (w.sequence_ids[i] != 1) continue;
      if (first_ctx < 0) first_ctx = static_cast<int32_t>(i);
      last_ctx = static_cast<int32_t>(i);
      const auto off = w.offsets[i];
      // A token's end byte maps to the code point after its last character.
      const int32_t cb = cp_of_byte[off.begin];
      const int32_t ce = off.end == 0 ? 0 : cp_of_byte[off.end - 1] + 1;
      f.context_offsets[i] = CharSpan{cb, ce};
    }
    f.example = example_index;
    f.window = static_cast<uint32_t>(k);
    if (first_ctx >= 0) {
      f.token_begin = static_cast<uint32_t>(first_ctx);
      f.token_count = static_cast<uint32_t>(last_ctx - first_ctx + 1);
    }
    if (labeled) {
      const int32_t cls_index = 0;  // [CLS] opens every window (right padding, question first)
      f.start_position = f.end_position = cls_index;
      if (!ex.answers.empty() && first_ctx >= 0) {
        // HF prepare_train_features: the first answer, located through the offsets.
        const uint32_t start_b = ex.answers[0].bytes.begin;
        const uint32_t end_b = ex.answers[0].bytes.end;
        int32_t ts = first_ctx, te = last_ctx;
        if (w.offsets[static_cast<size_t>(ts)].begin <= start_b &&
            w.offsets[static_cast<size_t>(te)].end >= end_b) {
          // Unlike HF, the scan stops at the window's last context token: HF walks on through
          // [SEP] (offset 0) and mislabels answers that start in the last context token.
          while (ts <= last_ctx && w.offsets[static_cast<size_t>(ts)].begin <= start_b) ++ts;
          f.start_position = ts - 1;
          while (te >= first_ctx && w.offsets[static_cast<size_t>(te)].end >= end_b) --te;
          f.end_position = te + 1;
        }
      }
    }
    out.push_back(std::move(f));
  }
}

// ------------------------------------------------------------------------------- RE

std::vector<int32_t> add_entity_markers(tok::Tokenizer& tokenizer,
                                        const std::vector<std::string>& markers) {
  return tokenizer.add_special_tokens(markers);
}

void build_re_features(const tok::Tokenizer& tokenizer, const ReExample& ex, uint32_t example_index,
                       const LabelMap& labels, const FeatureOptions& o, const std::string& file,
                       const std::vector<std::string>& markers, std::vector<Feature>& out) {
  Feature proto;
  if (ex.labeled) {
    const int32_t id = labels.id(ex.label);
    if (id < 0 && o.unknown_labels != UnknownLabels::kIgnore) {
      unknown_label(file, ex.line, ex.label, labels);
    }
    proto.label = id < 0 ? -100 : id;
  }
  if (!ex.has_markers) {
    build_text_windows(tokenizer, ex.text, nullptr, o, file, ex.line, example_index, proto, out);
    return;
  }
  const int32_t head_id = tokenizer.token_to_id(markers.at(0));
  const int32_t tail_id = tokenizer.token_to_id(markers.at(2));
  for (const auto& m : markers) {
    const int32_t id = tokenizer.token_to_id(m);
    const auto& added = tokenizer.added_tokens();
    const bool is_added = std::any_of(added.begin(), added.end(),
                                      [&](const tok::AddedToken& t) { return t.content == m; });
    if (id < 0 || !is_added) {
      fail(where(file, ex.line), "the entity marker '" + m + "' is not a token of the tokenizer",
           "add the markers first (data::add_entity_markers) and resize the model's embeddings");
    }
  }
  std::vector<Feature> windows;
  build_text_windows(tokenizer, ex.text, nullptr, o, file, ex.line, example_index, proto, windows);
  uint32_t kept = 0;
  for (auto& f : windows) {
    const auto h = std::find(f.input_ids.begin(), f.input_ids.end(), head_id);
    const auto t = std::find(f.input_ids.begin(), f.input_ids.end(), tail_id);
    if (h == f.input_ids.end() || t == f.input_ids.end()) continue;
    f.head_marker = static_cast<int32_t>(h - f.input_ids.begin());
    f.tail_marker = static_cast<int32_t>(t - f.input_ids.begin());
    f.window = kept++;
    out.push_back(std::move(f));
  }
  if (kept == 0) {
    fail(where(file, ex.line),
         "no window of " + std::to_string(o.max_seq_length) +
             " tokens holds both the head and the tail marker",
         "raise max_seq_length (up to the model's max_position_embeddings) or lower doc_stride");
  }
}

}  // namespace clintorch::data
