// The models `clintorch serve` holds, each with one worker thread that forms batches from the
// requests of every connection (dynamic batching) and runs the forward pass.
//
// A request's documents are parsed and tokenised on the HTTP thread that received it
// (submit_predict), queued, and merged with the other queued requests into one dataset of up to
// max_batch_tokens tokens (waiting up to max_wait_ms after the first, and only while other
// requests are still being read: a lone request at idle runs at once) for the predict path
// (eval::DocumentPredictor), so each request gets exactly what `clintorch predict` writes for
// its documents. Embedding requests are batched the same way through infer::Embedder.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "serve/metrics.h"

namespace clintorch::serve {

struct ModelOptions {
  // Tokens per batch (the windows' tokens, padding excluded) and the longest wait for more
  // requests after the first. Defaults 8192 and 5 ms.
  size_t max_batch_tokens = 8192;
  int max_wait_ms = 5;
  // Documents waiting per model beyond which requests are refused (503). Default 4096.
  size_t max_queue = 4096;
  // "auto" (bf16 where the CPU multiplies it natively), "fp32" or "bf16". Default "auto".
  std::string dtype = "auto";
  // Device name as --device takes it. Default "cpu".
  std::string device = "cpu";
  // Bytes of text one request may carry (413 beyond). Default 1 MiB.
  size_t max_text_bytes = 1 << 20;
  // Embedding endpoints: pooling (cls, mean, max). Default "mean".
  std::string pooling = "mean";
};

// A request the server cannot take: the HTTP status and a message (never quoting input text);
// `field` names the JSON field at fault, when one is.
struct RequestError {
  int status = 400;
  std::string message;
  std::string field;
};

class ServedModel {
 public:
  // Loads DIR: a model with a task head serves predict (and embed from its encoder); a bare
  // encoder serves embed only. Starts the worker thread.
  ServedModel(std::string name, const std::string& dir, const ModelOptions& options,
              std::shared_ptr<Metrics> metrics);
  ~ServedModel();
  ServedModel(const ServedModel&) = delete;
  ServedModel& operator=(const ServedModel&) = delete;

  const std::string& name() const;
  // {"name", "dir", "task", "labels", "endpoints", "dtype", ...} for GET /v1/models.
  nlohmann::json describe() const;

  // The body of POST .../predict: {"inputs": [text or object, ...]} or one document ({"text":
  // ...} / {"question", "context"}). Throws RequestError (400 for bad fields, 404 when the
  // model has no task head, 503 when the queue is full). The future yields one record per
  // document, as `clintorch predict` writes them.
  std::future<nlohmann::json> submit_predict(const nlohmann::json& body);
  // The body of POST .../embed: {"inputs": [text, ...]} or {"text": ...}, optional "normalize"
  // (bool) and "pooling" (must be the server's). The future yields {"embeddings": [[...]],
  // "dim"}.
  std::future<nlohmann::json> submit_embed(const nlohmann::json& body);

  // Stops taking requests, finishes the queued ones and joins the worker.
  void drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clintorch::serve
