#include "eval/predict.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>

#include "data/dataset.h"
#include "data/task_registry.h"
#include "data/text_io.h"
#include "io/durable.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::eval {

namespace {

using nlohmann::json;

struct Chunk {
  std::vector<PredictDocument> records;
  std::shared_ptr<data::TaskDataset> dataset;
  bool eof = false;
};

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
}

std::string string_key(const json& v, const std::string& key, const std::string& loc,
                       bool required) {
  const auto it = v.find(key);
  if (it == v.end() || it->is_null()) {
    if (required) fail(loc, "missing key '" + key + "' (a string)");
    return "";
  }
  if (!it->is_string()) fail(loc, "'" + key + "' must be a string");
  return it->get<std::string>();
}

}  // namespace

struct DocumentPredictor::Impl {
  Impl(InferenceModel& m, const PredictOptions& o, std::string source)
      : m_(m), o_(o), ops_(data::task_spec(m.task).data()), source_(std::move(source)) {}

  InferenceModel& m_;
  PredictOptions o_;
  const data::TaskDataOps& ops_;
  std::string source_;
  data::FeatureOptions fo_;
  data::LabelMap labels_;
  std::vector<std::string> markers_;
};

DocumentPredictor::DocumentPredictor(InferenceModel& m, const PredictOptions& o, std::string source)
    : impl_(std::make_unique<Impl>(m, o, std::move(source))) {
  Impl& d = *impl_;
  if (d.ops_.add_raw == nullptr) {
    fail(m.dir,
         "predict does not run " + (d.ops_.corpus ? std::string("masked-language") + " models"
                                                  : data::task_name(m.task) + " models"),
         "predict needs a fine-tuned task head (token/sequence classification, QA, RE)");
  }
  const int64_t positions = m.model->config().max_position_embeddings;
  d.fo_.max_seq_length =
      o.max_seq_length ? o.max_seq_length : static_cast<size_t>(std::min<int64_t>(512, positions));
  if (static_cast<int64_t>(d.fo_.max_seq_length) > positions) {
    fail("--max-seq-length",
         std::to_string(d.fo_.max_seq_length) + " exceeds the model's " +
             std::to_string(positions) + " position embeddings",
         "use at most " + std::to_string(positions));
  }
  d.fo_.doc_stride = o.doc_stride ? o.doc_stride : std::min<size_t>(128, d.fo_.max_seq_length / 4);
  d.fo_.num_threads = 1;  // callers overlap tokenisation with the model on threads of their own
  d.fo_.problem_type = m.problem_type;
  d.labels_ = data::LabelMap(m.labels);
  d.markers_ = m.model->head().options().entity_markers;
}

DocumentPredictor::~DocumentPredictor() = default;

data::RawLayout DocumentPredictor::layout() const {
  return impl_->ops_.raw_layout;
}

PredictDocument DocumentPredictor::from_text(const std::string& text, size_t ln) const {
  PredictDocument r;
  data::RawInput& in = r.input;
  in.line = ln;
  r.id = ln;
  in.id = std::to_string(ln);
  if (impl_->ops_.raw_layout == data::RawLayout::kTextPair) {
    const size_t tab = text.find('\t');
    if (tab != std::string::npos) {
      in.text = text.substr(0, tab);
      in.pair = text.substr(tab + 1);
      in.has_pair = true;
      return r;
    }
  }
  in.text = text;
  return r;
}

PredictDocument DocumentPredictor::from_json(const json& v, const std::string& loc,
                                             size_t ln) const {
  const PredictOptions& o = impl_->o_;
  PredictDocument r;
  data::RawInput& in = r.input;
  in.line = ln;
  r.id = ln;
  if (!v.is_object()) fail(loc, "expected a JSON object");
  if (const auto it = v.find(o.id_key); it != v.end() && !it->is_null()) {
    if (!it->is_string() && !it->is_number_integer()) {
      fail(loc, "'" + o.id_key + "' must be a string or an integer");
    }
    r.id = *it;
  }
  in.id = r.id.is_string() ? r.id.get<std::string>() : r.id.dump();
  const data::RawLayout layout = impl_->ops_.raw_layout;
  if (layout == data::RawLayout::kQuestionContext) {
    in.question = string_key(v, o.question_key, loc, true);
    in.context = string_key(v, o.context_key, loc, true);
    return r;
  }
  in.text = string_key(v, o.text_key, loc, true);
  if (layout == data::RawLayout::kTextPair && v.contains(o.pair_key) && !v[o.pair_key].is_null()) {
    in.pair = string_key(v, o.pair_key, loc, true);
    in.has_pair = true;
  }
  return r;
}

std::shared_ptr<data::TaskDataset> DocumentPredictor::features(
    const std::vector<PredictDocument>& docs) const {
  const Impl& p = *impl_;
  auto d = std::make_shared<data::TaskDataset>();
  d->task = p.m_.task;
  d->problem_type = p.m_.problem_type;
  d->path = p.source_;
  d->labels = p.labels_;
  d->labeled = false;
  for (const PredictDocument& r : docs) p.ops_.add_raw(*d, r.input, *p.m_.tokenizer, p.markers_);
  data::build_features(*d, *p.m_.tokenizer, p.fo_, p.markers_);
  return d;
}

std::vector<json> DocumentPredictor::predict(const std::vector<PredictDocument>& docs,
                                             const data::TaskDataset& features) const {
  const Impl& p = *impl_;
  if (docs.empty()) return {};
  TaskEvalOptions eo = p.o_.eval;
  eo.keep_predictions = true;
  eo.compute_metrics = false;
  const TaskEvalResult result = evaluate_task(p.m_.model, features, eo);
  if (result.predictions.size() != docs.size()) {
    fail("predict", "internal: " + std::to_string(result.predictions.size()) + " predictions for " +
                        std::to_string(docs.size()) + " documents");
  }
  std::vector<json> out;
  out.reserve(docs.size());
  for (size_t i = 0; i < docs.size(); ++i) {
    const PredictDocument& r = docs[i];
    json j = json::object();
    j["id"] = r.id;
    j["line"] = r.input.line;
    for (const auto& [k, v] : result.predictions[i].items()) {
      if (k != "id" && k != "line") j[k] = v;
    }
    if (p.o_.include_text && j.contains("entities")) {  // NER
      const std::vector<uint32_t> cps = data::code_point_starts(r.input.text);
      for (auto& e : j["entities"]) {
        const size_t s = e["start"], t = e["end"];
        const uint32_t b = s < cps.size() ? cps[s] : static_cast<uint32_t>(r.input.text.size());
        const uint32_t f = t < cps.size() ? cps[t] : static_cast<uint32_t>(r.input.text.size());
        e["text"] = r.input.text.substr(b, f - b);
      }
    }
    out.push_back(std::move(j));
  }
  return out;
}

void append_features(data::TaskDataset& into, const data::TaskDataset& from) {
  const auto offset = static_cast<uint32_t>(into.num_examples());
  into.ner.insert(into.ner.end(), from.ner.begin(), from.ner.end());
  into.cls.insert(into.cls.end(), from.cls.begin(), from.cls.end());
  into.qa.insert(into.qa.end(), from.qa.begin(), from.qa.end());
  into.re.insert(into.re.end(), from.re.begin(), from.re.end());
  into.words.insert(into.words.end(), from.words.begin(), from.words.end());
  for (data::Feature f : from.features) {
    f.example += offset;
    into.features.push_back(std::move(f));
  }
  into.update_lengths();
}

namespace {

// Streams a file through a DocumentPredictor, a chunk of lines at a time.
class Predictor {
 public:
  Predictor(InferenceModel& m, const PredictOptions& o)
      : o_(o), docs_(m, o, o.input == "-" ? "<stdin>" : o.input) {
    const std::string in = o.input == "-" ? "/dev/stdin" : o.input;
    reader_.emplace(in);
    name_ = o.input == "-" ? "<stdin>" : o.input;
    jsonl_ =
        o.format == "jsonl" || (o.format == "auto" && (data::file_extension(o.input) == "jsonl" ||
                                                       data::file_extension(o.input) == "json"));
    if (o.format != "auto" && o.format != "text" && o.format != "jsonl") {
      fail("--format", "unknown input format '" + o.format + "'", "use text, jsonl or auto");
    }
    if (docs_.layout() == data::RawLayout::kQuestionContext && !jsonl_) {
      fail(name_, "question answering reads JSONL input ({\"question\", \"context\"})",
           "use --format jsonl");
    }
    if (o.chunk_lines == 0) fail("--chunk-lines", "must be at least 1");
  }

  // Reads up to chunk_lines documents and builds their features. Runs on the helper thread.
  Chunk read_chunk() {
    Chunk c;
    std::string text;
    while (c.records.size() < o_.chunk_lines) {
      if (!reader_->next(text)) {
        c.eof = true;
        break;
      }
      const size_t ln = reader_->line_number();
      ++lines_;
      if (blank(text)) {
        if (++skipped_ <= 5) {
          log_warning(data::where(name_, ln) + ": empty line skipped (no output record)");
        }
        continue;
      }
      c.records.push_back(
          jsonl_ ? docs_.from_json(data::parse_json(text, name_, ln), data::where(name_, ln), ln)
                 : docs_.from_text(text, ln));
    }
    c.dataset = docs_.features(c.records);
    return c;
  }

  void write(const Chunk& c, std::FILE* out) {
    std::string buffer;
    for (const json& j : docs_.predict(c.records, *c.dataset)) {
      buffer += j.dump(-1, ' ', false, json::error_handler_t::replace);
      buffer += '\n';
    }
    if (!buffer.empty() && std::fwrite(buffer.data(), 1, buffer.size(), out) != buffer.size()) {
      fail(o_.output, "cannot write (disk full?)");
    }
  }

  size_t lines_ = 0;
  size_t skipped_ = 0;

 private:
  const PredictOptions& o_;
  DocumentPredictor docs_;
  std::optional<data::LineReader> reader_;
  std::string name_;
  bool jsonl_ = false;
};

}  // namespace

PredictReport predict_file(InferenceModel& m, const PredictOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.input.empty()) fail("--input", "no input file given");
  if (o.output.empty()) fail("--output", "no output file given");
  Predictor p(m, o);
  // Written as OUTPUT.partial, synced and renamed at the end: an interrupted or failed run leaves
  // the previous OUTPUT as it was, never half a file under its name.
  // A device or pipe (/dev/null, a FIFO) is written directly.
  std::error_code ec;
  const bool special = o.output != "-" && std::filesystem::exists(o.output, ec) &&
                       !std::filesystem::is_regular_file(o.output, ec);
  const std::string partial = special ? "" : o.output + ".partial";
  std::FILE* out = o.output == "-" ? stdout
                   : special       ? std::fopen(o.output.c_str(), "wb")
                                   : std::fopen(partial.c_str(), "wb");
  if (!out) fail(o.output, "cannot open for writing", "check the folder exists and is writable");
  struct Closer {
    std::FILE* f;
    std::string partial;
    ~Closer() {
      if (f && f != stdout) {
        std::fclose(f);
        if (!partial.empty()) std::remove(partial.c_str());
      }
    }
  } closer{out, partial};

  PredictReport report;
  // The next chunk is read and tokenised while the model runs on the current one.
  std::future<Chunk> next = std::async(std::launch::async, [&p] { return p.read_chunk(); });
  for (;;) {
    Chunk c = next.get();
    if (!c.eof) next = std::async(std::launch::async, [&p] { return p.read_chunk(); });
    if (!c.records.empty()) {
      p.write(c, out);
      report.predicted += c.records.size();
    }
    if (c.eof) break;
  }
  if (std::fflush(out) != 0) fail(o.output, "cannot write (disk full?)");
  if (out != stdout && !special) {
    io::fsync_stream(out, partial);
    const bool closed = std::fclose(out) == 0;
    closer.f = nullptr;
    if (!closed) fail(partial, "cannot write (disk full?)");
    io::rename_durable(partial, o.output);
  }
  report.lines = p.lines_;
  report.skipped_empty = p.skipped_;
  if (p.skipped_ > 5) {
    log_warning(std::to_string(p.skipped_) + " empty lines skipped in all (the first 5 named)");
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace clintorch::eval
