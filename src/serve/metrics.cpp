#include "serve/metrics.h"

#include <cstdio>

namespace clintorch::serve {

namespace {

template <size_t N, typename H>
void observe(H& h, const std::array<double, N>& bounds, double value) {
  size_t i = 0;
  while (i < N && value > bounds[i]) ++i;
  ++h.counts[i];
  h.sum += value;
  ++h.count;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

template <size_t N, typename H>
void write_histogram(std::string& out, const std::string& name, const std::string& labels,
                     const H& h, const std::array<double, N>& bounds) {
  uint64_t cumulative = 0;
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < N; ++i) {
    cumulative += h.counts[i];
    out += name + "_bucket{" + labels + sep + "le=\"" + number(bounds[i]) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  cumulative += h.counts[N];
  out += name + "_bucket{" + labels + sep + "le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum{" + labels + "} " + number(h.sum) + "\n";
  out += name + "_count{" + labels + "} " + std::to_string(h.count) + "\n";
}

}  // namespace

void Metrics::request(const std::string& model, const std::string& endpoint, int status,
                      double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{model, endpoint, status}];
  observe(latency_[{model, endpoint}], kLatency, seconds);
}

void Metrics::batch(const std::string& model, size_t documents, size_t tokens, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  observe(batch_docs_[model], kBatch, static_cast<double>(documents));
  tokens_[model] += tokens;
  forward_seconds_[model] += seconds;
}

void Metrics::queue_depth(const std::string& model, size_t depth) {
  std::lock_guard<std::mutex> lock(mutex_);
  queue_[model] = depth;
}

std::string Metrics::render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP clintorch_requests_total Requests answered, by model, endpoint and status.\n";
  out += "# TYPE clintorch_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [model, endpoint, status] = key;
    out += "clintorch_requests_total{model=\"" + model + "\",endpoint=\"" + endpoint +
           "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP clintorch_request_seconds Request latency, from the body read to the answer.\n";
  out += "# TYPE clintorch_request_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    write_histogram(out, "clintorch_request_seconds",
                    "model=\"" + key.first + "\",endpoint=\"" + key.second + "\"", h, kLatency);
  }
  out += "# HELP clintorch_batch_documents Documents per forward batch.\n";
  out += "# TYPE clintorch_batch_documents histogram\n";
  for (const auto& [model, h] : batch_docs_) {
    write_histogram(out, "clintorch_batch_documents", "model=\"" + model + "\"", h, kBatch);
  }
  out += "# HELP clintorch_tokens_total Tokens run through the model (tokens/s: its rate).\n";
  out += "# TYPE clintorch_tokens_total counter\n";
  for (const auto& [model, n] : tokens_) {
    out += "clintorch_tokens_total{model=\"" + model + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP clintorch_forward_seconds_total Time spent in batches of the model.\n";
  out += "# TYPE clintorch_forward_seconds_total counter\n";
  for (const auto& [model, s] : forward_seconds_) {
    out += "clintorch_forward_seconds_total{model=\"" + model + "\"} " + number(s) + "\n";
  }
  out += "# HELP clintorch_queue_documents Documents waiting for a batch.\n";
  out += "# TYPE clintorch_queue_documents gauge\n";
  for (const auto& [model, n] : queue_) {
    out += "clintorch_queue_documents{model=\"" + model + "\"} " + std::to_string(n) + "\n";
  }
  return out;
}

}  // namespace clintorch::serve
