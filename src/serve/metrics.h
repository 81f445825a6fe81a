// The counters behind GET /metrics, in Prometheus' text exposition format: requests by model,
// endpoint and status, request latency and batch size histograms, queue depth and tokens.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace clintorch::serve {

class Metrics {
 public:
  void request(const std::string& model, const std::string& endpoint, int status, double seconds);
  void batch(const std::string& model, size_t documents, size_t tokens, double seconds);
  void queue_depth(const std::string& model, size_t depth);
  // The exposition text.
  std::string render() const;

 private:
  static constexpr std::array<double, 12> kLatency = {0.005, 0.01, 0.025, 0.05, 0.1,  0.25,
                                                      0.5,   1.0,  2.5,   5.0,  10.0, 30.0};
  static constexpr std::array<double, 9> kBatch = {1, 2, 4, 8, 16, 32, 64, 128, 256};
  struct Histogram {
    std::array<uint64_t, 13> counts{};  // one per bound, then +Inf
    double sum = 0.0;
    uint64_t count = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::map<std::string, Histogram> batch_docs_;
  std::map<std::string, uint64_t> tokens_;
  std::map<std::string, double> forward_seconds_;
  std::map<std::string, size_t> queue_;
};

}  // namespace clintorch::serve
