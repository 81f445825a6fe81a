// Prediction on raw input, streamed: a chunk of lines is read and tokenised (on a second thread,
// while the model runs on the previous chunk), run through evaluate_task and written as JSONL,
// so memory does not grow with the input. What `clintorch predict` runs.
//
// Input, one document per line:
//   text   the line is the text (sequence classification: a TAB splits text and text_pair;
//          relation extraction: the text with its entity markers, e.g. "[E1]aspirin[/E1] ...
//          [E2]bleeding[/E2]", or BLUE-masked text with @GENE$/@DISEASE$)
//   jsonl  {"text": ..., "id": optional, "text_pair": optional}; QA: {"question", "context"}
// Output, one JSON object per non-empty input line, in input order: "id" (the input's id, else
// the line number), "line", and the head's fields (see docs/inference.md "Evaluate, predict,
// export"). Empty (or whitespace-only) lines are skipped with a warning naming the line.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "data/task_data.h"

#include "eval/inference.h"
#include "eval/task_eval.h"

namespace clintorch::eval {

struct PredictOptions {
  // Input file; "-" = standard input. Required.
  std::string input;
  // Output JSONL file; "-" = standard output. Required.
  std::string output;
  // "text", "jsonl" or "auto" (jsonl for .jsonl/.json files, else text). Default "auto".
  std::string format = "auto";
  // Lines read, tokenised and predicted at a time (bounds memory). Default 256.
  size_t chunk_lines = 256;
  // Tokens per window; 0 = min(512, the model's max_position_embeddings). Default 0.
  size_t max_seq_length = 0;
  // Tokens shared by consecutive windows of a long document; 0 = min(128, max_seq_length / 4).
  // Default 0.
  size_t doc_stride = 0;
  // Intra-op threads of the model (0 = LibTorch's default); set by the caller with
  // torch::set_num_threads. Tokenisation runs on one extra thread, overlapping the model.
  // Default 0.
  size_t threads = 0;
  // NER: add each entity's text (a slice of the input, which may hold PHI). Default false.
  bool include_text = false;
  // JSONL keys. Defaults "text", "text_pair", "id", "question", "context".
  std::string text_key = "text";
  std::string pair_key = "text_pair";
  std::string id_key = "id";
  std::string question_key = "question";
  std::string context_key = "context";
  // Batching, device, QA answer extraction, window aggregation (keep_predictions and
  // compute_metrics are set by predict).
  TaskEvalOptions eval;
};

struct PredictReport {
  size_t lines = 0;          // input lines read
  size_t predicted = 0;      // output records written
  size_t skipped_empty = 0;  // empty lines skipped
  double seconds = 0.0;
};

// One document to predict: what the task reads, and its id as the output record carries it (the
// input's id, else the line number).
struct PredictDocument {
  nlohmann::json id;
  data::RawInput input;
};

// The predict path on documents in memory: `predict_file` streams files through it and
// `clintorch serve` calls it on each batch of requests. Parsing and tokenising are const and may
// run on any thread; predict() runs the model.
class DocumentPredictor {
 public:
  // Throws Error when the model's head does not predict on raw text (MLM) or an option is bad.
  // `source` names the input in messages ("--input FILE", "request").
  DocumentPredictor(InferenceModel& model, const PredictOptions& options, std::string source);
  ~DocumentPredictor();
  DocumentPredictor(const DocumentPredictor&) = delete;
  DocumentPredictor& operator=(const DocumentPredictor&) = delete;

  // What a document holds: one text, a text and an optional pair, or a question and a context.
  data::RawLayout layout() const;
  // A document from a text line (a TAB splits text and text_pair for sequence tasks). QA needs
  // JSON. `line` numbers it (the default id).
  PredictDocument from_text(const std::string& text, size_t line) const;
  // A document from a JSON object with the keys of PredictOptions; throws Error naming `where`
  // and the key for a missing or mistyped field (never quoting the text).
  PredictDocument from_json(const nlohmann::json& value, const std::string& where,
                            size_t line) const;
  // The tokenised features (windows) of `docs`.
  std::shared_ptr<data::TaskDataset> features(const std::vector<PredictDocument>& docs) const;
  // One output record per document, in order: "id", "line" and the head's fields.
  std::vector<nlohmann::json> predict(const std::vector<PredictDocument>& docs,
                                      const data::TaskDataset& features) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends `from`'s examples and features to `into` (same task and labels), renumbering the
// features' examples: one dataset for several requests' documents.
void append_features(data::TaskDataset& into, const data::TaskDataset& from);

// Runs `model` over options.input and writes options.output. Throws Error with FILE:LINE for an
// input line that is not valid (not JSON, missing key, invalid UTF-8) — never quoting it.
PredictReport predict_file(InferenceModel& model, const PredictOptions& options);

}  // namespace clintorch::eval
