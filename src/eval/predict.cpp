#include "eval/predict.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>

#include "data/dataset.h"
#include "data/task_registry.h"
#include "data/text_io.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/log.h"

namespace clintorch::eval {

namespace {

using nlohmann::json;

// One input document.
struct Record {
  json id;               // the input's id, else the line number (as written to the output)
  data::RawInput input;  // what the task reads (input.id: `id` as a string)
};

struct Chunk {
  std::vector<Record> records;
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

class Predictor {
 public:
  Predictor(InferenceModel& m, const PredictOptions& o)
      : m_(m), o_(o), ops_(data::task_spec(m.task).data()) {
    const std::string in = o.input == "-" ? "/dev/stdin" : o.input;
    reader_.emplace(in);
    name_ = o.input == "-" ? "<stdin>" : o.input;
    jsonl_ =
        o.format == "jsonl" || (o.format == "auto" && (data::file_extension(o.input) == "jsonl" ||
                                                       data::file_extension(o.input) == "json"));
    if (o.format != "auto" && o.format != "text" && o.format != "jsonl") {
      fail("--format", "unknown input format '" + o.format + "'", "use text, jsonl or auto");
    }
    if (ops_.add_raw == nullptr) {
      fail(m.dir,
           "predict does not run " + (ops_.corpus ? std::string("masked-language") + " models"
                                                  : data::task_name(m.task) + " models"),
           "predict needs a fine-tuned task head (token/sequence classification, QA, RE)");
    }
    if (ops_.raw_layout == data::RawLayout::kQuestionContext && !jsonl_) {
      fail(name_, "question answering reads JSONL input ({\"question\", \"context\"})",
           "use --format jsonl");
    }
    const int64_t positions = m.model->config().max_position_embeddings;
    fo_.max_seq_length = o.max_seq_length ? o.max_seq_length
                                          : static_cast<size_t>(std::min<int64_t>(512, positions));
    if (static_cast<int64_t>(fo_.max_seq_length) > positions) {
      fail("--max-seq-length",
           std::to_string(fo_.max_seq_length) + " exceeds the model's " +
               std::to_string(positions) + " position embeddings",
           "use at most " + std::to_string(positions));
    }
    fo_.doc_stride = o.doc_stride ? o.doc_stride : std::min<size_t>(128, fo_.max_seq_length / 4);
    fo_.num_threads = 1;  // tokenisation overlaps the model on its own thread
    fo_.problem_type = m.problem_type;
    labels_ = data::LabelMap(m.labels);
    markers_ = m.model->head().options().entity_markers;
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
      c.records.push_back(parse(text, ln));
    }
    c.dataset = build(c.records);
    return c;
  }

  Record parse(const std::string& text, size_t ln) {
    Record r;
    data::RawInput& in = r.input;
    in.line = ln;
    r.id = ln;
    if (!jsonl_) {
      if (ops_.raw_layout == data::RawLayout::kTextPair) {
        const size_t tab = text.find('\t');
        if (tab != std::string::npos) {
          in.text = text.substr(0, tab);
          in.pair = text.substr(tab + 1);
          in.has_pair = true;
          in.id = std::to_string(ln);
          return r;
        }
      }
      in.text = text;
      in.id = std::to_string(ln);
      return r;
    }
    const std::string loc = data::where(name_, ln);
    const json v = data::parse_json(text, name_, ln);
    if (!v.is_object()) fail(loc, "expected a JSON object per line");
    if (const auto it = v.find(o_.id_key); it != v.end() && !it->is_null()) {
      if (!it->is_string() && !it->is_number_integer()) {
        fail(loc, "'" + o_.id_key + "' must be a string or an integer");
      }
      r.id = *it;
    }
    in.id = r.id.is_string() ? r.id.get<std::string>() : r.id.dump();
    if (ops_.raw_layout == data::RawLayout::kQuestionContext) {
      in.question = string_key(v, o_.question_key, loc, true);
      in.context = string_key(v, o_.context_key, loc, true);
      return r;
    }
    in.text = string_key(v, o_.text_key, loc, true);
    if (ops_.raw_layout == data::RawLayout::kTextPair) {
      if (v.contains(o_.pair_key) && !v[o_.pair_key].is_null()) {
        in.pair = string_key(v, o_.pair_key, loc, true);
        in.has_pair = true;
      }
    }
    return r;
  }

  std::shared_ptr<data::TaskDataset> build(const std::vector<Record>& records) {
    auto d = std::make_shared<data::TaskDataset>();
    d->task = m_.task;
    d->problem_type = m_.problem_type;
    d->path = name_;
    d->labels = labels_;
    d->labeled = false;
    for (const Record& r : records) ops_.add_raw(*d, r.input, *m_.tokenizer, markers_);
    data::build_features(*d, *m_.tokenizer, fo_, markers_);
    return d;
  }

  void write(const Chunk& c, const std::vector<json>& predictions, std::FILE* out) {
    if (predictions.size() != c.records.size()) {
      fail("predict", "internal: " + std::to_string(predictions.size()) + " predictions for " +
                          std::to_string(c.records.size()) + " documents");
    }
    std::string buffer;
    for (size_t i = 0; i < predictions.size(); ++i) {
      const Record& r = c.records[i];
      json j = json::object();
      j["id"] = r.id;
      j["line"] = r.input.line;
      for (const auto& [k, v] : predictions[i].items()) {
        if (k != "id" && k != "line") j[k] = v;
      }
      if (o_.include_text && j.contains("entities")) {  // NER
        const std::vector<uint32_t> cps = data::code_point_starts(r.input.text);
        for (auto& e : j["entities"]) {
          const size_t s = e["start"], t = e["end"];
          const uint32_t b = s < cps.size() ? cps[s] : static_cast<uint32_t>(r.input.text.size());
          const uint32_t f = t < cps.size() ? cps[t] : static_cast<uint32_t>(r.input.text.size());
          e["text"] = r.input.text.substr(b, f - b);
        }
      }
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
  InferenceModel& m_;
  const PredictOptions& o_;
  const data::TaskDataOps& ops_;
  std::optional<data::LineReader> reader_;
  std::string name_;
  bool jsonl_ = false;
  data::FeatureOptions fo_;
  data::LabelMap labels_;
  std::vector<std::string> markers_;
};

}  // namespace

PredictReport predict_file(InferenceModel& m, const PredictOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.input.empty()) fail("--input", "no input file given");
  if (o.output.empty()) fail("--output", "no output file given");
  Predictor p(m, o);
  std::FILE* out = o.output == "-" ? stdout : std::fopen(o.output.c_str(), "wb");
  if (!out) fail(o.output, "cannot open for writing", "check the folder exists and is writable");
  struct Closer {
    std::FILE* f;
    ~Closer() {
      if (f && f != stdout) std::fclose(f);
    }
  } closer{out};

  TaskEvalOptions eo = o.eval;
  eo.keep_predictions = true;
  eo.compute_metrics = false;
  PredictReport report;
  // The next chunk is read and tokenised while the model runs on the current one.
  std::future<Chunk> next = std::async(std::launch::async, [&p] { return p.read_chunk(); });
  for (;;) {
    Chunk c = next.get();
    if (!c.eof) next = std::async(std::launch::async, [&p] { return p.read_chunk(); });
    if (!c.records.empty()) {
      TaskEvalResult r = evaluate_task(m.model, *c.dataset, eo);
      p.write(c, r.predictions, out);
      report.predicted += c.records.size();
    }
    if (c.eof) break;
  }
  if (std::fflush(out) != 0) fail(o.output, "cannot write (disk full?)");
  report.lines = p.lines_;
  report.skipped_empty = p.skipped_;
  if (p.skipped_ > 5) {
    log_warning(std::to_string(p.skipped_) + " empty lines skipped in all (the first 5 named)");
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace clintorch::eval
