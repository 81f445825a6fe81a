// NER metrics: a re-implementation of seqeval 1.2's entity readers and scores (see ner_metrics.h).
// The comments name the seqeval function each part mirrors; tests/python/test_metrics_parity.py
// checks every number against seqeval itself on randomised and edge-case inputs.
#include "eval/ner_metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace clintorch::eval {
namespace {

constexpr const char* kWhere = "NER metrics";

// Byte length of the first / last UTF-8 code point of a non-empty string (Python's s[0], s[-1]).
size_t first_code_point_length(const std::string& s) {
  const auto lead = static_cast<unsigned char>(s[0]);
  size_t n = 1;
  if (lead >= 0xF0) {
    n = 4;
  } else if (lead >= 0xE0) {
    n = 3;
  } else if (lead >= 0xC0) {
    n = 2;
  }
  return std::min(n, s.size());
}

size_t last_code_point_length(const std::string& s) {
  size_t n = 1;
  while (n < s.size() && n < 4 && (static_cast<unsigned char>(s[s.size() - n]) & 0xC0) == 0x80) {
    ++n;
  }
  return n;
}

// "gold sentence 3, token 5"; without a side "sentence 3, token 5"; sentence < 0: "token 5".
std::string tag_location(const std::string& side, int64_t sentence, size_t token) {
  std::string out = side.empty() ? "" : side + " ";
  if (sentence >= 0) out += "sentence " + std::to_string(sentence) + ", ";
  return out + "token " + std::to_string(token);
}

// ----------------------------------------------------------------------------- default mode
// seqeval.metrics.sequence_labeling.get_entities and its helpers end_of_chunk / start_of_chunk.

struct ChunkTag {
  std::string prefix;  // the one-character chunk tag: "B", "I", "O", "E", "S", or anything else
  std::string type;    // the entity type; "_" when the tag has none
};

ChunkTag split_chunk_tag(const std::string& chunk, bool suffix) {
  ChunkTag out;
  std::string rest;
  if (suffix) {
    const size_t n = last_code_point_length(chunk);
    out.prefix = chunk.substr(chunk.size() - n);
    rest = chunk.substr(0, chunk.size() - n);
    const size_t dash = rest.rfind('-');  // chunk[:-1].rsplit('-', maxsplit=1)[0]
    out.type = dash == std::string::npos ? rest : rest.substr(0, dash);
  } else {
    const size_t n = first_code_point_length(chunk);
    out.prefix = chunk.substr(0, n);
    rest = chunk.substr(n);
    const size_t dash = rest.find('-');  // chunk[1:].split('-', maxsplit=1)[-1]
    out.type = dash == std::string::npos ? rest : rest.substr(dash + 1);
  }
  if (out.type.empty()) out.type = "_";
  return out;
}

bool end_of_chunk(const std::string& prev_tag, const std::string& tag, const std::string& prev_type,
                  const std::string& type) {
  if (prev_tag == "E" || prev_tag == "S") return true;
  if ((prev_tag == "B" || prev_tag == "I") && (tag == "B" || tag == "S" || tag == "O")) return true;
  return prev_tag != "O" && prev_tag != "." && prev_type != type;
}

bool start_of_chunk(const std::string& prev_tag, const std::string& tag,
                    const std::string& prev_type, const std::string& type) {
  if (tag == "B" || tag == "S") return true;
  if ((prev_tag == "E" || prev_tag == "S" || prev_tag == "O") && (tag == "E" || tag == "I")) {
    return true;
  }
  return tag != "O" && tag != "." && prev_type != type;
}

// A chunk (type, first token, last token inclusive) as get_entities returns it.
struct Chunk {
  std::string type;
  int64_t begin;
  int64_t last;
};

// get_entities over an already split sequence (the sentinel "O" is appended here, as seqeval).
std::vector<Chunk> default_chunks(const std::vector<ChunkTag>& seq) {
  std::vector<Chunk> chunks;
  std::string prev_tag = "O";
  std::string prev_type;  // '' at the start, unlike the '_' of an "O" tag
  int64_t begin = 0;
  const ChunkTag sentinel{"O", "_"};
  for (size_t i = 0; i <= seq.size(); ++i) {
    const ChunkTag& cur = i < seq.size() ? seq[i] : sentinel;
    if (end_of_chunk(prev_tag, cur.prefix, prev_type, cur.type)) {
      chunks.push_back({prev_type, begin, static_cast<int64_t>(i) - 1});
    }
    if (start_of_chunk(prev_tag, cur.prefix, prev_type, cur.type)) begin = static_cast<int64_t>(i);
    prev_tag = cur.prefix;
    prev_type = cur.type;
  }
  return chunks;
}

ChunkTag checked_chunk_tag(const std::string& tag, bool suffix, const std::string& side,
                           int64_t sentence, size_t token) {
  if (tag.empty()) {
    fail(kWhere, tag_location(side, sentence, token) + ": empty tag",
         "every token needs a tag such as O, B-TYPE or I-TYPE");
  }
  return split_chunk_tag(tag, suffix);
}

// ----------------------------------------------------------------------------- strict mode
// seqeval.scheme: Prefix flags, the start/inside/end patterns of each scheme, Tokens.entities.

enum PrefixFlag : uint8_t {
  kI = 1,
  kO = 2,
  kB = 4,
  kE = 8,
  kS = 16,
  kU = 32,
  kL = 64,
  kAny = 127,
};

enum class TagCond { kSame, kDiff, kAny };

struct Pattern {
  uint8_t prev;
  uint8_t cur;
  TagCond cond;
};

struct SchemeTable {
  uint8_t allowed;
  std::vector<Pattern> start;
  std::vector<Pattern> inside;
  std::vector<Pattern> end;
};

const SchemeTable& scheme_table(TagScheme scheme) {
  using C = TagCond;
  static const SchemeTable iob1{kI | kO | kB,
                                {{kO, kI, C::kAny},
                                 {kI, kI, C::kDiff},
                                 {kB, kI, C::kAny},
                                 {kI, kB, C::kSame},
                                 {kB, kB, C::kSame}},
                                {{kB, kI, C::kSame}, {kI, kI, C::kSame}},
                                {{kI, kI, C::kDiff},
                                 {kI, kO, C::kAny},
                                 {kI, kB, C::kAny},
                                 {kB, kO, C::kAny},
                                 {kB, kI, C::kDiff},
                                 {kB, kB, C::kSame}}};
  static const SchemeTable ioe1{
      kI | kO | kE,
      {{kO, kI, C::kAny}, {kI, kI, C::kDiff}, {kE, kI, C::kAny}, {kE, kE, C::kSame}},
      {{kI, kI, C::kSame}, {kI, kE, C::kSame}},
      {{kI, kI, C::kDiff},
       {kI, kO, C::kAny},
       {kI, kE, C::kDiff},
       {kE, kI, C::kSame},
       {kE, kE, C::kSame}}};
  static const SchemeTable iob2{kI | kO | kB,
                                {{kAny, kB, C::kAny}},
                                {{kB, kI, C::kSame}, {kI, kI, C::kSame}},
                                {{kI, kO, C::kAny},
                                 {kI, kI, C::kDiff},
                                 {kI, kB, C::kAny},
                                 {kB, kO, C::kAny},
                                 {kB, kI, C::kDiff},
                                 {kB, kB, C::kAny}}};
  static const SchemeTable ioe2{kI | kO | kE,
                                {{kO, kI, C::kAny},
                                 {kO, kE, C::kAny},
                                 {kE, kI, C::kAny},
                                 {kE, kE, C::kAny},
                                 {kI, kI, C::kDiff},
                                 {kI, kE, C::kDiff}},
                                {{kI, kE, C::kSame}, {kI, kI, C::kSame}},
                                {{kE, kAny, C::kAny}}};
  static const SchemeTable iobes{
      kI | kO | kB | kE | kS,
      {{kAny, kB, C::kAny}, {kAny, kS, C::kAny}},
      {{kB, kI, C::kSame}, {kB, kE, C::kSame}, {kI, kI, C::kSame}, {kI, kE, C::kSame}},
      {{kS, kAny, C::kAny}, {kE, kAny, C::kAny}}};
  static const SchemeTable bilou{
      kB | kI | kL | kO | kU,
      {{kAny, kB, C::kAny}, {kAny, kU, C::kAny}},
      {{kB, kI, C::kSame}, {kB, kL, C::kSame}, {kI, kI, C::kSame}, {kI, kL, C::kSame}},
      {{kU, kAny, C::kAny}, {kL, kAny, C::kAny}}};
  switch (scheme) {
    case TagScheme::kIOB1:
      return iob1;
    case TagScheme::kIOE1:
      return ioe1;
    case TagScheme::kIOB2:
      return iob2;
    case TagScheme::kIOE2:
      return ioe2;
    case TagScheme::kIOBES:
      return iobes;
    case TagScheme::kBILOU:
      return bilou;
  }
  return iob2;
}

std::string prefixes_text(uint8_t flags) {
  static const std::pair<uint8_t, const char*> names[] = {
      {kI, "I"}, {kO, "O"}, {kB, "B"}, {kE, "E"}, {kS, "S"}, {kU, "U"}, {kL, "L"}};
  std::string out;
  for (const auto& [flag, name] : names) {
    if (flags & flag) out += std::string(out.empty() ? "" : ", ") + name;
  }
  return out;
}

struct StrictToken {
  uint8_t prefix;
  std::string tag;  // the entity type; "_" when empty
};

uint8_t prefix_flag(char c) {
  switch (c) {
    case 'I':
      return kI;
    case 'O':
      return kO;
    case 'B':
      return kB;
    case 'E':
      return kE;
    case 'S':
      return kS;
    case 'U':
      return kU;
    case 'L':
      return kL;
    default:
      return 0;
  }
}

// seqeval.scheme.Token.__init__ (delimiter '-').
StrictToken parse_strict_token(const std::string& token, bool suffix, const std::string& where) {
  if (token.empty()) {
    fail(kWhere, where + ": empty tag", "every token needs a tag such as O, B-TYPE or I-TYPE");
  }
  const char c = suffix ? token.back() : token.front();
  const uint8_t flag = prefix_flag(c);
  if (flag == 0) {
    fail(kWhere,
         where + ": tag '" + token + "' does not " + (suffix ? "end" : "start") +
             " with a known prefix",
         "strict mode reads tags as PREFIX-TYPE with PREFIX one of I, O, B, E, S, U, L");
  }
  std::string tag = suffix ? token.substr(0, token.size() - 1) : token.substr(1);
  const size_t first = tag.find_first_not_of('-');
  if (first == std::string::npos) {
    tag.clear();
  } else {
    tag = tag.substr(first, tag.find_last_not_of('-') - first + 1);
  }
  if (tag.empty()) tag = "_";
  return {flag, tag};
}

bool check_patterns(const StrictToken& prev, const StrictToken& cur,
                    const std::vector<Pattern>& patterns) {
  for (const Pattern& p : patterns) {
    if (!(prev.prefix & p.prev) || !(cur.prefix & p.cur)) continue;
    if (p.cond == TagCond::kAny) return true;
    const bool same = prev.tag == cur.tag;
    if (same == (p.cond == TagCond::kSame)) return true;
  }
  return false;
}

// seqeval.scheme.Tokens(...).entities for one sentence; `side`/`sentence` only name errors.
std::vector<Entity> strict_entities(const std::vector<std::string>& tags, TagScheme scheme,
                                    bool suffix, const std::string& side, int64_t sentence) {
  const SchemeTable& table = scheme_table(scheme);
  std::vector<StrictToken> ext;
  ext.reserve(tags.size() + 1);
  for (size_t t = 0; t < tags.size(); ++t) {
    ext.push_back(parse_strict_token(tags[t], suffix, tag_location(side, sentence, t)));
  }
  const StrictToken outside{kO, "_"};
  ext.push_back(outside);

  std::vector<Entity> entities;
  size_t i = 0;
  const StrictToken* prev = &outside;
  while (i < ext.size()) {
    const StrictToken& token = ext[i];
    if (!(token.prefix & table.allowed)) {  // Token.is_valid
      fail(kWhere,
           tag_location(side, sentence, i) + ": tag '" + tags[i] + "' is not valid in scheme " +
               to_string(scheme),
           "allowed prefixes: " + prefixes_text(table.allowed) +
               "; choose the scheme the data uses, or the default mode");
    }
    if (check_patterns(*prev, token, table.start)) {
      // Tokens._forward: the first token that does not continue the entity. The final "O" never
      // continues one (no scheme has O in an inside pattern), so the search always stops.
      size_t end = ext.size() - 1;
      const StrictToken* inner_prev = &token;
      for (size_t j = i + 1; j < ext.size(); ++j) {
        if (!check_patterns(*inner_prev, ext[j], table.inside)) {
          end = j;
          break;
        }
        inner_prev = &ext[j];
      }
      // Tokens._is_end
      if (check_patterns(ext[end - 1], ext[end], table.end)) {
        entities.push_back({token.tag, static_cast<int64_t>(i), static_cast<int64_t>(end)});
      }
      i = end;
    } else {
      ++i;
    }
    prev = &ext[i - 1];
  }
  return entities;
}

// ----------------------------------------------------------------------------- scores
// seqeval.metrics.v1._precision_recall_fscore_support with beta = 1.

struct Counts {
  std::vector<std::string> types;
  std::vector<int64_t> tp, pred, gold;
};

double divide_or(double numerator, int64_t denominator, double zero_value) {
  return denominator == 0 ? zero_value : numerator / static_cast<double>(denominator);
}

Scores prf(int64_t tp, int64_t pred, int64_t gold, double zero_value) {
  Scores s;
  s.precision = divide_or(static_cast<double>(tp), pred, zero_value);
  s.recall = divide_or(static_cast<double>(tp), gold, zero_value);
  double denom = s.precision + s.recall;
  if (denom == 0.0) denom = 1.0;
  s.f1 = 2.0 * s.precision * s.recall / denom;
  s.support = gold;
  return s;
}

void fill_scores(const Counts& counts, double zero_value, NerReport& report) {
  const size_t n = counts.types.size();
  std::vector<double> p(n), r(n), f(n);
  int64_t tp_total = 0, pred_total = 0, gold_total = 0;
  for (size_t k = 0; k < n; ++k) {
    Scores s = prf(counts.tp[k], counts.pred[k], counts.gold[k], zero_value);
    report.per_type.push_back({counts.types[k], s});
    p[k] = s.precision;
    r[k] = s.recall;
    f[k] = s.f1;
    tp_total += counts.tp[k];
    pred_total += counts.pred[k];
    gold_total += counts.gold[k];
  }
  report.micro = prf(tp_total, pred_total, gold_total, zero_value);

  report.macro.precision = numpy_mean(p);
  report.macro.recall = numpy_mean(r);
  report.macro.f1 = numpy_mean(f);
  report.macro.support = gold_total;

  report.weighted.support = gold_total;
  if (gold_total == 0) {
    report.weighted.precision = pred_total == 0 ? zero_value : 0.0;
    report.weighted.recall = zero_value;
    report.weighted.f1 = pred_total == 0 ? zero_value : 0.0;
  } else {
    std::vector<double> w(n), pw(n), rw(n), fw(n);
    for (size_t k = 0; k < n; ++k) {
      w[k] = static_cast<double>(counts.gold[k]);
      pw[k] = p[k] * w[k];
      rw[k] = r[k] * w[k];
      fw[k] = f[k] * w[k];
    }
    const double scale = numpy_sum(w);
    report.weighted.precision = numpy_sum(pw) / scale;
    report.weighted.recall = numpy_sum(rw) / scale;
    report.weighted.f1 = numpy_sum(fw) / scale;
  }
}

template <typename Key>
Counts count_by_type(const std::map<std::string, std::set<Key>>& gold,
                     const std::map<std::string, std::set<Key>>& pred) {
  std::set<std::string> names;
  for (const auto& kv : gold) names.insert(kv.first);
  for (const auto& kv : pred) names.insert(kv.first);
  Counts counts;
  static const std::set<Key> kEmpty;
  for (const std::string& name : names) {
    auto g = gold.find(name);
    auto p = pred.find(name);
    const std::set<Key>& gs = g == gold.end() ? kEmpty : g->second;
    const std::set<Key>& ps = p == pred.end() ? kEmpty : p->second;
    int64_t tp = 0;
    for (const Key& key : ps) tp += gs.count(key);
    counts.types.push_back(name);
    counts.tp.push_back(tp);
    counts.pred.push_back(static_cast<int64_t>(ps.size()));
    counts.gold.push_back(static_cast<int64_t>(gs.size()));
  }
  return counts;
}

// Default mode: seqeval flattens the sentences with an "O" after each and reads entities with
// global token offsets (so the counts match get_entities on the nested lists exactly).
std::map<std::string, std::set<std::pair<int64_t, int64_t>>> default_entities_by_type(
    const std::vector<std::vector<std::string>>& sentences, bool suffix, const char* side) {
  std::vector<ChunkTag> flat;
  for (size_t s = 0; s < sentences.size(); ++s) {
    for (size_t t = 0; t < sentences[s].size(); ++t) {
      flat.push_back(checked_chunk_tag(sentences[s][t], suffix, side, static_cast<int64_t>(s), t));
    }
    flat.push_back({"O", "_"});
  }
  std::map<std::string, std::set<std::pair<int64_t, int64_t>>> by_type;
  for (const Chunk& c : default_chunks(flat)) by_type[c.type].insert({c.begin, c.last});
  return by_type;
}

std::map<std::string, std::set<std::tuple<int64_t, int64_t, int64_t>>> strict_entities_by_type(
    const std::vector<std::vector<std::string>>& sentences, TagScheme scheme, bool suffix,
    const char* side) {
  std::map<std::string, std::set<std::tuple<int64_t, int64_t, int64_t>>> by_type;
  for (size_t s = 0; s < sentences.size(); ++s) {
    for (const Entity& e :
         strict_entities(sentences[s], scheme, suffix, side, static_cast<int64_t>(s))) {
      by_type[e.type].insert({static_cast<int64_t>(s), e.start, e.end});
    }
  }
  return by_type;
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

NerMode parse_ner_mode(const std::string& text) {
  const std::string t = lower_ascii(text);
  if (const auto mode = choice_from_name<NerMode>(t)) return *mode;
  if (t == "conlleval" || t == "lenient") return NerMode::kDefault;
  fail("NER mode", "unknown mode '" + text + "'", "use 'default' (conlleval-like) or 'strict'");
}

std::string to_string(NerMode mode) {
  return choice_name(mode);
}

TagScheme parse_tag_scheme(const std::string& text) {
  const std::string t = lower_ascii(text);
  if (t == "iob1") return TagScheme::kIOB1;
  if (t == "ioe1") return TagScheme::kIOE1;
  if (t == "iob2" || t == "bio") return TagScheme::kIOB2;
  if (t == "ioe2") return TagScheme::kIOE2;
  if (t == "iobes" || t == "bioes") return TagScheme::kIOBES;
  if (t == "bilou") return TagScheme::kBILOU;
  fail("NER tag scheme", "unknown scheme '" + text + "'",
       "use one of IOB1, IOE1, IOB2, IOE2, IOBES, BILOU");
}

std::string to_string(TagScheme scheme) {
  switch (scheme) {
    case TagScheme::kIOB1:
      return "IOB1";
    case TagScheme::kIOE1:
      return "IOE1";
    case TagScheme::kIOB2:
      return "IOB2";
    case TagScheme::kIOE2:
      return "IOE2";
    case TagScheme::kIOBES:
      return "IOBES";
    case TagScheme::kBILOU:
      return "BILOU";
  }
  return "IOB2";
}

std::vector<Entity> extract_entities(const std::vector<std::string>& tags,
                                     const NerMetricsOptions& options) {
  if (options.mode == NerMode::kStrict) {
    return strict_entities(tags, options.scheme, options.suffix, "", -1);
  }
  std::vector<ChunkTag> seq;
  seq.reserve(tags.size());
  for (size_t t = 0; t < tags.size(); ++t) {
    seq.push_back(checked_chunk_tag(tags[t], options.suffix, "", -1, t));
  }
  std::vector<Entity> entities;
  for (const Chunk& c : default_chunks(seq)) entities.push_back({c.type, c.begin, c.last + 1});
  return entities;
}

TagScheme detect_tag_scheme(const std::vector<std::vector<std::string>>& sequences, bool suffix) {
  uint8_t seen = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    for (size_t t = 0; t < sequences[s].size(); ++t) {
      seen |=
          parse_strict_token(sequences[s][t], suffix, tag_location("", static_cast<int64_t>(s), t))
              .prefix;
    }
  }
  auto one_of = [seen](std::initializer_list<uint8_t> sets) {
    for (uint8_t s : sets) {
      if (seen == s) return true;
    }
    return false;
  };
  if (one_of({kI | kO | kB, kI | kB, kB | kO, kB})) return TagScheme::kIOB2;
  if (one_of({kI | kO | kE, kI | kE, kE | kO, kE})) return TagScheme::kIOE2;
  if (one_of({kI | kO | kB | kE | kS, kI | kB | kE | kS, kI | kO | kB | kE, kO | kB | kE | kS,
              kI | kB | kE, kB | kE | kS, kO | kB | kE, kB | kE, kS})) {
    return TagScheme::kIOBES;
  }
  if (one_of({kI | kO | kB | kL | kU, kI | kB | kL | kU, kI | kO | kB | kL, kO | kB | kL | kU,
              kI | kB | kL, kB | kL | kU, kO | kB | kL, kB | kL, kU})) {
    return TagScheme::kBILOU;
  }
  fail(kWhere,
       "cannot detect the tagging scheme: the tags use the prefixes {" + prefixes_text(seen) + "}",
       "name the scheme explicitly (IOB2, IOBES, ...)");
}

NerReport ner_report(const std::vector<std::vector<std::string>>& gold,
                     const std::vector<std::vector<std::string>>& predicted,
                     const NerMetricsOptions& options) {
  if (options.zero_division == ZeroDivision::kNaN) {
    fail(kWhere, "zero_division=nan is not supported for NER",
         "seqeval accepts only 0 (its default 'warn') or 1");
  }
  if (gold.size() != predicted.size()) {
    fail(kWhere,
         std::to_string(gold.size()) + " gold sentences but " + std::to_string(predicted.size()) +
             " predicted sentences",
         "predict exactly one tag sequence per gold sentence");
  }
  if (gold.empty()) {  // seqeval raises TypeError on empty input
    fail(kWhere, "no sentences to score", "the evaluation set is empty");
  }
  NerReport report;
  report.options = options;
  report.num_sentences = static_cast<int64_t>(gold.size());
  int64_t correct = 0;
  for (size_t s = 0; s < gold.size(); ++s) {
    if (gold[s].size() != predicted[s].size()) {
      fail(kWhere,
           "sentence " + std::to_string(s) + " has " + std::to_string(gold[s].size()) +
               " gold tags but " + std::to_string(predicted[s].size()) + " predicted tags",
           "predict exactly one tag per gold token");
    }
    for (size_t t = 0; t < gold[s].size(); ++t) correct += gold[s][t] == predicted[s][t];
    report.num_tokens += static_cast<int64_t>(gold[s].size());
  }
  report.token_accuracy = report.num_tokens == 0 ? std::numeric_limits<double>::quiet_NaN()
                                                 : static_cast<double>(correct) /
                                                       static_cast<double>(report.num_tokens);

  const double zero_value = zero_division_value(options.zero_division);
  Counts counts;
  if (options.mode == NerMode::kStrict) {
    auto g = strict_entities_by_type(gold, options.scheme, options.suffix, "gold");
    auto p = strict_entities_by_type(predicted, options.scheme, options.suffix, "predicted");
    counts = count_by_type(g, p);
  } else {
    auto g = default_entities_by_type(gold, options.suffix, "gold");
    auto p = default_entities_by_type(predicted, options.suffix, "predicted");
    counts = count_by_type(g, p);
  }
  fill_scores(counts, zero_value, report);
  return report;
}

nlohmann::json to_json(const NerReport& report) {
  nlohmann::json per_type = nlohmann::json::object();
  for (const NamedScores& row : report.per_type) per_type[row.name] = to_json(row.scores);
  nlohmann::json out{{"mode", to_string(report.options.mode)},
                     {"suffix", report.options.suffix},
                     {"zero_division", to_string(report.options.zero_division)},
                     {"per_type", per_type},
                     {"micro", to_json(report.micro)},
                     {"macro", to_json(report.macro)},
                     {"weighted", to_json(report.weighted)},
                     {"token_accuracy", number_or_null(report.token_accuracy)},
                     {"num_sentences", report.num_sentences},
                     {"num_tokens", report.num_tokens}};
  if (report.options.mode == NerMode::kStrict) out["scheme"] = to_string(report.options.scheme);
  return out;
}

std::string format_table(const NerReport& report, int digits) {
  // seqeval.reporters.StringReporter, as classification_report uses it.
  size_t width = std::max<size_t>(std::string("weighted avg").size(), static_cast<size_t>(digits));
  for (const NamedScores& row : report.per_type) width = std::max(width, utf8_length(row.name));
  std::string out = report_header(width);
  for (const NamedScores& row : report.per_type)
    out += report_row(row.name, width, row.scores, digits);
  out += "\n";
  out += report_row("micro avg", width, report.micro, digits);
  out += report_row("macro avg", width, report.macro, digits);
  out += report_row("weighted avg", width, report.weighted, digits);
  out += "\ntoken accuracy: " + format_fixed(report.token_accuracy, digits) + "\n";
  return out;
}

}  // namespace clintorch::eval
