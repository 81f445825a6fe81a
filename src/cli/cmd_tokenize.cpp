// `clintorch tokenize`: text lines on stdin -> one JSON object per encoded window on stdout
// (tokens, ids, type ids, masks, offsets, word ids, sequence ids). See docs/tokenizer.md.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cli/commands.h"
#include "tokenizer/encoding_json.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  bool pair = false;
  std::string input = "text";  // text | jsonl
  size_t max_length = 0;
  std::string truncation;  // "" = longest_first when --max-length is given, else none
  size_t stride = 0;
  bool overflow = false;
  std::string padding = "none";
  size_t pad_to_multiple_of = 0;
  std::string padding_side = "right";
  bool no_special = false;
  std::string offsets = "chars";
  size_t batch = 10000;
  size_t threads = 0;
  std::vector<std::string> add_special;
  std::vector<std::string> add_tokens;
  bool lowercase = false, no_lowercase = false;
  bool strip_accents = false, no_strip_accents = false;
  bool chinese = false, no_chinese = false;
};

// One input line: text(s) or pre-split words.
struct Item {
  size_t line = 0;
  std::string first, second;
  std::vector<std::string> words_first, words_second;
  bool words = false;
  bool has_second = false;
  // JSONL only: per-line overrides of --max-length, --stride, --truncation.
  std::optional<size_t> max_length, stride;
  std::optional<std::string> truncation;
  std::string error;  // set when the line itself is malformed
};

tok::Truncation parse_truncation(const std::string& s) {
  if (s == "longest_first") return tok::Truncation::kLongestFirst;
  if (s == "only_first") return tok::Truncation::kOnlyFirst;
  if (s == "only_second") return tok::Truncation::kOnlySecond;
  if (s == "none") return tok::Truncation::kNone;
  throw UsageError("--truncation: unknown strategy '" + s +
                   "' (use longest_first, only_first, only_second or none)");
}

tok::Padding parse_padding(const std::string& s) {
  if (s == "none") return tok::Padding::kNone;
  if (s == "longest") return tok::Padding::kLongest;
  if (s == "max_length") return tok::Padding::kMaxLength;
  throw UsageError("--padding: unknown strategy '" + s + "' (use none, longest or max_length)");
}

std::vector<std::string> json_words(const nlohmann::json& v, const char* key) {
  std::vector<std::string> out;
  if (!v.is_array()) throw Error(std::string("'") + key + "' must be a list of strings");
  for (const auto& w : v) {
    if (!w.is_string()) throw Error(std::string("'") + key + "' must be a list of strings");
    out.push_back(w.get<std::string>());
  }
  return out;
}

Item parse_line(std::string&& text, size_t line, const TokenizeArgs& args) {
  Item item;
  item.line = line;
  if (args.input == "jsonl") {
    try {
      const auto v = nlohmann::json::parse(text);
      if (!v.is_object()) throw Error("expected a JSON object");
      if (v.contains("words")) {
        item.words = true;
        item.words_first = json_words(v["words"], "words");
        if (v.contains("pair_words")) {
          item.words_second = json_words(v["pair_words"], "pair_words");
          item.has_second = true;
        }
      } else if (v.contains("text") && v["text"].is_string()) {
        item.first = v["text"].get<std::string>();
        if (v.contains("pair")) {
          if (!v["pair"].is_string()) throw Error("'pair' must be a string");
          item.second = v["pair"].get<std::string>();
          item.has_second = true;
        }
      } else {
        throw Error("expected {\"text\": ...} or {\"words\": [...]}");
      }
      for (const char* key : {"max_length", "stride"}) {
        if (!v.contains(key)) continue;
        if (!v[key].is_number_unsigned())
          throw Error(std::string("'") + key + "' must be a number >= 0");
        (std::string(key) == "stride" ? item.stride : item.max_length) = v[key].get<size_t>();
      }
      if (v.contains("truncation")) {
        if (!v["truncation"].is_string()) throw Error("'truncation' must be a string");
        item.truncation = v["truncation"].get<std::string>();
      }
    } catch (const nlohmann::json::exception& e) {
      item.error = std::string("invalid JSON: ") + e.what();
    } catch (const Error& e) {
      item.error = e.what();
    }
    return item;
  }
  if (args.pair) {
    const size_t tab = text.find('\t');
    if (tab == std::string::npos) {
      item.error = "--pair expects FIRST<TAB>SECOND but the line has no TAB";
      return item;
    }
    item.first = text.substr(0, tab);
    item.second = text.substr(tab + 1);
    item.has_second = true;
    return item;
  }
  item.first = std::move(text);
  return item;
}

// Encodes one batch of items (all of the same kind) and appends their JSON lines to `out`.
// Returns the number of failed lines.
// Long on purpose: HF batch semantics (one batch pads to its longest) with a per-line fallback
// that finds failing lines and keeps the output in input order; the two paths share state.
size_t run_batch(const tok::Tokenizer& tk, std::vector<Item>& items, const tok::EncodeOptions& base,
                 const TokenizeArgs& args, std::string& out, std::string& first_error) {
  size_t failures = 0;
  auto error_record = [&](const Item& item, const std::string& message) {
    std::string rec = "{\"line\":" + std::to_string(item.line) + ",\"error\":";
    tok::append_json_string(rec, message);
    rec += "}\n";
    if (first_error.empty()) first_error = "line " + std::to_string(item.line) + ": " + message;
    ++failures;
    return rec;
  };
  // Lines that parse; encoded as one batch (HF semantics: padding to the batch's longest).
  std::vector<size_t> ok;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].error.empty()) ok.push_back(i);
  }
  auto encode_all = [&](const std::vector<size_t>& which,
                        const tok::EncodeOptions& eo) -> tok::BatchEncoding {
    if (which.empty()) return {};
    const Item& probe = items[which.front()];
    if (probe.words) {
      if (probe.has_second) {
        std::vector<std::vector<std::string>> firsts, seconds;
        for (size_t i : which) {
          firsts.push_back(items[i].words_first);
          seconds.push_back(items[i].words_second);
        }
        return tk.encode_words_pair_batch(firsts, seconds, eo);
      }
      std::vector<std::vector<std::string>> words;
      words.reserve(which.size());
      for (size_t i : which) words.push_back(items[i].words_first);
      return tk.encode_words_batch(words, eo, args.threads);
    }
    if (probe.has_second) {
      std::vector<std::string_view> a, b;
      for (size_t i : which) {
        a.emplace_back(items[i].first);
        b.emplace_back(items[i].second);
      }
      return tk.encode_pair_batch(a, b, eo, args.threads);
    }
    std::vector<std::string_view> a;
    for (size_t i : which) a.emplace_back(items[i].first);
    return tk.encode_batch(a, eo, args.threads);
  };
  // Lines of different kinds (text, pair, words) or per-line options are encoded in groups,
  // keeping the output in input order.
  auto options_for = [&](const Item& it) {
    tok::EncodeOptions o = base;
    if (it.max_length) o.max_length = *it.max_length;
    if (it.stride) {
      o.stride = *it.stride;
      if (o.stride > 0) o.return_overflowing = true;
    }
    if (it.truncation) {
      o.truncation = parse_truncation(*it.truncation);
    } else if (it.max_length && args.truncation.empty() && o.truncation == tok::Truncation::kNone) {
      o.truncation = tok::Truncation::kLongestFirst;
    }
    return o;
  };
  using Key = std::tuple<int, int, size_t, size_t, bool>;
  std::map<Key, std::vector<size_t>> groups;
  for (size_t i : ok) {
    const Item& it = items[i];
    tok::EncodeOptions o;
    try {
      o = options_for(it);
    } catch (const UsageError& e) {
      items[i].error = e.what();
      continue;
    }
    groups[Key{(it.words ? 2 : 0) + (it.has_second ? 1 : 0), static_cast<int>(o.truncation),
               o.max_length, o.stride, o.return_overflowing}]
        .push_back(i);
  }
  std::vector<std::string> line_out(items.size());
  for (auto& [key, group] : groups) {
    std::vector<size_t>& which = group;
    const tok::EncodeOptions eo = options_for(items[which.front()]);
    tok::BatchEncoding be;
    try {
      be = encode_all(which, eo);
    } catch (const UsageError&) {
      throw;
    } catch (const Error&) {
      // Find the failing lines one by one, then encode the others together.
      std::vector<size_t> good;
      for (size_t i : which) {
        try {
          std::vector<size_t> one{i};
          encode_all(one, eo);
          good.push_back(i);
        } catch (const Error& e) {
          line_out[i] = error_record(items[i], e.what());
        }
      }
      which = good;
      be = encode_all(which, eo);
    }
    size_t window = 0;
    for (size_t w = 0; w < be.encodings.size(); ++w) {
      const size_t idx = which[be.overflow_to_sample_mapping[w]];
      window = (w > 0 && be.overflow_to_sample_mapping[w] == be.overflow_to_sample_mapping[w - 1])
                   ? window + 1
                   : 0;
      const Item& it = items[idx];
      const tok::Encoding& e = be.encodings[w];
      std::vector<tok::Offset> offsets;
      if (args.offsets == "bytes") {
        offsets = e.offsets;
      } else if (it.words) {
        std::vector<std::string_view> a(it.words_first.begin(), it.words_first.end());
        std::vector<std::string_view> b(it.words_second.begin(), it.words_second.end());
        offsets = tok::char_offsets_words(e, a, b);
      } else {
        offsets = tok::char_offsets(e, it.first, it.second);
      }
      tok::append_encoding_json(line_out[idx], it.line, window, eo.return_overflowing, e, offsets);
    }
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].error.empty()) line_out[i] = error_record(items[i], items[i].error);
    out += line_out[i];
  }
  return failures;
}

void run_tokenize(const TokenizeArgs& args) {
  if (args.input != "text" && args.input != "jsonl") {
    throw UsageError("--input: unknown format '" + args.input + "' (use text or jsonl)");
  }
  if (args.offsets != "chars" && args.offsets != "bytes") {
    throw UsageError("--offsets: unknown unit '" + args.offsets + "' (use chars or bytes)");
  }
  if (args.padding_side != "right" && args.padding_side != "left") {
    throw UsageError("--padding-side: use right or left");
  }
  if (args.batch == 0) throw UsageError("--batch must be at least 1");
  tok::TokenizerOptions to;
  if (args.lowercase) to.do_lower_case = true;
  if (args.no_lowercase) to.do_lower_case = false;
  if (args.strip_accents) to.strip_accents = true;
  if (args.no_strip_accents) to.strip_accents = false;
  if (args.chinese) to.tokenize_chinese_chars = true;
  if (args.no_chinese) to.tokenize_chinese_chars = false;
  tok::Tokenizer tk = tok::Tokenizer::from_dir(args.model, to);
  if (!args.add_special.empty()) tk.add_special_tokens(args.add_special);
  if (!args.add_tokens.empty()) {
    std::vector<tok::AddedToken> list;
    for (const auto& s : args.add_tokens) {
      tok::AddedToken t;
      t.content = s;
      t.special = false;
      t.normalized = true;
      list.push_back(t);
    }
    tk.add_tokens(list);
  }

  tok::EncodeOptions eo;
  eo.add_special_tokens = !args.no_special;
  eo.max_length = args.max_length;
  eo.truncation = args.truncation.empty() ? (args.max_length > 0 ? tok::Truncation::kLongestFirst
                                                                 : tok::Truncation::kNone)
                                          : parse_truncation(args.truncation);
  eo.stride = args.stride;
  eo.return_overflowing = args.overflow || args.stride > 0;
  eo.padding = parse_padding(args.padding);
  eo.pad_to_multiple_of = args.pad_to_multiple_of;
  eo.padding_side = args.padding_side == "left" ? tok::Side::kLeft : tok::Side::kRight;

  size_t failures = 0, lines = 0;
  std::string first_error;
  std::vector<Item> items;
  std::string out;
  std::string line;
  auto flush = [&]() {
    failures += run_batch(tk, items, eo, args, out, first_error);
    items.clear();
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  };
  // Lines end at '\n'; everything else (a '\r' included) is part of the text.
  int c;
  bool pending = false;
  while ((c = std::getc(stdin)) != EOF) {
    pending = true;
    if (c == '\n') {
      items.push_back(parse_line(std::move(line), ++lines, args));
      line.clear();
      pending = false;
      if (items.size() >= args.batch) flush();
    } else {
      line.push_back(static_cast<char>(c));
    }
  }
  if (pending) items.push_back(parse_line(std::move(line), ++lines, args));
  flush();
  std::fflush(stdout);
  if (failures > 0) {
    throw Error("tokenize: " + std::to_string(failures) + " of " + std::to_string(lines) +
                " line(s) failed (each has an \"error\" record); first: " + first_error);
  }
}

}  // namespace

void add_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* sub = app.add_subcommand(
      "tokenize",
      "Tokenize text lines from stdin into JSONL (ids, offsets), like HF BertTokenizerFast");
  sub->add_option("--model", args->model,
                  "HF model directory (vocab.txt, tokenizer_config.json, ...)")
      ->required();
  sub->add_flag("--pair", args->pair, "Each line is FIRST<TAB>SECOND (split at the first TAB)");
  sub->add_option(
      "--input", args->input,
      "Line format: text (default) or jsonl ({\"text\",\"pair\"} or "
      "{\"words\",\"pair_words\"} objects; words = pre-split, like is_split_into_words)");
  sub->add_option("--max-length", args->max_length,
                  "Maximum length with special tokens; turns on longest_first truncation "
                  "unless --truncation says otherwise (0 = the model's max length)");
  sub->add_option("--truncation", args->truncation,
                  "longest_first, only_first, only_second or none");
  sub->add_option("--stride", args->stride,
                  "Tokens shared by consecutive windows; implies --overflow");
  sub->add_flag("--overflow", args->overflow,
                "Write every overflow window (HF return_overflowing_tokens), with \"window\"");
  sub->add_option("--padding", args->padding, "none (default), longest (per batch) or max_length");
  sub->add_option("--pad-to-multiple-of", args->pad_to_multiple_of, "Round padded lengths up");
  sub->add_option("--padding-side", args->padding_side, "right (default) or left");
  sub->add_flag("--no-special-tokens", args->no_special, "Do not add [CLS]/[SEP]");
  sub->add_option("--offsets", args->offsets,
                  "Offset unit: chars (code points, as HF Python; default) or bytes (UTF-8)");
  sub->add_option("--batch", args->batch, "Lines encoded together (default 10000)");
  sub->add_option("--threads", args->threads, "Encoding threads (0 = all cores, default)");
  sub->add_option("--add-special-token", args->add_special,
                  "Add a special token matched whole in the raw text (repeatable), e.g. [E1]")
      ->allow_extra_args(false);  // one value per flag, and no CLI11 "[a,b]" list parsing
  sub->add_option("--add-token", args->add_tokens,
                  "Add a normal token matched in the normalised text (repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("--lowercase", args->lowercase, "Override: lowercase (do_lower_case true)");
  sub->add_flag("--no-lowercase", args->no_lowercase, "Override: keep case (do_lower_case false)");
  sub->add_flag("--strip-accents", args->strip_accents, "Override: strip accents");
  sub->add_flag("--no-strip-accents", args->no_strip_accents, "Override: keep accents");
  sub->add_flag("--chinese-chars", args->chinese, "Override: split CJK ideographs");
  sub->add_flag("--no-chinese-chars", args->no_chinese, "Override: do not split CJK ideographs");
  sub->callback([args]() { run_tokenize(*args); });
}

}  // namespace clintorch::cli
