// `clintorch serve`: an HTTP/JSON inference server for exported models (cpp-httplib from
// Debian's libcpp-httplib-dev), with dynamic batching across connections (serve/models.h).
//
//   GET  /health                      200 while the process runs
//   GET  /ready                       200 once every model is loaded, 503 while shutting down
//   GET  /v1/models                   the models, their tasks, labels and endpoints
//   POST /v1/models/{name}/predict    {"inputs": [...]} -> {"predictions": [...]} (predict's
//   records) POST /v1/models/{name}/embed      {"inputs": [...], "normalize": bool} ->
//   {"embeddings": ...} GET  /metrics                     Prometheus text format
//
// Errors are JSON {"error": {"message", "field"}} with 400 (bad body), 401 (API key), 404
// (unknown model or path), 413 (too large), 503 (queue full, shutting down; Retry-After: 1).
// Request text never reaches a log: the access log holds method, path, status, sizes and
// latency. SIGTERM/SIGINT: stop accepting, answer what is in flight, exit 0.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "serve/models.h"

namespace clintorch::serve {

struct ServeOptions {
  // (name, directory) of each model; a model given without a name is called "default".
  std::vector<std::pair<std::string, std::string>> models;
  // Address and port (0: any free port; the one taken is logged). Defaults 127.0.0.1:8080.
  std::string host = "127.0.0.1";
  int port = 8080;
  // Threads reading requests (and tokenising them); an open keep-alive connection holds one
  // while it waits, so this bounds the clients served at once. Default 64.
  size_t http_threads = 64;
  // Largest request body (413 beyond) and the longest wait for a body's bytes (slow clients are
  // cut off). Defaults 4 MiB and 10 s.
  size_t max_body_bytes = 4 << 20;
  int read_timeout_s = 10;
  // File holding the API key that requests must send as "Authorization: Bearer KEY" ("" = no
  // key). /health and /ready need none.
  std::string api_key_file;
  // Access log lines on stderr. Default true.
  bool access_log = true;
  ModelOptions model;
};

// Loads the models, serves until SIGTERM or SIGINT, and returns the exit code (0 after a
// graceful stop). Throws clintorch::Error when a model cannot be loaded or the address cannot be
// bound.
int serve(const ServeOptions& options);

}  // namespace clintorch::serve
