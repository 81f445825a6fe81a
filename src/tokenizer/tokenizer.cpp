// Loading a HF model directory, the vocabulary and the public encode API (single, pair,
// pre-split words, multi-threaded batches).
#include "tokenizer/tokenizer.h"

#include <sys/stat.h>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "io/model_path.h"
#include "tokenizer/tokenizer_impl.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::tok {

void pad_encodings(std::vector<Encoding*>& mains, const EncodeOptions& o,
                   const Tokenizer::Impl& tk);  // postprocess.cpp

namespace detail {

void AddedMatcher::clear() {
  nodes_.assign(1, Node{});
  std::memset(first_, 0, sizeof(first_));
}

void AddedMatcher::add(std::string_view content, int32_t index) {
  if (content.empty()) return;
  int32_t node = 0;
  for (const char ch : content) {
    const auto b = static_cast<uint8_t>(ch);
    int32_t next = -1;
    for (const auto& e : nodes_[static_cast<size_t>(node)].next) {
      if (e.first == b) next = e.second;
    }
    if (next < 0) {
      next = static_cast<int32_t>(nodes_.size());
      nodes_.emplace_back();
      nodes_[static_cast<size_t>(node)].next.emplace_back(b, next);
    }
    node = next;
  }
  if (nodes_[static_cast<size_t>(node)].index < 0) nodes_[static_cast<size_t>(node)].index = index;
  first_[static_cast<uint8_t>(content[0])] = 1;
}

size_t AddedMatcher::match(const uint8_t* text, size_t pos, size_t n, int32_t& index) const {
  int32_t node = 0;
  size_t best = 0;
  for (size_t i = pos; i < n; ++i) {
    int32_t next = -1;
    for (const auto& e : nodes_[static_cast<size_t>(node)].next) {
      if (e.first == text[i]) {
        next = e.second;
        break;
      }
    }
    if (next < 0) break;
    node = next;
    const int32_t idx = nodes_[static_cast<size_t>(node)].index;
    if (idx >= 0) {
      best = i + 1 - pos;
      index = idx;
    }
  }
  return best;
}

}  // namespace detail

namespace {

using nlohmann::json;

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool dir_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file", "check that it exists and is readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const std::string& path) {
  const std::string text = read_file(path);
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    fail(path, std::string("invalid JSON: ") + e.what(), "fix or remove the file");
  } catch (const json::exception&) {  // out_of_range 406: a number past double's range
    fail(path, "invalid JSON: a number is out of range", "fix or remove the file");
  }
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    char32_t cp = 0;
    bool valid = true;
    p += detail::decode_utf8(p, end, cp, valid);
    if (!valid) return false;
  }
  return true;
}

// A token setting: a string, or an AddedToken object {"content": ...}.
std::optional<std::string> token_string(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return std::nullopt;
}

AddedToken added_from_json(const json& v, bool special_default) {
  AddedToken t;
  if (v.is_string()) {
    t.content = v.get<std::string>();
    t.special = special_default;
    t.normalized = !special_default;
    return t;
  }
  t.content = v.value("content", std::string());
  t.special = v.value("special", special_default);
  t.normalized = v.value("normalized", !t.special);
  t.single_word = v.value("single_word", false);
  t.lstrip = v.value("lstrip", false);
  t.rstrip = v.value("rstrip", false);
  return t;
}

std::optional<bool> optional_bool(const json& obj, const char* key, const std::string& file) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return std::nullopt;
  if (!obj[key].is_boolean()) {
    fail(file + ": key '" + key + "'", "expected true, false or null, got " + obj[key].dump(),
         "fix the value");
  }
  return obj[key].get<bool>();
}

// Reads vocab.txt: one token per line, id = line number - 1. Lines end with \n, \r\n or \r
// (Python's universal newlines, as HF reads the file).
std::vector<std::string> read_vocab_txt(const std::string& path) {
  if (!file_exists(path)) {
    fail(path, "vocabulary file not found", "a BERT model directory holds vocab.txt");
  }
  const std::string text = read_file(path);
  if (text.empty()) fail(path, "the vocabulary file is empty", "use the model's vocab.txt");
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = start;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
    lines.emplace_back(text.substr(start, end - start));
    if (end < text.size() && text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n')
      ++end;
    start = end + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string where = path + ":" + std::to_string(i + 1);
    if (lines[i].empty()) {
      fail(where, "empty vocabulary entry", "every line of vocab.txt must hold one token");
    }
    if (!valid_utf8(lines[i])) fail(where, "entry is not valid UTF-8", "re-save the file as UTF-8");
  }
  return lines;
}

std::string describe_token(const std::string& role, const std::string& token) {
  return role + " token '" + token + "'";
}

}  // namespace

// ------------------------------------------------------------------------------------ Impl

int32_t Tokenizer::Impl::intern(const std::string& token) {
  auto it = token_ids.find(token);
  if (it != token_ids.end()) return it->second;
  const auto id = static_cast<int32_t>(tokens.size());
  tokens.push_back(token);
  token_ids.emplace(std::string_view(tokens.back()), id);
  return id;
}

void Tokenizer::Impl::rebuild_matchers() {
  raw_matcher.clear();
  norm_matcher.clear();
  surface.assign(tokens.begin(), tokens.end());
  surface_store.clear();
  for (size_t i = 0; i < added.size(); ++i) {
    const AddedToken& t = added[i];
    if (!t.normalized) {
      raw_matcher.add(t.content, static_cast<int32_t>(i));
      continue;
    }
    // Matched against normalised text: normalise the token the same way.
    std::string norm;
    const auto* p = reinterpret_cast<const uint8_t*>(t.content.data());
    const auto* end = p + t.content.size();
    detail::NormalizedChar nc;
    while (p < end) {
      char32_t cp = 0;
      bool valid = true;
      p += detail::decode_utf8(p, end, cp, valid);
      detail::normalize_char(cp, flags, nc);
      for (int k = 0; k < nc.count; ++k) {
        uint8_t buf[4];
        const size_t n = detail::encode_utf8(nc.cp[k], buf);
        norm.append(reinterpret_cast<const char*>(buf), n);
      }
    }
    norm_matcher.add(norm, static_cast<int32_t>(i));
    surface_store.push_back(norm);
    surface[static_cast<size_t>(added_ids[i])] = surface_store.back();
  }
}

void Tokenizer::Impl::finish_setup() {
  // ASCII tables.
  for (int c = 0; c < 128; ++c) {
    const auto cp = static_cast<char32_t>(c);
    uint8_t cls = 0;
    if (flags.clean_text && (c == 0 || detail::is_bert_control(cp))) {
      cls = 3;
    } else if (detail::is_bert_whitespace(cp)) {
      cls = 1;
    } else if (detail::is_bert_punctuation(cp)) {
      cls = 2;
    }
    ascii_class[c] = cls;
    ascii_norm[c] = static_cast<uint8_t>((flags.lowercase && c >= 'A' && c <= 'Z') ? c + 32 : c);
  }
  bmp.build(flags);
  std::vector<std::string_view> views;
  views.reserve(base_vocab_size);
  for (size_t i = 0; i < base_vocab_size; ++i) views.emplace_back(tokens[i]);
  trie.build(views, continuing_prefix);
  rebuild_matchers();
}

// ------------------------------------------------------------------------------------ loading

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

struct LoadSources {
  std::string dir;
  std::vector<std::string> vocab;
  std::string vocab_source;
  json config;          // tokenizer_config.json (or null)
  json special_map;     // special_tokens_map.json (or null)
  json tokenizer_json;  // tokenizer.json (or null)
  std::optional<size_t> max_position_embeddings;
  bool has_config = false;
};

// Long (~200 lines) on purpose: one precedence chain read top to bottom (options, then
// tokenizer_config.json, special_tokens_map.json, tokenizer.json, HF defaults), in the order
// transformers applies it; each step fills the fields the next one reads.
Tokenizer::Impl* build_impl(LoadSources& src, const TokenizerOptions& options,
                            std::unique_ptr<Tokenizer::Impl>& holder) {
  holder = std::make_unique<Tokenizer::Impl>();
  Tokenizer::Impl& tk = *holder;
  const std::string cfg_file = src.dir + "/tokenizer_config.json";

  // Settings: explicit options, then tokenizer_config.json, then HF's defaults (transformers 5
  // builds the normaliser from these and ignores tokenizer.json's normaliser).
  std::string lower_reason = "the HF default (no do_lower_case in tokenizer_config.json)";
  std::optional<bool> cfg_lower = optional_bool(src.config, "do_lower_case", cfg_file);
  bool lowercase = true;
  if (options.do_lower_case) {
    lowercase = *options.do_lower_case;
    lower_reason = "the do_lower_case option";
  } else if (cfg_lower) {
    lowercase = *cfg_lower;
    lower_reason = "tokenizer_config.json sets it";
  } else if (!src.has_config && !src.dir.empty()) {
    lower_reason = "the HF default: the model has no tokenizer_config.json";
  }
  std::optional<bool> strip = options.strip_accents;
  if (!strip) strip = optional_bool(src.config, "strip_accents", cfg_file);
  std::optional<bool> chinese = options.tokenize_chinese_chars;
  if (!chinese) chinese = optional_bool(src.config, "tokenize_chinese_chars", cfg_file);
  tk.flags.lowercase = lowercase;
  tk.flags.strip_accents = strip ? *strip : lowercase;
  tk.flags.handle_chinese_chars = chinese ? *chinese : true;
  tk.flags.clean_text = options.clean_text ? *options.clean_text : true;
  tk.max_chars_per_word =
      options.max_input_chars_per_word ? *options.max_input_chars_per_word : 100;

  // tokenizer.json's normaliser is read only to point out a disagreement.
  if (src.tokenizer_json.is_object() && src.tokenizer_json.contains("normalizer")) {
    const json& norm = src.tokenizer_json["normalizer"];
    if (norm.is_object() && norm.value("type", "") == "BertNormalizer") {
      const std::string tj = src.dir + "/tokenizer.json";
      auto check = [&](const char* key, bool effective) {
        const auto v = optional_bool(norm, key, tj + " normalizer");
        if (v && *v != effective) {
          log_warning(tj + ": normalizer." + key + " is " + (*v ? "true" : "false") + " but " +
                      (effective ? "true" : "false") +
                      " is used (HF transformers builds the normaliser from "
                      "tokenizer_config.json and its defaults, and so do we)");
        }
      };
      check("lowercase", tk.flags.lowercase);
      if (norm.contains("strip_accents") && !norm["strip_accents"].is_null()) {
        check("strip_accents", tk.flags.strip_accents);
      }
      check("handle_chinese_chars", tk.flags.handle_chinese_chars);
    }
  }

  // model_max_length: option, tokenizer_config.json (HF stores 1e30 for "none"), config.json
  // max_position_embeddings, 512.
  tk.model_max_length = 512;
  if (src.max_position_embeddings) tk.model_max_length = *src.max_position_embeddings;
  if (src.config.is_object() && src.config.contains("model_max_length") &&
      src.config["model_max_length"].is_number()) {
    const double v = src.config["model_max_length"].get<double>();
    if (v >= 1 && v <= 1e9) tk.model_max_length = static_cast<size_t>(v);
  }
  if (options.model_max_length) tk.model_max_length = *options.model_max_length;

  // Special token names: special_tokens_map.json, tokenizer_config.json, defaults.
  auto special_name = [&](const char* key, std::string& name) {
    for (const json* source : {&src.special_map, &src.config}) {
      if (source->is_object() && source->contains(key)) {
        if (auto s = token_string((*source)[key])) {
          name = *s;
          return;
        }
      }
    }
  };
  special_name("unk_token", tk.unk_token);
  special_name("cls_token", tk.cls_token);
  special_name("sep_token", tk.sep_token);
  special_name("pad_token", tk.pad_token);
  special_name("mask_token", tk.mask_token);

  // Vocabulary.
  tk.vocab_source = src.vocab_source;
  {
    std::unordered_map<std::string_view, size_t> first_line;
    for (size_t i = 0; i < src.vocab.size(); ++i) {
      tk.tokens.push_back(std::move(src.vocab[i]));
      const std::string_view view(tk.tokens.back());
      auto [it, inserted] = first_line.emplace(view, i);
      if (!inserted) {
        fail(src.vocab_source + ":" + std::to_string(i + 1),
             "duplicate vocabulary entry '" + tk.tokens.back() + "' (first at line " +
                 std::to_string(it->second + 1) + ")",
             "each token must appear once; ids are line numbers, so a duplicate shifts them");
      }
      tk.token_ids.emplace(view, static_cast<int32_t>(i));
    }
  }
  tk.base_vocab_size = tk.tokens.size();
  auto require = [&](const std::string& role, const std::string& token, int32_t& id) {
    auto it = tk.token_ids.find(token);
    if (it == tk.token_ids.end()) {
      fail(src.vocab_source, "no entry for the " + describe_token(role, token),
           "a BERT vocabulary holds [PAD] [UNK] [CLS] [SEP] [MASK]; check the file, or the "
           "token names in special_tokens_map.json / tokenizer_config.json");
    }
    id = it->second;
  };
  require("unknown", tk.unk_token, tk.unk);
  require("classifier", tk.cls_token, tk.cls);
  require("separator", tk.sep_token, tk.sep);
  require("padding", tk.pad_token, tk.pad);
  require("mask", tk.mask_token, tk.mask);

  // Added tokens: the five specials, then those listed by the model files.
  std::vector<AddedToken> added;
  for (const std::string* name :
       {&tk.pad_token, &tk.unk_token, &tk.cls_token, &tk.sep_token, &tk.mask_token}) {
    AddedToken t;
    t.content = *name;
    added.push_back(t);
  }
  std::vector<std::pair<int64_t, AddedToken>> listed;
  if (src.tokenizer_json.is_object() && src.tokenizer_json.contains("added_tokens") &&
      src.tokenizer_json["added_tokens"].is_array()) {
    for (const json& v : src.tokenizer_json["added_tokens"]) {
      listed.emplace_back(v.value("id", int64_t{-1}), added_from_json(v, true));
    }
  }
  if (src.config.is_object() && src.config.contains("added_tokens_decoder") &&
      src.config["added_tokens_decoder"].is_object()) {
    for (const auto& [key, v] : src.config["added_tokens_decoder"].items()) {
      int64_t id = -1;
      try {
        id = std::stoll(key);
      } catch (const std::exception&) {
        fail(cfg_file + ": added_tokens_decoder", "key '" + key + "' is not a token id",
             "keys are token ids");
      }
      listed.emplace_back(id, added_from_json(v, true));
    }
  }
  for (const json* source : {&src.special_map, &src.config}) {
    if (source->is_object() && source->contains("additional_special_tokens") &&
        (*source)["additional_special_tokens"].is_array()) {
      for (const json& v : (*source)["additional_special_tokens"]) {
        listed.emplace_back(-1, added_from_json(v, true));
      }
    }
  }
  std::stable_sort(listed.begin(), listed.end(), [](const auto& a, const auto& b) {
    return (a.first < 0 ? INT64_MAX : a.first) < (b.first < 0 ? INT64_MAX : b.first);
  });
  size_t next_free = tk.tokens.size();
  for (auto& entry : listed) {
    const int64_t id = entry.first;
    const AddedToken& t = entry.second;
    if (t.content.empty()) continue;
    auto same = std::find_if(added.begin(), added.end(),
                             [&](const AddedToken& a) { return a.content == t.content; });
    if (same != added.end()) {
      *same = t;  // the file's flags win for the specials too
      continue;
    }
    auto existing = tk.token_ids.find(t.content);
    if (existing == tk.token_ids.end()) {
      if (id >= 0 && static_cast<size_t>(id) != next_free) {
        fail(src.dir,
             "added token '" + t.content + "' has id " + std::to_string(id) +
                 " but the next free id is " + std::to_string(next_free),
             "the added tokens of tokenizer.json / tokenizer_config.json do not fit vocab.txt");
      }
      ++next_free;
    }
    added.push_back(t);
  }
  for (const AddedToken& t : added) {
    tk.added.push_back(t);
    tk.added_ids.push_back(tk.intern(t.content));
  }

  if (tk.flags.lowercase && options.warn_cased_vocab_lowercased) {
    size_t cased = 0, total = 0;
    for (size_t i = 0; i < tk.base_vocab_size; ++i) {
      const std::string& t = tk.tokens[i];
      if (t.size() >= 2 && t.front() == '[' && t.back() == ']') continue;
      ++total;
      if (detail::has_uppercase(t.data(), t.size())) ++cased;
    }
    if (total > 0 && cased * 20 > total) {
      log_warning(src.vocab_source + ": this vocabulary is cased (" + std::to_string(cased) +
                  " of " + std::to_string(total) +
                  " entries hold uppercase letters) but the text will be lowercased (" +
                  lower_reason +
                  "), so those entries can never match. If the model was pretrained cased "
                  "(Bio_ClinicalBERT ships no tokenizer_config.json and hits exactly this), set "
                  "`do_lower_case: false` in the recipe's tokenizer settings (or name a "
                  "cased config there, `config: configs/bio_clinicalbert`; or "
                  "\"do_lower_case\": false in tokenizer_config.json, or --no-lowercase for "
                  "`clintorch tokenize`).");
    }
  }
  tk.finish_setup();
  return holder.get();
}

}  // namespace

Tokenizer Tokenizer::from_dir(const std::string& name_or_dir, const TokenizerOptions& options) {
  const std::string dir = io::resolve_model_dir(name_or_dir);  // a HF model id: from the cache
  if (!dir_exists(dir)) {
    fail(dir, "model directory not found", "pass a HF model directory holding vocab.txt");
  }
  LoadSources src;
  src.dir = dir;
  const std::string cfg = dir + "/tokenizer_config.json";
  const std::string map = dir + "/special_tokens_map.json";
  const std::string tj = dir + "/tokenizer.json";
  const std::string model_cfg = dir + "/config.json";
  if (file_exists(cfg)) {
    src.config = read_json(cfg);
    src.has_config = true;
  }
  if (file_exists(map)) src.special_map = read_json(map);
  if (file_exists(tj)) src.tokenizer_json = read_json(tj);
  if (file_exists(model_cfg)) {
    const json c = read_json(model_cfg);
    if (c.is_object() && c.contains("max_position_embeddings") &&
        c["max_position_embeddings"].is_number_unsigned()) {
      src.max_position_embeddings = c["max_position_embeddings"].get<size_t>();
    }
  }
  const std::string vocab_txt = dir + "/vocab.txt";
  if (file_exists(vocab_txt)) {
    src.vocab = read_vocab_txt(vocab_txt);
    src.vocab_source = vocab_txt;
  } else if (src.tokenizer_json.is_object() && src.tokenizer_json.contains("model") &&
             src.tokenizer_json["model"].is_object() &&
             src.tokenizer_json["model"].value("type", "") == "WordPiece" &&
             src.tokenizer_json["model"].contains("vocab") &&
             src.tokenizer_json["model"]["vocab"].is_object()) {
    const json& v = src.tokenizer_json["model"]["vocab"];
    src.vocab_source = tj;
    std::vector<std::string> vocab(v.size());
    std::vector<char> seen(v.size(), 0);
    for (const auto& [token, id_json] : v.items()) {
      if (!id_json.is_number_unsigned() || id_json.get<size_t>() >= v.size()) {
        fail(tj + ": model.vocab",
             "token '" + token + "' has id " + id_json.dump() + " outside 0.." +
                 std::to_string(v.size() - 1),
             "ids must be 0..size-1");
      }
      const size_t id = id_json.get<size_t>();
      if (seen[id]) fail(tj + ": model.vocab", "id " + std::to_string(id) + " is used twice", "");
      seen[id] = 1;
      vocab[id] = token;
    }
    if (vocab.empty()) fail(tj + ": model.vocab", "the vocabulary is empty", "");
    src.vocab = std::move(vocab);
  } else {
    fail(dir, "no vocab.txt and no WordPiece vocabulary in tokenizer.json",
         "point at a HF BERT model directory (vocab.txt, tokenizer_config.json, ...)");
  }
  std::unique_ptr<Impl> impl;
  build_impl(src, options, impl);
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::from_vocab_file(const std::string& vocab_path,
                                     const TokenizerOptions& options) {
  LoadSources src;
  src.vocab = read_vocab_txt(vocab_path);
  src.vocab_source = vocab_path;
  std::unique_ptr<Impl> impl;
  build_impl(src, options, impl);
  return Tokenizer(std::move(impl));
}

// ------------------------------------------------------------------------------------ encoding

namespace {

detail::Scratch& thread_scratch() {
  thread_local detail::Scratch scratch;
  return scratch;
}

void check_size(std::string_view text) {
  if (text.size() >= UINT32_MAX) {
    fail("tokenizer", "a text of " + std::to_string(text.size()) + " bytes is too long",
         "texts must be under 4 GiB; split the input");
  }
}

void pad_single(Encoding& e, const EncodeOptions& o, const Tokenizer::Impl& tk) {
  std::vector<Encoding*> mains{&e};
  pad_encodings(mains, o, tk);
}

// Runs fn(i) for i in [0, n) on up to `threads` threads; rethrows the first exception.
template <typename Fn>
void parallel_for(size_t n, size_t threads, Fn&& fn) {
  if (threads == 0) threads = std::max<unsigned>(1, std::thread::hardware_concurrency());
  // Small batches are not worth a thread each: at least 32 inputs per thread.
  threads = std::min(threads, std::max<size_t>(1, n / 32));
  const size_t chunk = std::max<size_t>(1, std::min<size_t>(256, n / (threads * 8) + 1));
  threads = std::min(threads, (n + chunk - 1) / chunk);
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&]() {
    try {
      for (;;) {
        if (failed.load(std::memory_order_relaxed)) return;
        const size_t begin = next.fetch_add(chunk);
        if (begin >= n) return;
        const size_t end = std::min(n, begin + chunk);
        for (size_t i = begin; i < end; ++i) fn(i);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

BatchEncoding flatten(std::vector<Encoding>& mains, const EncodeOptions& o,
                      const Tokenizer::Impl& tk) {
  std::vector<Encoding*> ptrs;
  ptrs.reserve(mains.size());
  for (auto& e : mains) ptrs.push_back(&e);
  pad_encodings(ptrs, o, tk);
  BatchEncoding out;
  size_t total = 0;
  for (const auto& e : mains) total += 1 + e.overflowing.size();
  out.encodings.reserve(total);
  out.overflow_to_sample_mapping.reserve(total);
  for (size_t i = 0; i < mains.size(); ++i) {
    out.invalid_utf8 += mains[i].invalid_utf8;
    std::vector<Encoding> over = std::move(mains[i].overflowing);
    mains[i].overflowing.clear();
    out.encodings.push_back(std::move(mains[i]));
    out.overflow_to_sample_mapping.push_back(i);
    for (auto& e : over) {
      out.encodings.push_back(std::move(e));
      out.overflow_to_sample_mapping.push_back(i);
    }
  }
  if (out.invalid_utf8 > 0) {
    log_warning("tokenizer: replaced " + std::to_string(out.invalid_utf8) +
                " ill-formed UTF-8 byte sequence(s) by U+FFFD in this batch of " +
                std::to_string(mains.size()) + " input(s)");
  }
  return out;
}

}  // namespace

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  check_size(text);
  auto& sc = thread_scratch();
  sc.a.clear();
  impl_->encode_sequence(text, -1, sc.a, sc);
  Encoding e = impl_->post_process(sc.a, nullptr, options);
  pad_single(e, options, *impl_);
  return e;
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                const EncodeOptions& options) const {
  check_size(first);
  check_size(second);
  auto& sc = thread_scratch();
  sc.a.clear();
  sc.b.clear();
  impl_->encode_sequence(first, -1, sc.a, sc);
  impl_->encode_sequence(second, -1, sc.b, sc);
  Encoding e = impl_->post_process(sc.a, &sc.b, options);
  pad_single(e, options, *impl_);
  return e;
}

Encoding Tokenizer::encode_words(const std::vector<std::string_view>& words,
                                 const EncodeOptions& options) const {
  for (auto w : words) check_size(w);
  auto& sc = thread_scratch();
  sc.a.clear();
  impl_->encode_words(words.data(), words.size(), sc.a, sc);
  Encoding e = impl_->post_process(sc.a, nullptr, options);
  pad_single(e, options, *impl_);
  return e;
}

Encoding Tokenizer::encode_words(const std::vector<std::string>& words,
                                 const EncodeOptions& options) const {
  std::vector<std::string_view> views(words.begin(), words.end());
  return encode_words(views, options);
}

Encoding Tokenizer::encode_words_pair(const std::vector<std::string_view>& first,
                                      const std::vector<std::string_view>& second,
                                      const EncodeOptions& options) const {
  for (auto w : first) check_size(w);
  for (auto w : second) check_size(w);
  auto& sc = thread_scratch();
  sc.a.clear();
  sc.b.clear();
  impl_->encode_words(first.data(), first.size(), sc.a, sc);
  impl_->encode_words(second.data(), second.size(), sc.b, sc);
  Encoding e = impl_->post_process(sc.a, &sc.b, options);
  pad_single(e, options, *impl_);
  return e;
}

BatchEncoding Tokenizer::encode_batch(const std::vector<std::string_view>& texts,
                                      const EncodeOptions& options, size_t num_threads) const {
  for (auto t : texts) check_size(t);
  std::vector<Encoding> mains(texts.size());
  parallel_for(texts.size(), num_threads, [&](size_t i) {
    auto& sc = thread_scratch();
    sc.a.clear();
    impl_->encode_sequence(texts[i], -1, sc.a, sc);
    mains[i] = impl_->post_process(sc.a, nullptr, options);
  });
  return flatten(mains, options, *impl_);
}

BatchEncoding Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                      const EncodeOptions& options, size_t num_threads) const {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  return encode_batch(views, options, num_threads);
}

BatchEncoding Tokenizer::encode_pair_batch(const std::vector<std::string_view>& firsts,
                                           const std::vector<std::string_view>& seconds,
                                           const EncodeOptions& options, size_t num_threads) const {
  if (firsts.size() != seconds.size()) {
    fail("tokenizer",
         "encode_pair_batch got " + std::to_string(firsts.size()) + " first and " +
             std::to_string(seconds.size()) + " second texts",
         "pass one second text per first text");
  }
  for (auto t : firsts) check_size(t);
  for (auto t : seconds) check_size(t);
  std::vector<Encoding> mains(firsts.size());
  parallel_for(firsts.size(), num_threads, [&](size_t i) {
    auto& sc = thread_scratch();
    sc.a.clear();
    sc.b.clear();
    impl_->encode_sequence(firsts[i], -1, sc.a, sc);
    impl_->encode_sequence(seconds[i], -1, sc.b, sc);
    mains[i] = impl_->post_process(sc.a, &sc.b, options);
  });
  return flatten(mains, options, *impl_);
}

BatchEncoding Tokenizer::encode_words_batch(const std::vector<std::vector<std::string>>& words,
                                            const EncodeOptions& options,
                                            size_t num_threads) const {
  for (const auto& ws : words) {
    for (const auto& w : ws) check_size(w);
  }
  std::vector<Encoding> mains(words.size());
  parallel_for(words.size(), num_threads, [&](size_t i) {
    auto& sc = thread_scratch();
    sc.a.clear();
    std::vector<std::string_view> views(words[i].begin(), words[i].end());
    impl_->encode_words(views.data(), views.size(), sc.a, sc);
    mains[i] = impl_->post_process(sc.a, nullptr, options);
  });
  return flatten(mains, options, *impl_);
}

void Tokenizer::tokenize_ids(std::string_view text, std::vector<int32_t>& ids) const {
  check_size(text);
  auto& sc = thread_scratch();
  sc.a.clear();
  impl_->encode_sequence(text, -1, sc.a, sc);
  ids.reserve(ids.size() + sc.a.size());
  for (const auto& piece : sc.a.items) ids.push_back(piece.id);
}

// ------------------------------------------------------------------------------------ vocab

size_t Tokenizer::vocab_size() const {
  return impl_->tokens.size();
}

int32_t Tokenizer::token_to_id(std::string_view token) const {
  auto it = impl_->token_ids.find(token);
  return it == impl_->token_ids.end() ? -1 : it->second;
}

std::string_view Tokenizer::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->tokens.size()) {
    fail("tokenizer",
         "token id " + std::to_string(id) + " is outside the vocabulary (size " +
             std::to_string(impl_->tokens.size()) + ")",
         "ids come from this tokenizer's vocabulary");
  }
  return impl_->tokens[static_cast<size_t>(id)];
}

int32_t Tokenizer::cls_id() const {
  return impl_->cls;
}
int32_t Tokenizer::sep_id() const {
  return impl_->sep;
}
int32_t Tokenizer::pad_id() const {
  return impl_->pad;
}
int32_t Tokenizer::unk_id() const {
  return impl_->unk;
}
int32_t Tokenizer::mask_id() const {
  return impl_->mask;
}

std::vector<int32_t> Tokenizer::add_tokens(const std::vector<AddedToken>& tokens) {
  std::vector<int32_t> ids;
  ids.reserve(tokens.size());
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) fail("tokenizer", "cannot add an empty token", "");
    if (!valid_utf8(t.content)) fail("tokenizer", "an added token is not valid UTF-8", "");
    const int32_t id = impl_->intern(t.content);
    auto same = std::find_if(impl_->added.begin(), impl_->added.end(),
                             [&](const AddedToken& a) { return a.content == t.content; });
    if (same == impl_->added.end()) {
      impl_->added.push_back(t);
      impl_->added_ids.push_back(id);
    }
    ids.push_back(id);
  }
  impl_->rebuild_matchers();
  return ids;
}

std::vector<int32_t> Tokenizer::add_special_tokens(const std::vector<std::string>& tokens) {
  std::vector<AddedToken> list;
  for (const auto& s : tokens) {
    AddedToken t;
    t.content = s;
    list.push_back(t);
  }
  return add_tokens(list);
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const {
  return impl_->added;
}

bool Tokenizer::do_lower_case() const {
  return impl_->flags.lowercase;
}
bool Tokenizer::strip_accents() const {
  return impl_->flags.strip_accents;
}
bool Tokenizer::tokenize_chinese_chars() const {
  return impl_->flags.handle_chinese_chars;
}
bool Tokenizer::clean_text() const {
  return impl_->flags.clean_text;
}
size_t Tokenizer::model_max_length() const {
  return impl_->model_max_length;
}
size_t Tokenizer::max_input_chars_per_word() const {
  return impl_->max_chars_per_word;
}
size_t Tokenizer::num_special_tokens(bool pair) const {
  return pair ? 3 : 2;
}

// ------------------------------------------------------------------------------------ offsets

size_t count_code_points(std::string_view text) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto* end = p + text.size();
  size_t n = 0;
  while (p < end) {
    char32_t cp = 0;
    bool valid = true;
    p += detail::decode_utf8(p, end, cp, valid);
    ++n;
  }
  return n;
}

namespace {

// char_index[b] = code points before byte b (for b on a character boundary, and b == size).
std::vector<uint32_t> char_index(std::string_view text) {
  std::vector<uint32_t> idx(text.size() + 1, 0);
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const auto* end = p + text.size();
  size_t pos = 0;
  uint32_t n = 0;
  while (pos < text.size()) {
    char32_t cp = 0;
    bool valid = true;
    const size_t len = detail::decode_utf8(p + pos, end, cp, valid);
    for (size_t k = 0; k < len; ++k) idx[pos + k] = n;
    pos += len;
    ++n;
  }
  idx[text.size()] = n;
  return idx;
}

Offset convert(const std::vector<uint32_t>& idx, Offset o) {
  const auto clamp = [&](uint32_t b) { return std::min<size_t>(b, idx.size() - 1); };
  return Offset{idx[clamp(o.begin)], idx[clamp(o.end)]};
}

}  // namespace

std::vector<Offset> char_offsets(const Encoding& encoding, std::string_view first,
                                 std::string_view second) {
  const auto ia = char_index(first);
  const auto ib = char_index(second);
  std::vector<Offset> out(encoding.size());
  for (size_t i = 0; i < encoding.size(); ++i) {
    const int32_t seq = encoding.sequence_ids[i];
    if (seq < 0) continue;
    out[i] = convert(seq == 0 ? ia : ib, encoding.offsets[i]);
  }
  return out;
}

std::vector<Offset> char_offsets_words(const Encoding& encoding,
                                       const std::vector<std::string_view>& first_words,
                                       const std::vector<std::string_view>& second_words) {
  std::vector<Offset> out(encoding.size());
  for (size_t i = 0; i < encoding.size(); ++i) {
    const int32_t seq = encoding.sequence_ids[i];
    const int32_t w = encoding.word_ids[i];
    if (seq < 0 || w < 0) continue;
    const auto& words = seq == 0 ? first_words : second_words;
    if (static_cast<size_t>(w) >= words.size()) continue;
    out[i] = convert(char_index(words[static_cast<size_t>(w)]), encoding.offsets[i]);
  }
  return out;
}

}  // namespace clintorch::tok
